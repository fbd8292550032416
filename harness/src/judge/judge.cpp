#include "xph/harness/judge/judge.hpp"

#include "checks.hpp"

namespace xph::harness {

namespace {

using Check = void (*)(const oracle::Evidence&, oracle::Findings&);

// Contract order, as kVerdicts; conclude() sorts the findings all the same.
constexpr Check kChecks[] = {oracle::transport_broken, oracle::hang,         oracle::crash,  oracle::lost,
                             oracle::mismatch,         oracle::retry_policy, oracle::vacuous};

}  // namespace

Judgement judge(const Case& c, const CaseRun& run) {
  const oracle::Evidence evidence = oracle::gather(c, run);
  oracle::Findings findings;
  for (Check check : kChecks) check(evidence, findings);
  if (!run.journal_problem.empty())
    for (auto& f : findings)
      if (f.verdict == Verdict::Mismatch || f.verdict == Verdict::RetryPolicy || f.verdict == Verdict::Lost)
        f.note += (f.note.empty() ? "" : "; ") + run.journal_problem;
  return conclude(std::move(findings));
}

}  // namespace xph::harness
