#include "xph/harness/oracle.hpp"

#include "xph/mock/client_view.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <sstream>

namespace xph::harness {
namespace {

using mock::JournalEntry;
using mock::Step;
using mock::StepKind;

// `empty` (a 200 with no choices) has two honest readings: ok with zero
// outputs, or a decode error ("expected 1 choices, got 0"). A SUT is judged
// by the reading that fits it; every other step has one reading, the mock's.
enum class Reading { Lenient, Strict };

// How a client sees one answer of the server: the mock's client view of the
// step it served, for the request as the client made it.
struct Seen {
  mock::ClientView view;
  Step step;
  std::string request_id;

  mock::Seen kind() const { return view.kind; }
  bool ok() const { return view.kind == mock::Seen::Ok; }
  bool retryable(const RetryPolicy& p) const {
    switch (view.kind) {
      case mock::Seen::Ok: return false;
      case mock::Seen::Http: return view.status && p.retries_status(*view.status);
      case mock::Seen::Connection: return p.on_connection;
      case mock::Seen::Timeout: return p.on_timeout;
      case mock::Seen::Decode: return p.on_decode;
    }
    return false;
  }
};

mock::ClientView view_of(const Step& step, const mock::ViewContext& ctx, Reading reading) {
  mock::ClientView v = mock::client_view(step, ctx);
  if (step.kind == StepKind::Empty && reading == Reading::Strict) v = {mock::Seen::Decode, 200, std::nullopt, {}};
  return v;
}

Step step_of(const JournalEntry& e) { return e.step.value_or(Step{}); }

Seen seen_of(const JournalEntry& e, const Case& c, Reading reading) {
  mock::ViewContext ctx;
  ctx.key = e.key.value_or("_");
  ctx.k = e.k.value_or(0);
  ctx.endpoint = mock::endpoint_from_path(e.path).value_or(c.scenario->endpoint);
  ctx.n = e.n;
  ctx.stream = e.stream;
  ctx.request_timeout_s = c.scenario->request_timeout_s;
  return {view_of(step_of(e), ctx, reading), step_of(e), e.request_id};
}

std::string describe(const Seen& s) {
  if (s.ok()) return std::to_string(s.view.outputs.size()) + " choice(s)";
  return mock::to_string(s.step) + " (" + std::string(mock::name(s.kind())) + ")";
}

// "400 context_length_exceeded (request_id req_...)", "reset (connection)".
std::string answer_text(const Seen& s) {
  std::string out = s.kind() == mock::Seen::Http && s.view.status
                        ? std::to_string(*s.view.status) + (s.view.code ? " " + *s.view.code : "")
                        : describe(s);
  return out + " (request_id " + s.request_id + ")";
}

std::string quoted(const std::optional<std::string>& text) { return text ? "\"" + *text + "\"" : "null"; }

std::string describe(const AttemptOutcome& o) {
  if (o.ok) {
    std::string out = "ok, " + std::to_string(o.outputs.size()) + " output(s)";
    if (!o.outputs.empty()) {
      const auto& first = o.outputs.front();
      out += " [" + (first ? *first : "null") + (o.outputs.size() > 1 ? ", ..." : "") + "]";
    }
    return out;
  }
  std::string out = "error kind=" + o.error.kind;
  if (o.error.status) out += " status=" + std::to_string(*o.error.status);
  if (o.error.code) out += " code=" + *o.error.code;
  if (o.error.request_id) out += " request_id=" + *o.error.request_id;
  if (o.error.exception) out += " (" + *o.error.exception + ")";
  return out;
}

int calls_needed(const Case& c) { return c.mode == Mode::N ? 1 : c.generations; }

bool ends_call(const Seen& s, int tries, const RetryPolicy& p) {
  return s.ok() || !s.retryable(p) || (p.max_tries && tries >= *p.max_tries);
}

// The requests the retry policy asks for under this key's script.
std::vector<Step> expected_requests(const Case& c, const std::string& key, Reading reading) {
  const Scenario& s = *c.scenario;
  const mock::Script* script = mock::find_script(s.responses, key);
  const mock::Script plain{{Step{}}};
  if (!script) script = &plain;
  std::vector<Step> out;
  constexpr std::size_t kCap = 10'000;  // max_tries null over a retryable last step
  mock::ViewContext ctx;
  ctx.key = key;
  ctx.endpoint = s.endpoint;
  ctx.n = c.mode == Mode::N ? c.generations : 1;
  ctx.request_timeout_s = s.request_timeout_s;
  for (int call = 0; call < calls_needed(c); ++call) {
    for (int tries = 1;; ++tries) {
      const Step& step = script->at(out.size());
      ctx.k = static_cast<long>(out.size());
      out.push_back(step);
      const Seen seen{view_of(step, ctx, reading), step, ""};
      if (seen.ok()) break;
      if (ends_call(seen, tries, s.retry) || out.size() >= kCap) return out;
    }
  }
  return out;
}

// The requests of one attempt split into generation calls as the spec's
// policy splits them: a call ends at a success, at an error the policy does
// not retry, or when its tries are spent.
std::vector<std::vector<const Seen*>> calls_of(const std::vector<Seen>& answers, const RetryPolicy& p) {
  std::vector<std::vector<const Seen*>> calls;
  int tries = 0;
  for (const auto& a : answers) {
    if (tries == 0) calls.emplace_back();
    calls.back().push_back(&a);
    ++tries;
    if (ends_call(a, tries, p)) tries = 0;
  }
  return calls;
}

std::string steps_text(const std::vector<Step>& steps) {
  std::string out;
  for (std::size_t i = 0; i < steps.size() && i < 12; ++i) out += (i ? "," : "") + mock::to_string(steps[i]);
  if (steps.size() > 12) out += ",...";
  return out;
}

void check_retry_count(const Case& c, const std::string& key, const std::vector<Seen>& answers, Reading reading,
                       std::vector<Finding>& findings) {
  const auto want = expected_requests(c, key, reading);
  std::vector<Step> got;
  for (const auto& a : answers) got.push_back(a.step);
  if (got.size() == want.size()) return;
  std::string why;
  const std::size_t common = std::min(got.size(), want.size());
  if (got.size() < want.size() && common > 0)
    why = "gave up after " + mock::to_string(got.back()) + ", which the policy retries";
  else if (got.size() > want.size() && common > 0)
    why = "went on after " + mock::to_string(want.back()) + ", which should have ended the call";
  findings.push_back({Verdict::RetryPolicy, key, std::to_string(want.size()) + " request(s) [" + steps_text(want) + "]",
                      std::to_string(got.size()) + " request(s) [" + steps_text(got) + "]", why});
}

void check_retry_after(const Case& c, const std::string& key, const std::vector<JournalEntry>& seen,
                       std::vector<Finding>& findings) {
  if (!c.scenario->retry.honor_retry_after) return;
  for (std::size_t i = 0; i + 1 < seen.size(); ++i) {
    const Step step = step_of(seen[i]);
    if (step.kind != StepKind::Status || step.status < 400 || !step.retry_after_s) continue;
    const double waited = seen[i + 1].t_ms - seen[i].t_ms;
    const double asked = *step.retry_after_s * 1000;
    if (waited + 1 < asked) {
      std::ostringstream exp, got_text;
      exp << "a wait of at least " << asked << " ms after " << mock::to_string(step) << " (request " << i << ")";
      got_text << "the next request after " << static_cast<long>(waited) << " ms";
      findings.push_back({Verdict::RetryPolicy, key, exp.str(), got_text.str(), "Retry-After not honoured"});
    }
  }
}

// One expected output: the text an answer carried (none for a tool call), or
// the error that ended a generation call (which an ok outcome can only have
// swallowed).
struct Expected {
  std::optional<std::string> text;
  const Seen* error = nullptr;
};

// What an ok outcome should hold. In `n` mode: the last successful answer's
// choices (a SUT that sent one request too many and reported the last answer
// told the truth about it; RETRY_POLICY reports the extra request). In
// `loop` mode: each generation call's final answer, in order; a SUT that made
// more calls than generations is compared on its last ones.
std::vector<Expected> expected_outputs(const Case& c, const std::vector<Seen>& answers) {
  std::vector<Expected> out;
  if (c.mode == Mode::N) {
    for (auto it = answers.rbegin(); it != answers.rend(); ++it)
      if (it->ok()) {
        for (const auto& t : it->view.outputs) out.push_back({t, nullptr});
        break;
      }
    return out;
  }
  auto calls = calls_of(answers, c.scenario->retry);
  const std::size_t skip = calls.size() > static_cast<std::size_t>(c.generations)
                               ? calls.size() - static_cast<std::size_t>(c.generations) : 0;
  for (std::size_t i = skip; i < calls.size(); ++i) {
    const Seen& final_answer = *calls[i].back();
    if (!final_answer.ok())
      out.push_back({std::nullopt, &final_answer});
    else
      for (const auto& t : final_answer.view.outputs) out.push_back({t, nullptr});
  }
  return out;
}

std::string outputs_text(const std::vector<Expected>& want) {
  std::string out = std::to_string(want.size()) + " output(s)";
  auto one = [](const Expected& e) { return e.error ? "error " + answer_text(*e.error) : quoted(e.text); };
  if (!want.empty()) out += " [" + one(want.front()) + (want.size() > 1 ? ", ..., " + one(want.back()) : "") + "]";
  return out;
}

std::string swallowed(const Seen& error, const std::optional<std::string>& reported) {
  return "the error was swallowed: the server answered " + answer_text(error) + "; the SUT reported ok with " +
         (reported ? "output " + quoted(reported) : std::string("no output"));
}

// An ok outcome beside what the server sent.
void check_ok(const Case& c, const AttemptOutcome& o, const std::vector<Seen>& answers,
              std::vector<Finding>& findings) {
  const Seen& last = answers.back();
  if (c.mode == Mode::N && !last.ok()) {
    const bool nothing = std::all_of(o.outputs.begin(), o.outputs.end(), [](const auto& t) { return !t; });
    findings.push_back({Verdict::Mismatch, o.id, "error for the last answer, " + answer_text(last), describe(o),
                        nothing ? swallowed(last, std::nullopt)
                                : "the server's last answer was an error, not text"});
    return;
  }
  const auto want = expected_outputs(c, answers);
  if (want.size() != o.outputs.size()) {
    findings.push_back({Verdict::Mismatch, o.id, outputs_text(want), describe(o), ""});
    return;
  }
  for (std::size_t i = 0; i < want.size(); ++i) {
    const auto& seen = o.outputs[i];
    std::string note;
    if (want[i].error)
      note = swallowed(*want[i].error, seen) + " (output " + std::to_string(i) + ")";
    else if (!seen && want[i].text)
      note = "output " + std::to_string(i) + " is null where the server sent " + quoted(want[i].text);
    else if (seen != want[i].text)
      note = "first difference at output " + std::to_string(i) + ": expected " + quoted(want[i].text) + ", seen " +
             quoted(seen);
    if (note.empty()) continue;
    findings.push_back({Verdict::Mismatch, o.id, outputs_text(want), describe(o), note});
    return;
  }
}

// An error outcome must be the last answer, faithfully.
void check_error(const AttemptOutcome& o, const std::vector<Seen>& answers, std::vector<Finding>& findings) {
  const Seen& last = answers.back();
  if (last.ok()) {
    findings.push_back({Verdict::Mismatch, o.id, "ok, " + std::to_string(last.view.outputs.size()) + " output(s)",
                        describe(o), "the server's last answer (request_id " + last.request_id + ") was a success"});
    return;
  }
  const std::string want_kind(mock::name(last.kind()));
  std::string expected = "error kind=" + want_kind;
  if (last.kind() == mock::Seen::Http) {
    expected += " status=" + (last.view.status ? std::to_string(*last.view.status) : std::string("null"));
    if (last.view.code) expected += " code=" + *last.view.code;
    expected += " request_id=" + last.request_id;
  }
  bool same = o.error.kind == want_kind;
  if (same && last.kind() == mock::Seen::Http)
    same = o.error.status == last.view.status && o.error.code == last.view.code && o.error.request_id == last.request_id;
  // A decode error read off a 200 (a strict reading of `empty`) may say 200 or nothing.
  if (same && last.kind() == mock::Seen::Decode && o.error.status) same = *o.error.status == 200;
  if (!same) findings.push_back({Verdict::Mismatch, o.id, expected, describe(o), ""});
}

bool scripts_empty(const Case& c, const std::string& key) {
  const mock::Script* script = mock::find_script(c.scenario->responses, key);
  return script && std::any_of(script->steps.begin(), script->steps.end(),
                               [](const Step& s) { return s.kind == StepKind::Empty; });
}

std::vector<Finding> attempt_findings(const Case& c, const AttemptOutcome& o, const std::vector<JournalEntry>& seen,
                                      Reading reading) {
  std::vector<Finding> findings;
  std::vector<Seen> answers;
  for (const auto& e : seen) answers.push_back(seen_of(e, c, reading));
  if (o.ok)
    check_ok(c, o, answers, findings);
  else
    check_error(o, answers, findings);
  check_retry_count(c, o.id, answers, reading, findings);
  return findings;
}

// What the SUT should have reported, given what the server actually sent.
void check_attempt(const Case& c, const AttemptOutcome& o, const std::vector<JournalEntry>& seen,
                   std::vector<Finding>& findings) {
  if (seen.empty()) {
    findings.push_back({Verdict::Mismatch, o.id, "an outcome from requests to the server",
                        describe(o) + " with no request for this attempt in the journal", ""});
    return;
  }
  auto found = attempt_findings(c, o, seen, Reading::Lenient);
  if (!found.empty() && scripts_empty(c, o.id)) {
    auto strict = attempt_findings(c, o, seen, Reading::Strict);
    if (strict.size() < found.size()) found = std::move(strict);
  }
  findings.insert(findings.end(), found.begin(), found.end());
  check_retry_after(c, o.id, seen, findings);
}

// A SUT that calls another endpoint than the spec's was answered all the
// same (the mock scripts by key), so only the journal can tell.
void check_endpoint(const Case& c, const std::vector<JournalEntry>& journal, std::vector<Finding>& findings) {
  const std::string want(mock::path(c.scenario->endpoint));
  std::set<std::pair<std::string, std::string>> wrong;  // key, path
  for (const auto& e : journal)
    if (e.path != want) wrong.insert({e.key.value_or("_"), e.path});
  for (const auto& [key, path] : wrong)
    findings.push_back({Verdict::Mismatch, key,
                        "requests to " + want + " (endpoint " + std::string(mock::name(c.scenario->endpoint)) + ")",
                        "a request to " + path, ""});
}

// Which way an error failed to cross, by the words Python and our SUTs use.
struct BoundaryPattern {
  const char* text;
  const char* side;
};
constexpr BoundaryPattern kBoundaryPatterns[] = {
    {"cannot pickle", "send"},          {"Can't pickle", "send"},
    {"can't pickle", "send"},           {"PicklingError", "send"},
    {"MaybeEncodingError", "send"},     {"cannot serialise", "send"},
    {"UnpicklingError", "receive"},     {"required keyword-only argument", "receive"},
    {"required positional argument", "receive"}, {"_handle_results", "receive"},
    {"__init__() takes", "receive"},  // APIConnectionError rebuilt from args: "takes 1 positional argument but 2"
    {"cannot deserialise", "receive"},
};

bool is_boundary(const std::string& line) { return boundary_side(line) != nullptr; }

// What a dying program said last is usually why it died.
std::string last_line(const std::string& text) {
  std::istringstream in(text);
  std::string last;
  for (std::string line; std::getline(in, line);) {
    line = printable_line(line);
    if (line.find_first_not_of(" \t") != std::string::npos) last = line;
  }
  if (last.size() > 300) last = last.substr(0, 300) + "...";
  return last.empty() ? "" : "stderr: " + last;
}

void check_boundary(const CaseRun& run, std::vector<Finding>& findings) {
  for (const auto& line : boundary_lines(run.stderr_text)) {
    // A failure the SUT also reported is listed once, as reported.
    const bool reported = run.result && std::any_of(run.result->failures.begin(), run.result->failures.end(),
                                                     [&](const SutFailure& f) { return f.message == line; });
    if (!reported)
      findings.push_back({Verdict::TransportBroken, "", "every error to reach the parent intact",
                          "the SUT printed: " + line, "", boundary_side(line)});
  }
  if (!run.result) return;
  for (const auto& f : run.result->failures) {
    const char* side = f.stage == "dispatch" ? "send" : f.stage == "result" ? "receive" : boundary_side(f.message);
    findings.push_back({side ? Verdict::TransportBroken : Verdict::Crash, f.probe.empty() ? "" : f.probe + "#*",
                        "no failure in the SUT's machinery", f.stage + " failure: " + f.message, "",
                        side ? side : ""});
  }
}

void check_end(const Case& c, const CaseRun& run, std::vector<Finding>& findings) {
  if (run.end != RunEnd::Exited) {
    std::ostringstream seen;
    if (run.end == RunEnd::TimedOut)
      seen << "no result within timeout_s " << c.scenario->timeout_s << " s";
    else
      seen << "idle for " << run.idle_bound_s << " s (no requests, no CPU) with no result, after " << run.seconds
           << " s";
    findings.push_back({Verdict::Hang, "", "a result", seen.str(), "the process group was killed"});
    return;
  }
  if (!run.result) {
    std::string how = run.signal ? "killed by signal " + std::to_string(*run.signal)
                                 : "exit code " + std::to_string(run.exit_code.value_or(-1));
    findings.push_back(
        {Verdict::Crash, "", "a whole result and exit 0", how + ", " + run.result_problem, last_line(run.stderr_text)});
  } else if (run.exit_code != 0) {
    findings.push_back({Verdict::Crash, "", "exit 0 after writing the result",
                        run.signal ? "signal " + std::to_string(*run.signal)
                                   : "exit code " + std::to_string(run.exit_code.value_or(-1)),
                        ""});
  }
}

// A pooled probe whose every call came from the parent tested no boundary.
void check_pooled(const Case& c, const CaseRun& run, const std::map<std::string, const AttemptOutcome*>& outcomes,
                  std::vector<Finding>& findings) {
  const int parallel = c.scenario->parallel_attempts;
  for (const auto& p : c.probes) {
    if (p.attempts < 2 || parallel < 2) continue;
    std::set<long> pids;
    for (int i = 0; i < p.attempts; ++i)
      if (auto it = outcomes.find(p.name + "#" + std::to_string(i)); it != outcomes.end())
        pids.insert(it->second->pid);
    if (!pids.empty() && pids == std::set<long>{run.sut_pid})
      findings.push_back({Verdict::Vacuous, p.name + "#*",
                          "calls from pool worker processes (parallel_attempts " + std::to_string(parallel) + ")",
                          "every call from the parent, pid " + std::to_string(run.sut_pid), ""});
  }
}

// Outcomes by attempt id; ids the spec does not have, or twice, break the protocol.
std::map<std::string, const AttemptOutcome*> index_outcomes(const Case& c, const SutResult& result,
                                                            std::vector<Finding>& findings) {
  std::map<std::string, const ProbeSpec*> spec_ids;
  for (const auto& p : c.probes)
    for (int i = 0; i < p.attempts; ++i) spec_ids[p.name + "#" + std::to_string(i)] = &p;
  std::map<std::string, const AttemptOutcome*> outcomes;
  for (const auto& o : result.attempts) {
    const auto it = spec_ids.find(o.id);
    if (it == spec_ids.end()) {
      findings.push_back({Verdict::Crash, o.id, "only attempt ids of the spec", "an outcome for unknown id " + o.id,
                          "result breaks the protocol"});
      continue;
    }
    if (o.probe != it->second->name)
      findings.push_back(
          {Verdict::Crash, o.id, "probe " + it->second->name, "probe " + o.probe, "result breaks the protocol"});
    if (!outcomes.emplace(o.id, &o).second)
      findings.push_back(
          {Verdict::Crash, o.id, "one outcome per attempt", "a second outcome", "result breaks the protocol"});
  }
  return outcomes;
}

void check_outcomes(const Case& c, const CaseRun& run, std::vector<Finding>& findings) {
  if (!run.result) return;
  std::map<std::string, std::vector<JournalEntry>> by_key;  // in k order
  for (const auto& e : run.journal)
    if (e.key) by_key[*e.key].push_back(e);
  for (auto& [_, list] : by_key)
    std::sort(list.begin(), list.end(), [](const auto& a, const auto& b) { return a.k < b.k; });
  const auto outcomes = index_outcomes(c, *run.result, findings);
  for (const auto& p : c.probes)
    for (int i = 0; i < p.attempts; ++i) {
      const std::string id = p.name + "#" + std::to_string(i);
      const auto seen = by_key.count(id) ? by_key.at(id) : std::vector<JournalEntry>{};
      const auto it = outcomes.find(id);
      if (it == outcomes.end())
        findings.push_back({Verdict::Lost, id, "an outcome", "none",
                            std::to_string(seen.size()) + " request(s) for it reached the server"});
      else
        check_attempt(c, *it->second, seen, findings);
    }
  check_pooled(c, run, outcomes, findings);
}

}  // namespace

std::string printable_line(const std::string& line) {
  // A progress bar redraws with \r: what a terminal shows is the last part.
  std::string text = line.substr(line.find_last_of('\r') == std::string::npos ? 0 : line.find_last_of('\r') + 1);
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\x1b') {  // ANSI escape: ESC [ ... final byte in @-~
      if (i + 1 < text.size() && text[i + 1] == '[') {
        i += 2;
        while (i < text.size() && !(text[i] >= '@' && text[i] <= '~')) ++i;
      }
      continue;
    }
    if (static_cast<unsigned char>(text[i]) < 0x20 && text[i] != '\t') continue;
    out += text[i];
  }
  return out;
}

