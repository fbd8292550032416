// MISMATCH: an outcome disagrees with what the server sent; or a request
// went to another endpoint than the spec's.
#include <algorithm>
#include <set>

#include "../checks.hpp"

namespace xph::harness::oracle {
namespace {

std::string quoted(const std::optional<std::string>& text) { return text ? "\"" + *text + "\"" : "null"; }

// One expected output: the text an answer carried (none for a tool call),
// or the error that ended a generation call, which an ok outcome can only
// have swallowed.
struct Expected {
  std::optional<std::string> text;
  const Answer* error = nullptr;
};

// The answers split into generation calls as the spec's policy splits them.
std::vector<std::vector<const Answer*>> calls_of(const std::vector<Answer>& answers, const RetryPolicy& p) {
  std::vector<std::vector<const Answer*>> calls;
  int tries = 0;
  for (const auto& a : answers) {
    if (tries == 0) calls.emplace_back();
    calls.back().push_back(&a);
    if (ends_call(a, ++tries, p)) tries = 0;
  }
  return calls;
}

// What an ok outcome should hold. In `n` mode: the last successful answer's
// choices (a SUT that sent one request too many and reported the last answer
// told the truth about it; RETRY_POLICY reports the extra request). In `loop`
// mode: each generation call's final answer, in order; a SUT that made more
// calls than generations is compared on its last ones.
std::vector<Expected> expected_outputs(const Case& c, const std::vector<Answer>& answers) {
  std::vector<Expected> out;
  if (c.mode == Mode::N) {
    const auto last_ok = std::find_if(answers.rbegin(), answers.rend(), [](const Answer& a) { return a.ok(); });
    if (last_ok != answers.rend())
      for (const auto& t : last_ok->view.outputs) out.push_back({t, nullptr});
    return out;
  }
  const auto calls = calls_of(answers, c.scenario->retry);
  const std::size_t generations = static_cast<std::size_t>(c.generations);
  for (std::size_t i = calls.size() > generations ? calls.size() - generations : 0; i < calls.size(); ++i) {
    const Answer& final_answer = *calls[i].back();
    if (!final_answer.ok()) out.push_back({std::nullopt, &final_answer});
    for (const auto& t : final_answer.view.outputs) out.push_back({t, nullptr});
  }
  return out;
}

std::string outputs_text(const std::vector<Expected>& want) {
  auto one = [](const Expected& e) { return e.error ? "error " + e.error->text() : quoted(e.text); };
  std::string out = std::to_string(want.size()) + " output(s)";
  if (!want.empty()) out += " [" + one(want.front()) + (want.size() > 1 ? ", ..., " + one(want.back()) : "") + "]";
  return out;
}

std::string swallowed(const Answer& error, const std::optional<std::string>& reported) {
  return "the error was swallowed: the server answered " + error.text() + "; the SUT reported ok with " +
         (reported ? "output " + quoted(reported) : std::string("no output"));
}

// Why output I disagrees with what was expected, or "" when it agrees.
std::string difference(std::size_t i, const Expected& want, const std::optional<std::string>& seen) {
  const std::string at = " (output " + std::to_string(i) + ")";
  if (want.error) return swallowed(*want.error, seen) + at;
  if (!seen && want.text) return "output " + std::to_string(i) + " is null where the server sent " + quoted(want.text);
  if (seen != want.text)
    return "first difference at output " + std::to_string(i) + ": expected " + quoted(want.text) + ", seen " +
           quoted(seen);
  return "";
}

void check_ok(const Case& c, const Attempt& a, Findings& findings) {
  const AttemptOutcome& o = *a.outcome;
  const Answer& last = a.answers.back();
  if (c.mode == Mode::N && !last.ok()) {
    const bool nothing = std::none_of(o.outputs.begin(), o.outputs.end(), [](const auto& t) { return t.has_value(); });
    findings.push_back({Verdict::Mismatch, a.id, "error for the last answer, " + last.text(), describe(o),
                        nothing ? swallowed(last, std::nullopt) : "the server's last answer was an error, not text"});
    return;
  }
  const auto want = expected_outputs(c, a.answers);
  if (want.size() != o.outputs.size()) {
    findings.push_back({Verdict::Mismatch, a.id, outputs_text(want), describe(o), ""});
    return;
  }
  for (std::size_t i = 0; i < want.size(); ++i)
    if (const std::string note = difference(i, want[i], o.outputs[i]); !note.empty()) {
      findings.push_back({Verdict::Mismatch, a.id, outputs_text(want), describe(o), note});
      return;
    }
}

// An error outcome must be the last answer, faithfully.
void check_error(const Attempt& a, Findings& findings) {
  const AttemptOutcome& o = *a.outcome;
  const Answer& last = a.answers.back();
  if (last.ok()) {
    findings.push_back({Verdict::Mismatch, a.id, "ok, " + std::to_string(last.view.outputs.size()) + " output(s)",
                        describe(o), "the server's last answer (request_id " + last.request_id + ") was a success"});
    return;
  }
  std::string expected = "error kind=" + std::string(mock::name(last.view.kind));
  bool same = o.error.kind == last.view.kind;
  if (last.view.kind == mock::Seen::Http) {
    expected += " status=" + (last.view.status ? std::to_string(*last.view.status) : std::string("null"));
    if (last.view.code) expected += " code=" + *last.view.code;
    expected += " request_id=" + last.request_id;
    same = same && o.error.status == last.view.status && o.error.code == last.view.code &&
           o.error.request_id == last.request_id;
  }
  // A decode error read off a 200 (a strict reading of `empty`) may say 200 or nothing.
  if (last.view.kind == mock::Seen::Decode && o.error.status) same = same && *o.error.status == 200;
  if (!same) findings.push_back({Verdict::Mismatch, a.id, expected, describe(o), ""});
}

// The mock scripts by key whatever the path, so only the journal can tell
// a SUT that calls another endpoint than the spec's.
void check_endpoint(const Evidence& ev, Findings& findings) {
  const std::string want(mock::path(ev.c.scenario->endpoint));
  std::set<std::pair<std::string, std::string>> wrong;  // key, path
  for (const auto& e : ev.run.journal)
    if (e.path != want) wrong.insert({e.key.value_or("_"), e.path});
  for (const auto& [key, path] : wrong)
    findings.push_back({Verdict::Mismatch, key,
                        "requests to " + want + " (endpoint " + std::string(mock::name(ev.c.scenario->endpoint)) + ")",
                        "a request to " + path, ""});
}

}  // namespace

void mismatch(const Evidence& ev, Findings& findings) {
  for (const auto& a : ev.attempts) {
    if (!a.outcome) continue;
    if (a.answers.empty())
      findings.push_back({Verdict::Mismatch, a.id, "an outcome from requests to the server",
                          describe(*a.outcome) + " with no request for this attempt in the journal", ""});
    else if (a.outcome->ok)
      check_ok(ev.c, a, findings);
    else
      check_error(a, findings);
  }
  check_endpoint(ev, findings);
}

}  // namespace xph::harness::oracle
