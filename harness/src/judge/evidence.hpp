// What the checks judge by, read once per case: every attempt of the spec
// with its outcome (if any) and the server's answers to it, each answer as a
// client sees it (the mock's client view).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "xph/harness/model/case_run.hpp"
#include "xph/harness/model/scenario.hpp"
#include "xph/harness/model/verdict.hpp"
#include "xph/mock/client_view.hpp"

namespace xph::harness::oracle {

using Findings = std::vector<Finding>;

// One answer of the server, as a client sees it.
struct Answer {
  mock::ClientView view;
  mock::Step step;
  std::string request_id;
  double t_ms = 0;

  bool ok() const { return view.kind == mock::Seen::Ok; }
  bool retryable(const RetryPolicy&) const;
  std::string text() const;  // "400 context_length_exceeded (request_id req_...)", "reset (connection) (...)"
};

// `empty` (a 200 with no choices) has two honest readings: ok with zero
// outputs, or a decode error ("expected 1 choices, got 0"). Each attempt is
// judged by the reading its requests fit; every other step has one reading.
enum class Reading { Lenient, Strict };

struct Attempt {
  std::string id, probe;
  const AttemptOutcome* outcome = nullptr;  // null: none reported
  std::vector<mock::JournalEntry> requests;  // in k order
  Reading reading = Reading::Lenient;
  std::vector<Answer> answers;  // one per request, under `reading`
};

struct Evidence {
  const Case& c;
  const CaseRun& run;
  std::vector<Attempt> attempts;  // the spec's, in order
};

Evidence gather(const Case&, const CaseRun&);

// The requests the retry policy asks for under KEY's script, read as READING.
std::vector<mock::Step> expected_requests(const Case&, const std::string& key, Reading);
// A generation call ends at a success, at an error the policy does not
// retry, or when its tries are spent.
bool ends_call(const Answer&, int tries, const RetryPolicy&);
int calls_needed(const Case&);
std::string describe(const AttemptOutcome&);

}  // namespace xph::harness::oracle
