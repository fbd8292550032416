// The harness's own failures, kept apart from a SUT's verdicts: neither is
// ever a verdict, each is one line and an exit code (contract section 1).
#pragma once

#include <stdexcept>

namespace xph::harness {

// Bad input from the user: one line naming file, field and problem; exit 2.
class InputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A failure of the environment (a folder that cannot be made, a report that
// cannot be written): one line naming the path and the system's reason; exit 3.
class EnvError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace xph::harness
