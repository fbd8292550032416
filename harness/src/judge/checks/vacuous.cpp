// VACUOUS: a pooled probe (attempts > 1, parallel_attempts > 1) whose every
// call came from the SUT's own process (the result's writer, or behind any
// wrapper the process xph started) tested no boundary.
#include <algorithm>
#include <set>

#include "../checks.hpp"

namespace xph::harness::oracle {

void vacuous(const Evidence& ev, Findings& findings) {
  const int parallel = ev.c.scenario->parallel_attempts;
  if (!ev.run.result || parallel < 2) return;
  for (const auto& p : ev.c.probes) {
    if (p.attempts < 2) continue;
    // A boundary the SUT reported breaking for this probe was there.
    const bool broke = std::any_of(ev.run.result->failures.begin(), ev.run.result->failures.end(),
                                   [&](const SutFailure& f) {
                                     return f.probe == p.name && (f.stage == Stage::Dispatch ||
                                                                  f.stage == Stage::Result || failure_boundary(f));
                                   });
    if (broke) continue;
    std::set<long> pids;
    int reported = 0;
    for (const auto& a : ev.attempts)
      if (a.probe == p.name && a.outcome) {
        pids.insert(a.outcome->pid);
        ++reported;
      }
    // One outcome, the rest lost, shows no more than where that one was made.
    if (pids.size() != 1 || reported < 2) continue;
    const long pid = *pids.begin();
    // The SUT's own process: the one that wrote the result, when the result
    // says; else the one xph started or, behind a wrapper (`sh -c`), the
    // child the wrapper only waited for.
    const auto& writer = ev.run.result->pid;
    const auto& own = ev.run.own_pids;
    const bool wrapped = !writer && pid != ev.run.sut_pid && std::find(own.begin(), own.end(), pid) != own.end();
    const bool from_own = writer ? pid == *writer : pid == ev.run.sut_pid || wrapped;
    if (!from_own) continue;
    findings.push_back({Verdict::Vacuous, p.name + "#*",
                        "calls from pool worker processes (parallel_attempts " + std::to_string(parallel) + ")",
                        (reported == p.attempts ? std::string("every attempt")
                                                : "every attempt with an outcome (" + std::to_string(reported) +
                                                      " of " + std::to_string(p.attempts) + ")") +
                            " reported from pid " + std::to_string(pid) +
                            (writer ? ", the process that wrote the result" : ", the SUT's own process") +
                            (wrapped ? " (started by " + ev.run.wrapped_by + ", which only waited for it)" : ""),
                        wrapped ? "if that process read its results (a probe per child), write the result's pid: the "
                                  "process that wrote it (docs/writing-a-sut.md, section 8)"
                                : "threads of one process (a thread pool, Node's worker_threads) cross no process "
                                  "boundary"});
  }
}

}  // namespace xph::harness::oracle
