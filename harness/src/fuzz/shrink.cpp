// Shrinking: small shrinkers, each a list of simpler candidates, tried in
// order (RapidCheck's shrink::removeChunks, eachElement, towards).
#include <algorithm>

#include "parts.hpp"
#include "xph/harness/fuzz/fuzz_case.hpp"

namespace xph::harness {
namespace {

using mock::Step;
using mock::StepKind;
using Candidates = std::vector<FuzzCase>;

using fuzz_parts::fuzz_retry;
using fuzz_parts::key;
using fuzz_parts::status;

bool is_200(const Step& s) { return s.kind == StepKind::Status && s.status == 200 && !s.retry_after_s && !s.text; }

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
    out.push_back(Step{StepKind::Reset});
  }
  return out;
}

void drop_probes(const FuzzCase& c, Candidates& out) {
  if (c.probes.size() < 2) return;
  for (std::size_t k = 0; k < c.probes.size(); ++k) {
    FuzzCase d = c;
    const std::string gone = c.probes[k].name + "#";
    d.probes.erase(d.probes.begin() + static_cast<std::ptrdiff_t>(k));
    std::erase_if(d.scripts, [&](const auto& kv) { return kv.first.rfind(gone, 0) == 0; });
    out.push_back(std::move(d));
  }
}

// Drop an attempt: later attempts of that probe move down one.
void drop_attempts(const FuzzCase& c, Candidates& out) {
  for (std::size_t k = 0; k < c.probes.size(); ++k) {
    const auto& p = c.probes[k];
    for (int drop = 0; p.attempts > 1 && drop < p.attempts; ++drop) {
      FuzzCase d = c;
      d.probes[k].attempts--;
      for (int i = drop; i < p.attempts; ++i) d.scripts.erase(key(p.name, i));
      for (int i = drop + 1; i < p.attempts; ++i)
        if (auto it = c.scripts.find(key(p.name, i)); it != c.scripts.end()) d.scripts[key(p.name, i - 1)] = it->second;
      out.push_back(std::move(d));
    }
  }
}

// Lower generations, plainer mode, lower parallelism, the default policy,
// one try, fork: each one candidate when it applies.
void plainer_settings(const FuzzCase& c, Candidates& out) {
  auto with = [&](auto edit) {
    FuzzCase d = c;
    edit(d);
    out.push_back(std::move(d));
  };
  if (c.generations > 1) with([](FuzzCase& d) { d.generations = 1; });
  if (c.generations > 2) with([](FuzzCase& d) { d.generations--; });
  if (c.mode == Mode::Loop) with([](FuzzCase& d) { d.mode = Mode::N; });
  if (c.parallel_attempts > 2) with([](FuzzCase& d) { d.parallel_attempts = 2; });
  if (c.retry != fuzz_retry(c.retry.max_tries)) with([](FuzzCase& d) { d.retry = fuzz_retry(d.retry.max_tries); });
  if (c.retry.max_tries && *c.retry.max_tries > 1) with([](FuzzCase& d) { d.retry.max_tries = 1; });
  if (c.start_method != StartMethod::Fork) with([](FuzzCase& d) { d.start_method = StartMethod::Fork; });
}

// A script moves to the attempt before it when that one has none, so two
// findings that differ only in which attempt failed become one.
void scripts_earlier(const FuzzCase& c, Candidates& out) {
  for (const auto& p : c.probes)
    for (int i = 1; i < p.attempts; ++i) {
      const auto it = c.scripts.find(key(p.name, i));
      if (it == c.scripts.end() || c.scripts.count(key(p.name, i - 1))) continue;
      FuzzCase d = c;
      d.scripts[key(p.name, i - 1)] = it->second;
      d.scripts.erase(key(p.name, i));
      out.push_back(std::move(d));
    }
}

// Shorter scripts, then plainer steps; a script of one 200 goes away; a
// cycle becomes the last step repeated.
void simpler_scripts(const FuzzCase& c, Candidates& out) {
  for (const auto& [k, script] : c.scripts) {
    const auto& steps = script.steps;
    if (steps.size() == 1 && is_200(steps[0])) {
      FuzzCase d = c;
      d.scripts.erase(k);
      out.push_back(std::move(d));
      continue;
    }
    if (script.cycle) {
      FuzzCase d = c;
      d.scripts[k].cycle.reset();
      out.push_back(std::move(d));
    }
    for (std::size_t i = 0; i < steps.size() && steps.size() > 1; ++i) {
      FuzzCase d = c;
      auto& s = d.scripts[k];
      s.steps.erase(s.steps.begin() + static_cast<std::ptrdiff_t>(i));
      if (s.cycle && i < *s.cycle) --*s.cycle;
      if (s.cycle && *s.cycle + 1 >= s.steps.size()) s.cycle.reset();  // a cycle of one step is no cycle
      out.push_back(std::move(d));
    }
    for (std::size_t i = 0; i < steps.size(); ++i)
      for (const Step& plain : plainer(steps[i])) {
        FuzzCase d = c;
        d.scripts[k].steps[i] = plain;
        out.push_back(std::move(d));
      }
  }
}

}  // namespace

std::vector<FuzzCase> shrink_candidates(const FuzzCase& c) {
  Candidates out;
  for (auto shrinker : {drop_probes, drop_attempts, plainer_settings, scripts_earlier, simpler_scripts})
    shrinker(c, out);
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
  bool progress = true;
  while (progress && r.runs < max_runs) {
    progress = false;
    for (const auto& candidate : shrink_candidates(r.smallest)) {
      if (r.runs >= max_runs) {
        r.run_out = true;
        break;
      }
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
  // The last candidate tried was taken: the new smallest has candidates of its own.
  if (progress && r.runs >= max_runs) r.run_out = true;
  r.smallest = canonical(r.smallest);
  return r;
}

}  // namespace xph::harness
