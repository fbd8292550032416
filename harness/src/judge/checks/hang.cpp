// HANG: the case ran past its bound, or sat idle with no result; its whole
// process group was killed.
#include <algorithm>
#include <map>
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
  // it that nothing followed for its attempt (the one a boundary could not
  // carry, the one retried for ever: a 500 retried into a 200 since is not
  // it), else its last error answer, else its last answer.
  std::string note = "the process group was killed";
  std::map<std::string, std::uint64_t> key_last;  // each attempt key's last request
  for (const auto& e : run.journal)
    if (e.key && e.k && e.step) key_last[*e.key] = std::max(key_last[*e.key], e.seq);
  const mock::JournalEntry *last = nullptr, *last_error = nullptr, *final_error = nullptr;
  for (const auto& e : run.journal) {
    if (!e.key || !e.k || !e.step) continue;
    if (!last || e.seq >= last->seq) last = &e;
    if (e.status && *e.status < 400) continue;
    if (!last_error || e.seq >= last_error->seq) last_error = &e;
    if (e.seq == key_last[*e.key] && (!final_error || e.seq >= final_error->seq)) final_error = &e;
  }
  const mock::JournalEntry* named = final_error ? final_error : last_error ? last_error : last;
  if (named)
    note += std::string("; the server's last ") + (last_error ? "error " : "") + "answer" +
            (named == final_error && final_error != last_error ? " that ended its attempt" : "") + ": " +
            *named->key + " request " + std::to_string(*named->k) + ", " + mock::to_string(*named->step) +
            " (request_id " + named->request_id + ")";
  findings.push_back({Verdict::Hang, "", "a result", seen.str(), note});
}

}  // namespace xph::harness::oracle
