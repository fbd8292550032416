// Verdicts (contract section 5): a closed list, in root-cause-first order.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace xph::harness {

enum class Verdict { TransportBroken, Hang, Crash, Lost, Mismatch, RetryPolicy, Vacuous, Pass };

std::string_view name(Verdict);
std::optional<Verdict> verdict_from_name(std::string_view);
std::string verdict_names();  // "TRANSPORT_BROKEN, HANG, ..." for messages

// One thing the oracle saw. `attempt` is a PROBE#I id, or "" for the run.
struct Finding {
  Verdict verdict = Verdict::Pass;
  std::string attempt;
  std::string expected;
  std::string seen;
  std::string note;  // e.g. the stderr line it came from
  std::string side;  // TRANSPORT_BROKEN: "send" (could not be serialised) or "receive", when known

  std::string detail() const;  // one line: expected ... ; seen ... (note)
  bool operator==(const Finding&) const = default;
};
void to_json(nlohmann::json&, const Finding&);

struct Judgement {
  Verdict primary = Verdict::Pass;
  std::vector<Finding> findings;  // every finding, the primary's first
  std::vector<std::string> flags; // ORDER_DEPENDENT
};

// Primary = the first verdict in contract order that any finding holds.
Judgement conclude(std::vector<Finding> findings);

// Two failures are the same bug when they share a verdict and, for a broken
// transport, the side that broke: "TRANSPORT_BROKEN (send)". Judging by the
// verdict alone took a #659 case (a task that cannot be sent) for the 4xx bug
// (an exception that cannot be received).
std::string signature(const Judgement&);

}  // namespace xph::harness
