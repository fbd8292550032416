// HANG: the case ran past its bound, or sat idle with no result; its whole
// process group was killed.
#include <sstream>

#include "../checks.hpp"

namespace xph::harness::oracle {

void hang(const Evidence& ev, Findings& findings) {
  const CaseRun& run = ev.run;
  if (run.end == RunEnd::Exited) return;
  std::ostringstream seen;
  if (!run.start_problem.empty())
    seen << run.start_problem;
  else if (run.end == RunEnd::TimedOut && run.result)
    seen << "its result written, it did not exit within timeout_s " << ev.c.scenario->timeout_s << " s";
  else if (run.end == RunEnd::TimedOut)
    seen << "no result within timeout_s " << ev.c.scenario->timeout_s << " s";
  else if (run.end == RunEnd::Stuck)
    seen << "stuck for good after " << shown_s(run.seconds) << " s: every thread waited with no timeout on what only its "
         << "process group could end (" << run.stuck_what << "), none ran, no request in flight, no result";
  else
    seen << "idle for " << shown_s(run.idle_bound_s) << " s (no requests, no CPU) with no result, after "
         << shown_s(run.seconds) << " s";
  if (run.end == RunEnd::TimedOut && run.waited_for_cores_s >= 0.05)
    seen << " (of the " << shown_s(run.seconds) << " s it ran, " << shown_s(run.waited_for_cores_s)
         << " s waiting for a core on a busy machine did not count)";
  // Past the most waiting may add, the machine decided, not the SUT.
  if (run.end == RunEnd::TimedOut && run.start_problem.empty() &&
      run.waited_for_cores_s >= 0.999 * kMaxCoreWaitStretch * ev.c.scenario->timeout_s)
    seen << "; that is the most xph allows (" << kMaxCoreWaitStretch
         << "x timeout_s): the machine starved it, so replay it on a quieter one before believing it";
  // Where the SUT was when it stopped: the server's last error answer to
  // it (the one a boundary could not carry, the one retried for ever), or
  // its last answer when all were successes.
  std::string note = "the process group was killed";
  const mock::JournalEntry *last = nullptr, *last_error = nullptr;
  for (const auto& e : run.journal) {
    if (!e.key || !e.k || !e.step) continue;
    if (!last || e.seq >= last->seq) last = &e;
    if ((!e.status || *e.status >= 400) && (!last_error || e.seq >= last_error->seq)) last_error = &e;
  }
  if (const auto* e = last_error ? last_error : last)
    note += std::string("; the server's last ") + (last_error ? "error " : "") + "answer: " + *e->key + " request " +
            std::to_string(*e->k) + ", " + mock::to_string(*e->step) + " (request_id " + e->request_id + ")";
  findings.push_back({Verdict::Hang, "", "a result", seen.str(), note});
}

}  // namespace xph::harness::oracle
