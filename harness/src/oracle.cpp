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

// How a client sees one answer of the server.
struct Seen {
  enum Kind { Ok, Http, Connection, Timeout, Decode } kind = Ok;
  int choices = 0;  // Ok
  Step step;

  bool retryable(const RetryPolicy& p) const {
    switch (kind) {
      case Ok: return false;
      case Http: return p.retries_status(step.status);
      case Connection: return p.on_connection;
      case Timeout: return p.on_timeout;
      case Decode: return p.on_decode;
    }
    return false;
  }
};

const char* kind_name(Seen::Kind k) {
  switch (k) {
    case Seen::Ok: return "ok";
    case Seen::Http: return "http";
    case Seen::Connection: return "connection";
    case Seen::Timeout: return "timeout";
    case Seen::Decode: return "decode";
  }
  return "?";
}

// The mock's step table says how a client sees each step (mock::client_view).
Seen classify(const Step& step, int n, double request_timeout_s) {
  const mock::ClientView view = mock::client_view(step, {.n = n, .request_timeout_s = request_timeout_s});
  Seen s;
  s.step = step;
  s.choices = static_cast<int>(view.outputs.size());
  switch (view.kind) {
    case mock::Seen::Ok: s.kind = Seen::Ok; break;
    case mock::Seen::Http: s.kind = Seen::Http; break;
    case mock::Seen::Connection: s.kind = Seen::Connection; break;
    case mock::Seen::Timeout: s.kind = Seen::Timeout; break;
    case mock::Seen::Decode: s.kind = Seen::Decode; break;
  }
  return s;
}

Step step_of(const JournalEntry& e) { return e.step.value_or(Step{}); }

std::string describe(const Seen& s) {
  if (s.kind == Seen::Ok) return std::to_string(s.choices) + " choice(s)";
  return mock::to_string(s.step) + " (" + kind_name(s.kind) + ")";
}

