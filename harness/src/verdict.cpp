#include "xph/harness/verdict.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>

namespace xph::harness {
namespace {

struct VerdictRow {
  Verdict verdict;
  std::string_view name;
};

// Contract order: root cause first.
constexpr VerdictRow kVerdicts[] = {
    {Verdict::TransportBroken, "TRANSPORT_BROKEN"}, {Verdict::Hang, "HANG"},
    {Verdict::Crash, "CRASH"},                      {Verdict::Lost, "LOST"},
    {Verdict::Mismatch, "MISMATCH"},                {Verdict::RetryPolicy, "RETRY_POLICY"},
    {Verdict::Vacuous, "VACUOUS"},                  {Verdict::Pass, "PASS"},
};

}  // namespace

std::string_view name(Verdict v) {
  for (const auto& row : kVerdicts)
    if (row.verdict == v) return row.name;
  return "?";
}

std::optional<Verdict> verdict_from_name(std::string_view s) {
  for (const auto& row : kVerdicts)
    if (row.name == s) return row.verdict;
  return std::nullopt;
}

std::string verdict_names() {
  std::string out;
  for (const auto& row : kVerdicts) out += (out.empty() ? "" : ", ") + std::string(row.name);
  return out;
}

std::string Finding::detail() const {
  std::string out;
  if (!expected.empty()) out += "expected " + expected;
  if (!seen.empty()) out += (out.empty() ? "" : "; ") + std::string("seen ") + seen;
  if (!note.empty()) out += (out.empty() ? "" : " | ") + note;
  return out;
}

void to_json(nlohmann::json& j, const Finding& f) {
  j = {{"verdict", name(f.verdict)},
       {"attempt", f.attempt.empty() ? nlohmann::json(nullptr) : nlohmann::json(f.attempt)},
       {"detail", f.detail()},
       {"expected", f.expected},
       {"seen", f.seen}};
}

std::string signature(const Judgement& j) {
  bool send = false, receive = false;
  for (const auto& f : j.findings)
    if (f.verdict == Verdict::TransportBroken) {
      send = send || f.side == "send";
      receive = receive || f.side == "receive";
    }
  std::string out(name(j.primary));
  if (j.primary != Verdict::TransportBroken) return out;
  if (receive) out += " (receive)";
  if (send) out += " (send)";
  return out;
}

Judgement conclude(std::vector<Finding> findings) {
  std::stable_sort(findings.begin(), findings.end(),
                   [](const Finding& a, const Finding& b) { return a.verdict < b.verdict; });
  Judgement j;
  j.primary = findings.empty() ? Verdict::Pass : findings.front().verdict;
  j.findings = std::move(findings);
  return j;
}

}  // namespace xph::harness
