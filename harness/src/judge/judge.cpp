#include "xph/harness/judge/judge.hpp"

#include <sstream>

#include "checks.hpp"

namespace xph::harness {

namespace {

using Check = void (*)(const oracle::Evidence&, oracle::Findings&);

// Contract order, as kVerdicts; conclude() sorts the findings all the same.
constexpr Check kChecks[] = {oracle::transport_broken, oracle::hang,         oracle::crash,  oracle::lost,
                             oracle::mismatch,         oracle::retry_policy, oracle::vacuous};

// A client that timed out on an answer the server sent at once, and so
// retried after it (RETRY_POLICY "went on after 200") or reported a timeout
// (MISMATCH), is wrong, or was starved of a core past its timeout: a busy
// machine does this to a scanner that loads its client lazily. When the SUT
// waited for cores half its request timeout or more, the finding says so.
void starved_client(const oracle::Evidence& ev, oracle::Findings& findings) {
  const double timeout_s = ev.c.scenario->request_timeout_s;
  if (ev.run.waited_for_cores_s < 0.5 * timeout_s) return;
  for (auto& f : findings) {
    bool timed_out = f.verdict == Verdict::RetryPolicy && f.note.rfind("went on after", 0) == 0;
    if (f.verdict == Verdict::Mismatch)
      for (const auto& a : ev.attempts)
        timed_out = timed_out || (a.id == f.attempt && a.outcome && !a.outcome->ok &&
                                  a.outcome->error.kind == mock::Seen::Timeout && !a.answers.empty() &&
                                  a.answers.back().view.kind != mock::Seen::Timeout);
    if (!timed_out) continue;
    std::ostringstream why;
    why << "the SUT waited " << oracle::shown_s(ev.run.waited_for_cores_s)
        << " s for a core in this case (request_timeout_s " << timeout_s
        << " s): a client starved past its timeout does this too, so replay it alone on a quieter machine";
    f.note += (f.note.empty() ? "" : "; ") + why.str();
    f.starved = true;
  }
}

}  // namespace

Judgement judge(const Case& c, const CaseRun& run) {
  const oracle::Evidence evidence = oracle::gather(c, run);
  oracle::Findings findings;
  for (Check check : kChecks) check(evidence, findings);
  starved_client(evidence, findings);
  if (!run.journal_problem.empty())
    for (auto& f : findings)
      if (f.verdict == Verdict::Mismatch || f.verdict == Verdict::RetryPolicy || f.verdict == Verdict::Lost)
        f.note += (f.note.empty() ? "" : "; ") + run.journal_problem;
  return conclude(std::move(findings));
}

}  // namespace xph::harness
