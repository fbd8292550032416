// CRASH: the SUT died or exited non-zero without a whole result, failed in
// its own machinery (not at the boundary), or its result breaks the protocol.
#include <set>
#include <sstream>

#include "../checks.hpp"
#include "xph/harness/model/boundary.hpp"

namespace xph::harness::oracle {
namespace {

// What a dying program said last is usually why it died.
std::string last_line(const std::string& text) {
  std::istringstream in(text);
  std::string last;
  for (std::string line; std::getline(in, line);) {
    line = printable_line(line);
    if (line.find_first_not_of(" \t") != std::string::npos) last = line;
  }
  if (last.size() > 300) last = last.substr(0, 300) + "...";
  return last.empty() ? "" : "stderr: " + last;
}

std::string how_it_ended(const CaseRun& run) {
  return run.signal ? "killed by signal " + std::to_string(*run.signal)
                    : "exit code " + std::to_string(run.exit_code.value_or(-1));
}

void ending(const CaseRun& run, Findings& findings) {
  if (run.end != RunEnd::Exited) return;
  if (!run.start_problem.empty())
    findings.push_back({Verdict::Crash, "", "a whole result and exit 0", run.start_problem, last_line(run.stderr_text)});
  else if (!run.result)
    findings.push_back({Verdict::Crash, "", "a whole result and exit 0",
                        how_it_ended(run) + ", " + run.result_problem, last_line(run.stderr_text)});
  else if (run.exit_code != 0)
    findings.push_back({Verdict::Crash, "", "exit 0 after writing the result",
                        run.signal ? "signal " + std::to_string(*run.signal)
                                   : "exit code " + std::to_string(run.exit_code.value_or(-1)),
                        ""});
}

// Ids the spec does not have, a second outcome for one, the wrong probe.
void protocol(const Evidence& ev, Findings& findings) {
  std::set<std::string> ids, seen;
  for (const auto& a : ev.attempts) ids.insert(a.id);
  for (const auto& o : ev.run.result->attempts) {
    if (!ids.count(o.id)) {
      findings.push_back({Verdict::Crash, o.id, "only attempt ids of the spec", "an outcome for unknown id " + o.id,
                          "result breaks the protocol"});
      continue;
    }
    if (!seen.insert(o.id).second)
      findings.push_back(
          {Verdict::Crash, o.id, "one outcome per attempt", "a second outcome", "result breaks the protocol"});
  }
  for (const auto& a : ev.attempts)
    if (a.outcome && a.outcome->probe != a.probe)
      findings.push_back(
          {Verdict::Crash, a.id, "probe " + a.probe, "probe " + a.outcome->probe, "result breaks the protocol"});
}

}  // namespace

void crash(const Evidence& ev, Findings& findings) {
  ending(ev.run, findings);
  if (!ev.run.result) return;
  for (const auto& f : ev.run.result->failures)
    if (f.stage != Stage::Dispatch && f.stage != Stage::Result && !failure_boundary(f))
      findings.push_back({Verdict::Crash, f.probe.empty() ? "" : f.probe + "#*", "no failure in the SUT's machinery",
                          std::string(name(f.stage)) + " failure: " + f.message, ""});
  protocol(ev, findings);
}

}  // namespace xph::harness::oracle
