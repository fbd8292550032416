// VACUOUS: a pooled probe (attempts > 1, parallel_attempts > 1) whose every
// call came from the SUT's own process (behind any wrapper) tested no
// boundary.
#include <algorithm>
#include <set>

#include "../checks.hpp"

namespace xph::harness::oracle {

void vacuous(const Evidence& ev, Findings& findings) {
  const int parallel = ev.c.scenario->parallel_attempts;
  if (!ev.run.result || parallel < 2) return;
  for (const auto& p : ev.c.probes) {
    if (p.attempts < 2) continue;
    std::set<long> pids;
    for (const auto& a : ev.attempts)
      if (a.probe == p.name && a.outcome) pids.insert(a.outcome->pid);
    if (pids.size() != 1) continue;
    const long pid = *pids.begin();
    // Behind a wrapper (`sh -c`), the SUT's own process is the wrapper's child.
    const auto& own = ev.run.own_pids;
    const bool wrapped = pid != ev.run.sut_pid && std::find(own.begin(), own.end(), pid) != own.end();
    if (pid != ev.run.sut_pid && !wrapped) continue;
    findings.push_back({Verdict::Vacuous, p.name + "#*",
                        "calls from pool worker processes (parallel_attempts " + std::to_string(parallel) + ")",
                        "every attempt reported from pid " + std::to_string(pid) + ", the SUT's own process" +
                            (wrapped ? " (started by " + ev.run.wrapped_by + ", which only waited for it)" : ""),
                        "threads of one process (a thread pool, Node's worker_threads) cross no process boundary"});
  }
}

}  // namespace xph::harness::oracle
