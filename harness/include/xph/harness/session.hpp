// Runs scenarios x SUTs side by side on one embedded server, judges each
// case, and tells the reporters.
#pragma once

#include <string>
#include <vector>

#include "xph/harness/report.hpp"
#include "xph/harness/runner.hpp"
#include "xph/harness/scenario.hpp"

namespace xph::harness {

struct SutChoice {
  SutCommand command;
  std::string replay_args;  // how the replay line selects this SUT
};

struct SessionOptions {
  int jobs = 2;
  std::string filter = "*";     // glob over case ids
  std::string program = "xph";  // as invoked, for replay lines
};

RunSummary run_session(const std::vector<Scenario>&, const std::vector<SutChoice>&, const SessionOptions&,
                       Reporter&);

// Quotes a word for a POSIX shell only when it needs it.
std::string shell_quote(const std::string&);

}  // namespace xph::harness
