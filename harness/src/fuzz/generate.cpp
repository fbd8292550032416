// Generating fuzz cases: case i of seed S is a pure function of (S, i).
#include <algorithm>

#include "parts.hpp"
#include "xph/harness/fuzz/fuzz_case.hpp"
#include "xph/harness/model/rng.hpp"
#include "xph/mock/step_kinds.hpp"

namespace xph::harness {
namespace {

using mock::Step;
using mock::StepKind;

using fuzz_parts::fuzz_retry;
using fuzz_parts::key;
using fuzz_parts::status;

// The fuzzer lends the step table its seeded randomness.
struct RngDice final : mock::Dice {
  explicit RngDice(Rng& r) : rng(r) {}
  int between(int lo, int hi) override { return rng.between(lo, hi); }
  Rng& rng;
};

// Small Retry-After values: a case should take milliseconds, not seconds.
std::optional<double> maybe_retry_after(Rng& r) {
  if (!r.chance(50)) return std::nullopt;
  return r.between(1, 5) / 100.0;
}

Step retryable_status(Rng& r) {  // what the default policy retries
  static const int kRetryable[] = {429, 500, 502, 503, 504, 409};
  const int s = kRetryable[r.between(0, 5)];
  return status(s, s == 429 && r.chance(20) ? std::optional<std::string>("rate_limit_exceeded") : std::nullopt,
                s == 429 || s == 503 ? maybe_retry_after(r) : std::nullopt);
}

Step final_status(Rng& r) {  // what ends a call
  static const int kFinal[] = {400, 400, 401, 403, 404, 422};
  const int s = kFinal[r.between(0, 5)];
  return status(s, s == 400 && r.chance(50) ? std::optional<std::string>("context_length_exceeded") : std::nullopt);
}

// A fault, drawn as the step table says (each kind's weight and draw).
Step fault(Rng& r) {
  std::vector<int> weights;
  for (const auto& row : mock::step_kinds()) weights.push_back(row.draw ? row.fuzz_weight : 0);
  RngDice dice(r);
  return mock::step_kinds()[r.weighted(weights)].draw(dice);
}

Step random_step(Rng& r) {
  switch (r.weighted({40, 22, 18, 20})) {
    case 0: return status(200);
    case 1: return retryable_status(r);
    case 2: return final_status(r);
    default: return fault(r);
  }
}

mock::Script random_script(Rng& r) {
  mock::Script script;
  script.steps.resize(static_cast<std::size_t>(r.weighted({0, 35, 30, 15, 10, 5, 5})));
  for (auto& s : script.steps) s = random_step(r);
  if (r.chance(25)) script.steps.push_back(status(200));  // recoveries are common in life
  return script;
}

void draw_probes(Rng& r, FuzzCase& c) {
  const int probe_count = 1 + static_cast<int>(r.weighted({30, 40, 20, 10}));
  // The #659 shape, a single-attempt probe before a pooled one, is common.
  const bool single_first = probe_count > 1 && r.chance(50);
  for (int i = 0; i < probe_count; ++i) {
    const bool single = (i == 0 && single_first) || r.chance(25);
    const int attempts = single ? 1 : r.between(2, 6);
    c.probes.push_back({single ? "s" + std::to_string(i) : "p" + std::to_string(i), attempts});
  }
}

// Drawn last, so what was drawn before stays what it was for every seed.
// The start method: drawn from all three as always (so the draws after it
// stay what they are); one not in `allowed` is drawn again, among those
// allowed in the same proportions, from a stream of its own.
void draw_extras(Rng& r, Rng side, FuzzCase& c, const std::vector<StartMethod>& allowed) {
  static const StartMethod kMethods[] = {StartMethod::Fork, StartMethod::Spawn, StartMethod::Forkserver};
  std::vector<int> weights = {80, 10, 10};
  c.start_method = kMethods[r.weighted(weights)];
  auto is_allowed = [&](StartMethod m) {
    return allowed.empty() || std::find(allowed.begin(), allowed.end(), m) != allowed.end();
  };
  if (!is_allowed(c.start_method)) {
    for (std::size_t i = 0; i < weights.size(); ++i)
      if (!is_allowed(kMethods[i])) weights[i] = 0;
    c.start_method = kMethods[side.weighted(weights)];
  }
  // A script that repeats whole: "every 5th request a 400" (garak's CLI
  // sends every request under one key).
  for (auto& [_, script] : c.scripts)
    if (script.steps.size() > 1 && r.chance(10)) script.cycle = 0;
}

}  // namespace

FuzzCase generate_case(std::uint64_t seed, std::uint64_t index, const std::vector<StartMethod>& start_methods) {
  Rng r = Rng(seed).split(index);
  FuzzCase c;
  draw_probes(r, c);
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
  draw_extras(r, Rng(seed).split(index).split(1), c, start_methods);
  return c;
}

}  // namespace xph::harness
