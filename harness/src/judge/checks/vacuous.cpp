// VACUOUS: a pooled probe (attempts > 1, parallel_attempts > 1) whose every
// call came from the parent tested no boundary.
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
    if (!pids.empty() && pids == std::set<long>{ev.run.sut_pid})
      findings.push_back({Verdict::Vacuous, p.name + "#*",
                          "calls from pool worker processes (parallel_attempts " + std::to_string(parallel) + ")",
                          "every attempt reported from pid " + std::to_string(ev.run.sut_pid) + ", the SUT's own process",
                          "threads of one process (a thread pool, Node's worker_threads) cross no process boundary"});
  }
}

}  // namespace xph::harness::oracle
