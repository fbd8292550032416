#include "xph/harness/model/verdict.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>

namespace xph::harness {

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

std::string_view name(Side s) { return s == Side::Send ? "send" : "receive"; }

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
       {"seen", f.seen},
       {"note", f.note}};
  if (f.side) j["side"] = name(*f.side);
}

std::string signature(const Judgement& j) {
  std::string out(name(j.primary));
  if (j.primary != Verdict::TransportBroken) return out;
  for (Side side : {Side::Receive, Side::Send})
    if (std::any_of(j.findings.begin(), j.findings.end(),
                    [&](const Finding& f) { return f.verdict == Verdict::TransportBroken && f.side == side; }))
      out += " (" + std::string(name(side)) + ")";
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
