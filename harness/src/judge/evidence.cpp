#include "evidence.hpp"

#include <algorithm>

namespace xph::harness::oracle {
namespace {

using mock::JournalEntry;
using mock::Step;
using mock::StepKind;

mock::ClientView view_of(const Step& step, const mock::ViewContext& ctx, Reading reading) {
  mock::ClientView v = mock::client_view(step, ctx);
  if (step.kind == StepKind::Empty && reading == Reading::Strict) v = {mock::Seen::Decode, 200, std::nullopt, {}};
  return v;
}

Answer answer_of(const JournalEntry& e, const Case& c, Reading reading) {
  mock::ViewContext ctx;
  ctx.key = e.key.value_or("_");
  ctx.k = e.k.value_or(0);
  ctx.endpoint = mock::endpoint_from_path(e.path).value_or(c.scenario->endpoint);
  ctx.n = e.n;
  ctx.stream = e.stream;
  ctx.request_timeout_s = c.scenario->request_timeout_s;
  const Step step = e.step.value_or(Step{});
  return {view_of(step, ctx, reading), step, e.request_id, e.t_ms};
}

bool scripts_empty(const Case& c, const std::string& key) {
  const mock::Script* script = mock::find_script(c.scenario->responses, key);
  return script && std::any_of(script->steps.begin(), script->steps.end(),
                               [](const Step& s) { return s.kind == StepKind::Empty; });
}

// The strict reading of `empty` when it fits the attempt and the lenient
// one does not: a decode error reported for it, or the retries it asks for.
Reading reading_of(const Case& c, const Attempt& a) {
  if (!scripts_empty(c, a.id)) return Reading::Lenient;
  const bool empty_last = !a.requests.empty() && a.requests.back().step &&
                          a.requests.back().step->kind == StepKind::Empty;
  if (a.outcome && !a.outcome->ok && a.outcome->error.kind == mock::Seen::Decode && empty_last) return Reading::Strict;
  const auto seen = a.requests.size();
  return expected_requests(c, a.id, Reading::Lenient).size() != seen &&
                 expected_requests(c, a.id, Reading::Strict).size() == seen
             ? Reading::Strict
             : Reading::Lenient;
}

}  // namespace

bool Answer::retryable(const RetryPolicy& p) const {
  switch (view.kind) {
    case mock::Seen::Ok: return false;
    case mock::Seen::Http: return view.status && p.retries_status(*view.status);
    case mock::Seen::Connection: return p.on_connection;
    case mock::Seen::Timeout: return p.on_timeout;
    case mock::Seen::Decode: return p.on_decode;
  }
  return false;
}

std::string Answer::text() const {
  std::string out;
  if (view.kind == mock::Seen::Http && view.status)
    out = std::to_string(*view.status) + (view.code ? " " + *view.code : "");
  else if (ok())
    out = std::to_string(view.outputs.size()) + " choice(s)";
  else
    out = mock::to_string(step) + " (" + std::string(mock::name(view.kind)) + ")";
  return out + " (request_id " + request_id + ")";
}

bool ends_call(const Answer& a, int tries, const RetryPolicy& p) {
  return a.ok() || !a.retryable(p) || (p.max_tries && tries >= *p.max_tries);
}

int calls_needed(const Case& c) { return c.mode == Mode::N ? 1 : c.generations; }

std::vector<Step> expected_requests(const Case& c, const std::string& key, Reading reading) {
  const Scenario& s = *c.scenario;
  const mock::Script* script = mock::find_script(s.responses, key);
  const mock::Script plain{{Step{}}};
  if (!script) script = &plain;
  mock::ViewContext ctx;
  ctx.key = key;
  ctx.endpoint = s.endpoint;
  ctx.n = c.mode == Mode::N ? c.generations : 1;
  ctx.request_timeout_s = s.request_timeout_s;
  std::vector<Step> out;
  constexpr std::size_t kCap = 10'000;  // max_tries null over a retryable last step
  for (int call = 0; call < calls_needed(c); ++call)
    for (int tries = 1;; ++tries) {
      const Step& step = script->at(out.size());
      ctx.k = static_cast<long>(out.size());
      out.push_back(step);
      const Answer a{view_of(step, ctx, reading), step, "", 0};
      if (a.ok()) break;
      if (ends_call(a, tries, s.retry) || out.size() >= kCap) return out;
    }
  return out;
}

std::string describe(const AttemptOutcome& o) {
  if (o.ok) {
    std::string out = "ok, " + std::to_string(o.outputs.size()) + " output(s)";
    if (!o.outputs.empty()) {
      const auto& first = o.outputs.front();
      out += " [" + (first ? *first : "null") + (o.outputs.size() > 1 ? ", ..." : "") + "]";
    }
    return out;
  }
  std::string out = "error kind=" + std::string(mock::name(o.error.kind));
  if (o.error.status) out += " status=" + std::to_string(*o.error.status);
  if (o.error.code) out += " code=" + *o.error.code;
  if (o.error.request_id) out += " request_id=" + *o.error.request_id;
  if (o.error.exception) out += " (" + *o.error.exception + ")";
  return out;
}

Evidence gather(const Case& c, const CaseRun& run) {
  Evidence ev{c, run, {}};
  std::map<std::string, std::vector<JournalEntry>> by_key;
  for (const auto& e : run.journal)
    if (e.key) by_key[*e.key].push_back(e);
  for (const auto& p : c.probes)
    for (int i = 0; i < p.attempts; ++i) {
      Attempt a{p.name + "#" + std::to_string(i), p.name, nullptr, {}, Reading::Lenient, {}};
      if (auto it = by_key.find(a.id); it != by_key.end()) a.requests = it->second;
      std::sort(a.requests.begin(), a.requests.end(), [](const auto& x, const auto& y) { return x.k < y.k; });
      if (run.result)  // the first outcome for the id; a second one breaks the protocol (CRASH)
        for (const auto& o : run.result->attempts)
          if (o.id == a.id) {
            a.outcome = &o;
            break;
          }
      a.reading = reading_of(c, a);
      for (const auto& e : a.requests) a.answers.push_back(answer_of(e, c, a.reading));
      ev.attempts.push_back(std::move(a));
    }
  return ev;
}

}  // namespace xph::harness::oracle
