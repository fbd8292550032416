#include "matrix_table.hpp"

#include <algorithm>
#include <iomanip>
#include <map>
#include <sstream>

namespace xph::harness {

std::string matrix_table(const std::vector<Scenario>& scenarios, const std::vector<std::string>& suts,
                         const std::vector<CaseReport>& cases) {
  std::map<std::pair<std::string, std::string>, std::pair<Verdict, bool>> cell;  // worst verdict, all met
  for (const auto& c : cases) {
    auto [it, fresh] = cell.try_emplace({c.scenario, c.sut}, c.verdict, c.met);
    if (!fresh) {
      it->second.first = std::min(it->second.first, c.verdict);
      it->second.second = it->second.second && c.met;
    }
  }
  std::size_t w = 10;
  for (const auto& s : scenarios) w = std::max(w, s.name.size());
  std::vector<int> widths;
  for (const auto& sut : suts) widths.push_back(static_cast<int>(std::max<std::size_t>(16, sut.size())));
  std::ostringstream out;
  out << '\n' << std::left << std::setw(static_cast<int>(w)) << "scenario";
  for (std::size_t i = 0; i < suts.size(); ++i) out << "  " << std::setw(widths[i]) << suts[i];
  out << '\n';
  for (const auto& s : scenarios) {
    if (std::none_of(cases.begin(), cases.end(), [&](const CaseReport& c) { return c.scenario == s.name; }))
      continue;  // --filter left it out
    out << std::setw(static_cast<int>(w)) << s.name;
    for (std::size_t i = 0; i < suts.size(); ++i) {
      const auto it = cell.find({s.name, suts[i]});
      const std::string text =
          it == cell.end() ? "-" : std::string(name(it->second.first)) + (it->second.second ? "" : " !");
      out << "  " << std::setw(widths[i]) << text;
    }
    out << '\n';
  }
  out << "\nA cell is the worst verdict over the scenario's cases; '!' marks a scenario where some case did not\n"
         "meet its expectation (the lines above say which, and how to replay it).\n";
  return out.str();
}

}  // namespace xph::harness
