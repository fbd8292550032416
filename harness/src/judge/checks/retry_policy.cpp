// RETRY_POLICY: requests per attempt disagree with the spec's retry policy
// (a non-retryable step retried, a retryable one not, a Retry-After not
// waited).
#include <sstream>

#include "../checks.hpp"

namespace xph::harness::oracle {
namespace {

std::string steps_text(const std::vector<mock::Step>& steps) {
  std::string out;
  for (std::size_t i = 0; i < steps.size() && i < 12; ++i) out += (i ? "," : "") + mock::to_string(steps[i]);
  if (steps.size() > 12) out += ",...";
  return out;
}

// `finished`: the attempt has an outcome, so its requests are all there is.
// Without one (no result: a HANG, a CRASH) the SUT may have been stopped
// mid-call, and only requests it should never have made are judged.
void count(const Evidence& ev, const Attempt& a, bool finished, Findings& findings) {
  const auto want = expected_requests(ev.c, a.id, a.reading);
  std::vector<mock::Step> got;
  for (const auto& answer : a.answers) got.push_back(answer.step);
  if (got.size() == want.size() || (!finished && got.size() < want.size())) return;
  std::string why;
  if (got.size() < want.size() && !got.empty())
    why = "gave up after " + mock::to_string(got.back()) + ", which the policy retries";
  else if (got.size() > want.size() && !want.empty())
    why = "went on after " + mock::to_string(want.back()) + ", which should have ended the call";
  findings.push_back({Verdict::RetryPolicy, a.id, std::to_string(want.size()) + " request(s) [" + steps_text(want) + "]",
                      std::to_string(got.size()) + " request(s) [" + steps_text(got) + "]", why});
}

void retry_after(const Evidence& ev, const Attempt& a, Findings& findings) {
  if (!ev.c.scenario->retry.honor_retry_after) return;
  for (std::size_t i = 0; i + 1 < a.answers.size(); ++i) {
    const mock::Step& step = a.answers[i].step;
    if (step.kind != mock::StepKind::Status || step.status < 400 || !step.retry_after_s) continue;
    const double waited = a.answers[i + 1].t_ms - a.answers[i].t_ms;
    const double asked = *step.retry_after_s * 1000;
    if (waited + 1 >= asked) continue;
    std::ostringstream exp, seen;
    exp << "a wait of at least " << asked << " ms after " << mock::to_string(step) << " (request " << i << ")";
    seen << "the next request after " << static_cast<long>(waited) << " ms";
    findings.push_back({Verdict::RetryPolicy, a.id, exp.str(), seen.str(), "Retry-After not honoured"});
  }
}

}  // namespace

// An attempt with no outcome is LOST or part of a HANG or CRASH; what its
// requests did wrong already is listed beside that (a retry for ever
// against max_tries 3 is a HANG and a RETRY_POLICY).
void retry_policy(const Evidence& ev, Findings& findings) {
  for (const auto& a : ev.attempts) {
    if (a.answers.empty()) continue;
    count(ev, a, a.outcome != nullptr, findings);
    retry_after(ev, a, findings);
  }
}

}  // namespace xph::harness::oracle