std::string describe(const AttemptOutcome& o) {
  if (o.ok) {
    std::string out = "ok, " + std::to_string(o.outputs.size()) + " output(s)";
    if (!o.outputs.empty()) out += " [" + o.outputs.front() + (o.outputs.size() > 1 ? ", ..." : "") + "]";
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
int n_per_call(const Case& c) { return c.mode == Mode::N ? c.generations : 1; }

// The requests the retry policy asks for under this key's script.
std::vector<Step> expected_requests(const Case& c, const std::string& key) {
  const Scenario& s = *c.scenario;
  const mock::Script* script = mock::find_script(s.responses, key);
  const mock::Script plain{{Step{}}};
  if (!script) script = &plain;
  std::vector<Step> out;
  constexpr std::size_t kCap = 10'000;  // max_tries null over a retryable last step
  for (int call = 0; call < calls_needed(c); ++call) {
    for (int tries = 1;; ++tries) {
      const Step& step = script->at(out.size());
      out.push_back(step);
      const Seen seen = classify(step, n_per_call(c), s.request_timeout_s);
      if (seen.kind == Seen::Ok) break;
      const bool again = seen.retryable(s.retry) && (!s.retry.max_tries || tries < *s.retry.max_tries);
      if (!again || out.size() >= kCap) return out;
    }
  }
  return out;
}

std::string steps_text(const std::vector<Step>& steps) {
  std::string out;
  for (std::size_t i = 0; i < steps.size() && i < 12; ++i) out += (i ? "," : "") + mock::to_string(steps[i]);
  if (steps.size() > 12) out += ",...";
  return out;
}

void check_retry_policy(const Case& c, const std::string& key, const std::vector<JournalEntry>& seen,
                        std::vector<Finding>& findings) {
  const auto want = expected_requests(c, key);
  std::vector<Step> got;
  for (const auto& e : seen) got.push_back(step_of(e));
  if (got.size() != want.size()) {
    std::string why;
    const std::size_t common = std::min(got.size(), want.size());
    if (got.size() < want.size() && common > 0)
      why = "gave up after " + mock::to_string(got.back()) + ", which the policy retries";
    else if (got.size() > want.size() && common > 0)
      why = "went on after " + mock::to_string(want.back()) + ", which should have ended the call";
    findings.push_back({Verdict::RetryPolicy, key,
                        std::to_string(want.size()) + " request(s) [" + steps_text(want) + "]",
                        std::to_string(got.size()) + " request(s) [" + steps_text(got) + "]", why});
  }
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

// What the SUT should have reported, given what the server actually sent.
void check_outcome(const Case& c, const AttemptOutcome& o, const std::vector<JournalEntry>& seen,
                   std::vector<Finding>& findings) {
  if (seen.empty()) {
    findings.push_back({Verdict::Mismatch, o.id, "an outcome from requests to the server",
                        describe(o) + " with no request for this attempt in the journal", ""});
    return;
  }
  const Scenario& s = *c.scenario;
  std::vector<std::string> outputs;
  int calls_ok = 0;
  for (const auto& e : seen) {
    const Seen answer = classify(step_of(e), e.n, s.request_timeout_s);
    if (answer.kind != Seen::Ok) continue;
    ++calls_ok;
    for (int i = 0; i < answer.choices; ++i)
      outputs.push_back("xph:" + o.id + ":r" + std::to_string(e.k.value_or(0)) + ":c" + std::to_string(i));
  }
  const JournalEntry& last = seen.back();
  const Seen final_answer = classify(step_of(last), last.n, s.request_timeout_s);

  if (o.ok) {
    if (final_answer.kind != Seen::Ok) {
      findings.push_back({Verdict::Mismatch, o.id,
                          "error for the last answer, " + describe(final_answer) + " (request_id " +
                              last.request_id + ")",
                          describe(o), ""});
      return;
    }
    if (o.outputs != outputs) {
      std::string exp = std::to_string(outputs.size()) + " output(s)";
      if (!outputs.empty()) exp += " [" + outputs.front() + (outputs.size() > 1 ? ", ..., " + outputs.back() : "") + "]";
      std::string note;
      for (std::size_t i = 0; i < std::min(outputs.size(), o.outputs.size()); ++i)
        if (outputs[i] != o.outputs[i]) {
          note = "first difference at output " + std::to_string(i) + ": expected \"" + outputs[i] + "\", seen \"" +
                 o.outputs[i] + "\"";
          break;
        }
      findings.push_back({Verdict::Mismatch, o.id, exp, describe(o), note});
    }
    (void)calls_ok;
    return;
  }

  // An error: it must be the last answer, faithfully.
  if (final_answer.kind == Seen::Ok) {
    findings.push_back({Verdict::Mismatch, o.id, "ok, " + std::to_string(outputs.size()) + " output(s)", describe(o),
                        "the server's last answer (request_id " + last.request_id + ") was a success"});
    return;
  }
  const std::string want_kind = kind_name(final_answer.kind);
  std::string expected = "error kind=" + want_kind;
  if (final_answer.kind == Seen::Http) {
    expected += " status=" + std::to_string(final_answer.step.status);
    if (final_answer.step.code) expected += " code=" + *final_answer.step.code;
    expected += " request_id=" + last.request_id;
  }
  bool same = o.error.kind == want_kind;
  if (same && final_answer.kind == Seen::Http) {
    same = o.error.status == final_answer.step.status && o.error.code == final_answer.step.code &&
           o.error.request_id == last.request_id;
  }
  if (!same) findings.push_back({Verdict::Mismatch, o.id, expected, describe(o), ""});
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
    {"cannot deserialise", "receive"},
};

bool is_boundary(const std::string& line) { return boundary_side(line) != nullptr; }

// What a dying program said last is usually why it died.
std::string last_line(const std::string& text) {
  std::istringstream in(text);
  std::string last;
  for (std::string line; std::getline(in, line);)
    if (line.find_first_not_of(" \t\r") != std::string::npos) last = line;
  if (last.size() > 300) last = last.substr(0, 300) + "...";
  return last.empty() ? "" : "stderr: " + last;
}

}  // namespace

const char* boundary_side(const std::string& text) {
  for (const auto& p : kBoundaryPatterns)
    if (text.find(p.text) != std::string::npos) return p.side;
  return nullptr;
}

std::vector<std::string> boundary_lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
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
  const Scenario& s = *c.scenario;

  for (const auto& line : boundary_lines(run.stderr_text)) {
    // A failure the SUT also reported is listed once, as reported.
    const bool reported = run.result && std::any_of(run.result->failures.begin(), run.result->failures.end(),
                                                     [&](const SutFailure& f) { return f.message == line; });
    if (!reported)
      findings.push_back({Verdict::TransportBroken, "", "every error to reach the parent intact",
                          "the SUT printed: " + line, ""});
  }

  if (run.end != RunEnd::Exited) {
    std::ostringstream seen;
    if (run.end == RunEnd::TimedOut)
      seen << "no result within timeout_s " << s.timeout_s << " s";
    else
      seen << "idle for " << run.idle_bound_s << " s (no requests, no CPU) with no result, after " << run.seconds
           << " s";
    findings.push_back({Verdict::Hang, "", "a result", seen.str(), "the process group was killed"});
  }

  if (run.result) {
    for (const auto& f : run.result->failures) {
      const bool boundary = f.stage == "dispatch" || f.stage == "result" || is_boundary(f.message);
      findings.push_back({boundary ? Verdict::TransportBroken : Verdict::Crash, f.probe.empty() ? "" : f.probe + "#*",
                          "no failure in the SUT's machinery", f.stage + " failure: " + f.message, ""});
    }
  }

  if (run.end == RunEnd::Exited) {
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

  // Journal entries per attempt key, in k order.
  std::map<std::string, std::vector<mock::JournalEntry>> by_key;
  for (const auto& e : run.journal)
    if (e.key) by_key[*e.key].push_back(e);
  for (auto& [_, list] : by_key)
    std::sort(list.begin(), list.end(), [](const auto& a, const auto& b) { return a.k < b.k; });

  if (run.result) {
    std::map<std::string, const ProbeSpec*> spec_ids;
    for (const auto& p : c.probes)
      for (int i = 0; i < p.attempts; ++i) spec_ids[p.name + "#" + std::to_string(i)] = &p;
    std::map<std::string, const AttemptOutcome*> outcomes;
    for (const auto& o : run.result->attempts) {
      const auto it = spec_ids.find(o.id);
      if (it == spec_ids.end()) {
        findings.push_back({Verdict::Crash, o.id, "only attempt ids of the spec", "an outcome for unknown id " + o.id,
                            "result breaks the protocol"});
        continue;
      }
      if (o.probe != it->second->name)
        findings.push_back({Verdict::Crash, o.id, "probe " + it->second->name, "probe " + o.probe,
                            "result breaks the protocol"});
      if (!outcomes.emplace(o.id, &o).second)
        findings.push_back({Verdict::Crash, o.id, "one outcome per attempt", "a second outcome",
                            "result breaks the protocol"});
    }
    for (const auto& [id, probe] : spec_ids) {
      const auto it = outcomes.find(id);
      const auto seen = by_key.count(id) ? by_key.at(id) : std::vector<mock::JournalEntry>{};
      if (it == outcomes.end()) {
        findings.push_back({Verdict::Lost, id, "an outcome", "none",
                            std::to_string(seen.size()) + " request(s) for it reached the server"});
        continue;
      }
      check_outcome(c, *it->second, seen, findings);
      check_retry_policy(c, id, seen, findings);
    }
    for (const auto& p : c.probes) {
      if (p.attempts < 2 || s.parallel_attempts < 2) continue;
      std::set<long> pids;
      for (int i = 0; i < p.attempts; ++i)
        if (auto it = outcomes.find(p.name + "#" + std::to_string(i)); it != outcomes.end())
          pids.insert(it->second->pid);
      if (!pids.empty() && pids == std::set<long>{run.sut_pid})
        findings.push_back({Verdict::Vacuous, p.name + "#*",
                            "calls from pool worker processes (parallel_attempts " +
                                std::to_string(s.parallel_attempts) + ")",
                            "every call from the parent, pid " + std::to_string(run.sut_pid), ""});
    }
  }
  if (!run.journal_problem.empty())
    for (auto& f : findings)
      if (f.verdict == Verdict::Mismatch || f.verdict == Verdict::RetryPolicy || f.verdict == Verdict::Lost)
        f.note += (f.note.empty() ? "" : "; ") + run.journal_problem;
  return conclude(std::move(findings));
}

}  // namespace xph::harness
