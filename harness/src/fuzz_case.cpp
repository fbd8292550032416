// Generating and shrinking fuzz cases: pure functions of their inputs.
#include <algorithm>
#include <sstream>

#include "xph/harness/fuzz.hpp"

namespace xph::harness {
namespace {

using mock::Step;
using mock::StepKind;

Step status(int s, std::optional<std::string> code = {}, std::optional<double> after = {}) {
  return Step{StepKind::Status, s, std::move(code), after, 0};
}
Step fault(StepKind k, double seconds = 0) { return Step{k, 200, {}, {}, seconds}; }

// Small Retry-After values: a case should take milliseconds, not seconds.
std::optional<double> maybe_retry_after(Rng& r) {
  if (!r.chance(50)) return std::nullopt;
  return r.between(1, 5) / 100.0;
}

Step random_step(Rng& r) {
  switch (r.weighted({40, 22, 18, 20})) {
    case 0: return status(200);
    case 1: {  // what the default policy retries
      static const int kRetryable[] = {429, 500, 502, 503, 504, 409};
      const int s = kRetryable[r.between(0, 5)];
      return status(s, s == 429 && r.chance(20) ? std::optional<std::string>("rate_limit_exceeded") : std::nullopt,
                    s == 429 || s == 503 ? maybe_retry_after(r) : std::nullopt);
    }
    case 2: {  // what ends a call
      static const int kFinal[] = {400, 400, 401, 403, 404, 422};
      const int s = kFinal[r.between(0, 5)];
      return status(s, s == 400 && r.chance(50) ? std::optional<std::string>("context_length_exceeded")
                                                : std::nullopt);
    }
    default: {
      static const StepKind kFaults[] = {StepKind::Reset, StepKind::Drop,  StepKind::Truncate, StepKind::Malformed,
                                         StepKind::Empty, StepKind::Slow, StepKind::Hang};
      const StepKind k = kFaults[r.weighted({20, 20, 15, 15, 12, 12, 2})];
      return fault(k, k == StepKind::Slow ? r.between(1, 5) / 100.0 : 0);
    }
  }
}

std::vector<Step> random_script(Rng& r) {
  std::vector<Step> steps(static_cast<std::size_t>(r.weighted({0, 35, 30, 15, 10, 5, 5})));
  for (auto& s : steps) s = random_step(r);
  if (r.chance(25)) steps.push_back(status(200));  // recoveries are common in life
  return steps;
}

bool is_200(const Step& s) { return s.kind == StepKind::Status && s.status == 200 && !s.retry_after_s; }

// Plainer versions of one step, plainest first.
std::vector<Step> plainer(const Step& s) {
  std::vector<Step> out;
  if (is_200(s)) return out;
  out.push_back(status(200));
  if (s.kind == StepKind::Status) {
    if (s.retry_after_s) out.push_back(status(s.status, s.code));
    if (s.code) out.push_back(status(s.status, std::nullopt, s.retry_after_s));
    // 400 is the plainest error; 500 the plainest retryable one.
    if (s.status != 400) out.push_back(status(400));
    if (s.status > 500) out.push_back(status(500));
  } else if (s.kind != StepKind::Reset) {
    out.push_back(fault(StepKind::Reset));
  }
  return out;
}

std::string key(const std::string& probe, int i) { return probe + "#" + std::to_string(i); }

// The fuzzer's own retry defaults (fast backoff), with these tries.
RetryPolicy fuzz_retry(std::optional<int> tries) {
  RetryPolicy p;
  p.max_tries = tries;
  p.max_delay_s = 0.01;
  return p;
}

}  // namespace

int FuzzCase::total_attempts() const {
  int n = 0;
  for (const auto& p : probes) n += p.attempts;
  return n;
}

nlohmann::json FuzzCase::to_json(const std::string& name, const std::string& description,
                                 const std::map<std::string, std::string>& expect) const {
  nlohmann::json probes_json = nlohmann::json::array();
  for (const auto& p : probes) probes_json.push_back({{"name", p.name}, {"attempts", p.attempts}});
  nlohmann::json responses = {{"*", "200"}};
  for (const auto& [k, steps] : scripts) responses[k] = mock::to_string(mock::Script{steps});
  nlohmann::json j = {{"name", name},
                      {"description", description},
                      {"probes", probes_json},
                      {"parallel_attempts", parallel_attempts},
                      {"generations", {generations}},
                      {"multi_generation", {std::string(xph::harness::name(mode))}},
                      {"retry", harness::to_json(retry)},
                      {"timeout_s", 30},
                      {"request_timeout_s", request_timeout_s},
                      {"responses", responses}};
  if (!expect.empty()) j["expect"] = expect;
  return j;
}

std::string FuzzCase::summary() const {
  std::ostringstream s;
  s << probes.size() << " probe(s) (";
  for (std::size_t i = 0; i < probes.size(); ++i) s << (i ? ", " : "") << probes[i].name << " x" << probes[i].attempts;
  s << "), parallel_attempts " << parallel_attempts << ", g" << generations << "/" << name(mode) << ", max_tries "
    << retry.max_tries.value_or(0) << ", responses";
  if (scripts.empty()) s << " all 200";
  for (const auto& [k, steps] : scripts) s << " " << k << "=" << mock::to_string(mock::Script{steps});
  return s.str();
}

FuzzCase generate_case(std::uint64_t seed, std::uint64_t index) {
  Rng r = Rng(seed).split(index);
  FuzzCase c;
  const int probe_count = 1 + static_cast<int>(r.weighted({30, 40, 20, 10}));
  // The #659 shape, a single-attempt probe before a pooled one, is common.
  const bool single_first = probe_count > 1 && r.chance(50);
  for (int i = 0; i < probe_count; ++i) {
    const bool single = (i == 0 && single_first) || r.chance(25);
    const int attempts = single ? 1 : r.between(2, 6);
    c.probes.push_back({single ? "s" + std::to_string(i) : "p" + std::to_string(i), attempts});
  }
  c.parallel_attempts = r.chance(80) ? r.between(2, 6) : 1;
  c.generations = static_cast<int>(r.weighted({0, 50, 25, 15, 10}));
  c.mode = r.chance(50) ? Mode::N : Mode::Loop;
  c.retry = fuzz_retry(r.between(1, 4));
  c.retry.honor_retry_after = r.chance(90);
  if (r.chance(30)) c.retry.on_decode = true;
  if (r.chance(20)) c.retry.statuses = {429, 500, 502, 503, 504};
  for (const auto& p : c.probes)
    for (int i = 0; i < p.attempts; ++i)
      if (r.chance(p.attempts > 1 ? 45 : 60)) c.scripts[key(p.name, i)] = random_script(r);
  return c;
}

std::vector<FuzzCase> shrink_candidates(const FuzzCase& c) {
  std::vector<FuzzCase> out;
  // Drop a probe (and its scripts).
  if (c.probes.size() > 1)
    for (std::size_t k = 0; k < c.probes.size(); ++k) {
      FuzzCase d = c;
      const std::string gone = c.probes[k].name + "#";
      d.probes.erase(d.probes.begin() + static_cast<std::ptrdiff_t>(k));
      std::erase_if(d.scripts, [&](const auto& kv) { return kv.first.rfind(gone, 0) == 0; });
      out.push_back(std::move(d));
    }
  // Drop an attempt: later attempts of that probe move down one.
  for (std::size_t k = 0; k < c.probes.size(); ++k) {
    const auto& p = c.probes[k];
    if (p.attempts < 2) continue;
    for (int drop = 0; drop < p.attempts; ++drop) {
      FuzzCase d = c;
      d.probes[k].attempts--;
      for (int i = drop; i < p.attempts; ++i) d.scripts.erase(key(p.name, i));
      for (int i = drop + 1; i < p.attempts; ++i)
        if (auto it = c.scripts.find(key(p.name, i)); it != c.scripts.end()) d.scripts[key(p.name, i - 1)] = it->second;
      out.push_back(std::move(d));
    }
  }
  // Lower generations, plainer mode, lower parallelism and tries.
  if (c.generations > 1) {
    FuzzCase d = c;
    d.generations = 1;
    out.push_back(d);
    if (c.generations > 2) {
      d.generations = c.generations - 1;
      out.push_back(d);
    }
  }
  if (c.mode == Mode::Loop) {
    FuzzCase d = c;
    d.mode = Mode::N;
    out.push_back(d);
  }
  if (c.parallel_attempts > 2) {
    FuzzCase d = c;
    d.parallel_attempts = 2;
    out.push_back(d);
  }
  if (c.retry != fuzz_retry(c.retry.max_tries)) {  // the default policy, same tries
    FuzzCase d = c;
    d.retry = fuzz_retry(c.retry.max_tries);
    out.push_back(d);
  }
  if (c.retry.max_tries && *c.retry.max_tries > 1) {
    FuzzCase d = c;
    d.retry.max_tries = 1;
    out.push_back(d);
  }
  // A script moves to the attempt before it when that one has none, so two
  // findings that differ only in which attempt failed become one.
  for (const auto& p : c.probes)
    for (int i = 1; i < p.attempts; ++i) {
      const auto it = c.scripts.find(key(p.name, i));
      if (it == c.scripts.end() || c.scripts.count(key(p.name, i - 1))) continue;
      FuzzCase d = c;
      d.scripts[key(p.name, i - 1)] = it->second;
      d.scripts.erase(key(p.name, i));
      out.push_back(std::move(d));
    }
  // Shorter scripts, then plainer steps; a script of one 200 goes away.
  for (const auto& [k, steps] : c.scripts) {
    if (steps.size() == 1 && is_200(steps[0])) {
      FuzzCase d = c;
      d.scripts.erase(k);
      out.push_back(std::move(d));
      continue;
    }
    for (std::size_t i = 0; i < steps.size() && steps.size() > 1; ++i) {
      FuzzCase d = c;
      d.scripts[k].erase(d.scripts[k].begin() + static_cast<std::ptrdiff_t>(i));
      out.push_back(std::move(d));
    }
    for (std::size_t i = 0; i < steps.size(); ++i)
      for (const Step& plain : plainer(steps[i])) {
        FuzzCase d = c;
        d.scripts[k][i] = plain;
        out.push_back(std::move(d));
      }
  }
  return out;
}

FuzzCase canonical(const FuzzCase& c) {
  FuzzCase out = c;
  if (std::none_of(c.probes.begin(), c.probes.end(), [](const ProbeSpec& p) { return p.attempts > 1; }))
    out.parallel_attempts = 1;
  if (c.generations == 1) out.mode = Mode::N;
  out.scripts.clear();
  for (std::size_t k = 0; k < c.probes.size(); ++k) {
    const auto& p = c.probes[k];
    const std::string name = (p.attempts == 1 ? "s" : "p") + std::to_string(k);
    out.probes[k].name = name;
    for (int i = 0; i < p.attempts; ++i)
      if (auto it = c.scripts.find(key(p.name, i)); it != c.scripts.end()) out.scripts[key(name, i)] = it->second;
  }
  return out;
}

ShrinkResult shrink(const FuzzCase& start, const std::function<bool(const FuzzCase&)>& still_fails, int max_runs,
                    std::optional<std::chrono::steady_clock::time_point> deadline) {
  ShrinkResult r{start, 0, 0};
  const auto late = [&] { return deadline && std::chrono::steady_clock::now() >= *deadline; };
  for (bool progress = true; progress && r.runs < max_runs;) {
    progress = false;
    for (const auto& candidate : shrink_candidates(r.smallest)) {
      if (r.runs >= max_runs) break;
      if (late()) {
        r.cut_short = true;
        break;
      }
      ++r.runs;
      if (still_fails(candidate)) {
        r.smallest = candidate;
        ++r.steps;
        progress = true;
        break;
      }
    }
  }
  r.smallest = canonical(r.smallest);
  return r;
}

}  // namespace xph::harness
