// What the DSL (script.cpp) and the JSON forms (script_json.cpp) both
// accept: one home, so the two parsers cannot drift apart.
#pragma once

#include <string>

#include "xph/mock/step_kinds.hpp"

namespace xph::mock::limits {

inline constexpr int kMaxCount = 10'000;
inline constexpr int kMaxChunks = 10'000;
inline constexpr double kMaxSeconds = 3600;

inline bool valid_status(int s) { return (s >= 200 && s <= 299) || (s >= 400 && s <= 599); }

// Every step word but a status, with its argument's form: what an error
// message offers instead.
inline std::string step_words() {
  std::string out;
  for (const auto& row : step_kinds()) {
    if (row.kind == StepKind::Status) continue;
    if (!out.empty()) out += ", ";
    out += row.name;
    if (row.arg == StepArg::Seconds) out += "@SECONDS";
    if (row.arg == StepArg::Chunks) out += ":CHUNKS";
  }
  return out;
}

}  // namespace xph::mock::limits
