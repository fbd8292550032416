// Verdicts (contract section 5): a closed list, in root-cause-first order,
// with one name table. Adding one: a value and a row here, a check in
// src/judge/checks/ and its row in src/judge/judge.cpp (docs/adding-a-verdict.md).
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace xph::harness {

enum class Verdict { TransportBroken, Hang, Crash, Lost, Mismatch, RetryPolicy, Vacuous, Pass };

struct VerdictRow {
  Verdict verdict;
  std::string_view name;
};

// Contract order: root cause first. A verdict missing here has no name.
inline constexpr std::array<VerdictRow, 8> kVerdicts{{
    {Verdict::TransportBroken, "TRANSPORT_BROKEN"},
    {Verdict::Hang, "HANG"},
    {Verdict::Crash, "CRASH"},
    {Verdict::Lost, "LOST"},
    {Verdict::Mismatch, "MISMATCH"},
    {Verdict::RetryPolicy, "RETRY_POLICY"},
    {Verdict::Vacuous, "VACUOUS"},
    {Verdict::Pass, "PASS"},
}};
static_assert(kVerdicts.back().verdict == Verdict::Pass, "PASS is the last verdict: the one that holds when none does");

std::string_view name(Verdict);
std::optional<Verdict> verdict_from_name(std::string_view);
std::string verdict_names();  // "TRANSPORT_BROKEN, HANG, ..." for messages

// Which way a value failed to cross a process boundary.
enum class Side { Send, Receive };
std::string_view name(Side);  // "send": could not be serialised; "receive": could not be rebuilt

// One thing the oracle saw. `attempt` is a PROBE#I id, PROBE#* or "" for the run.
struct Finding {
  Verdict verdict = Verdict::Pass;
  std::string attempt;
  std::string expected;
  std::string seen;
  std::string note;  // e.g. the stderr line it came from
  std::optional<Side> side;  // TRANSPORT_BROKEN, when known
  bool starved = false;      // what a client starved of a core past its timeout does too

  std::string detail() const;  // one line: expected ... ; seen ... (note)
  bool operator==(const Finding&) const = default;
};
void to_json(nlohmann::json&, const Finding&);

struct Judgement {
  Verdict primary = Verdict::Pass;
  std::vector<Finding> findings;   // every finding, the primary's first
  std::vector<std::string> flags;  // ORDER_DEPENDENT
};

// Primary = the first verdict in contract order that any finding holds.
Judgement conclude(std::vector<Finding> findings);

// Two failures are the same bug when they share a verdict and, for a broken
// transport, the side that broke: "TRANSPORT_BROKEN (send)". Judging by the
// verdict alone took a #659 case (a task that cannot be sent) for the 4xx bug
// (an exception that cannot be received).
std::string signature(const Judgement&);

}  // namespace xph::harness