const char* boundary_side(const std::string& text) {
  for (const auto& p : kBoundaryPatterns)
    if (text.find(p.text) != std::string::npos) return p.side;
  return nullptr;
}

std::vector<std::string> boundary_lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string raw; std::getline(in, raw);) {
    std::string line = printable_line(raw);
    if (!is_boundary(line)) continue;
    // Traceback frames name files; the error line itself says what broke.
    const auto first = line.find_first_not_of(' ');
    if (first != std::string::npos && line.compare(first, 5, "File ") == 0) continue;
    line.erase(0, first == std::string::npos ? line.size() : first);
    if (std::find(out.begin(), out.end(), line) == out.end()) out.push_back(line);
  }
  return out;
}

Judgement judge(const Case& c, const CaseRun& run) {
  std::vector<Finding> findings;
  check_boundary(run, findings);
  check_end(c, run, findings);
  check_outcomes(c, run, findings);
  check_endpoint(c, run.journal, findings);
  if (!run.journal_problem.empty())
    for (auto& f : findings)
      if (f.verdict == Verdict::Mismatch || f.verdict == Verdict::RetryPolicy || f.verdict == Verdict::Lost)
        f.note += (f.note.empty() ? "" : "; ") + run.journal_problem;
  return conclude(std::move(findings));
}

}  // namespace xph::harness
