// Small pieces the generator and the shrinker build cases from: one home,
// so a shrunk case is made of what a generated one is.
#pragma once

#include <optional>
#include <string>

#include "xph/harness/model/scenario.hpp"
#include "xph/mock/step.hpp"

namespace xph::harness::fuzz_parts {

inline mock::Step status(int s, std::optional<std::string> code = {}, std::optional<double> after = {}) {
  return mock::Step{mock::StepKind::Status, s, std::move(code), after};
}

inline std::string key(const std::string& probe, int i) { return probe + "#" + std::to_string(i); }

// The fuzzer's own retry policy (fast backoff), with these tries.
inline RetryPolicy fuzz_retry(std::optional<int> tries) {
  RetryPolicy p;
  p.max_tries = tries;
  p.max_delay_s = 0.01;
  return p;
}

}  // namespace xph::harness::fuzz_parts
