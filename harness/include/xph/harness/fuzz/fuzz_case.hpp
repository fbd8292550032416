// A fuzz case: generated from (seed, index), shrunk by small composable
// shrinkers, written as a scenario that `xph run` replays. Pure functions.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "xph/harness/model/scenario.hpp"

namespace xph::harness {

// A generated case, in the shape the shrinker edits. to_json() makes it a
// scenario file with exactly one case.
struct FuzzCase {
  std::vector<ProbeSpec> probes;
  int parallel_attempts = 1;
  int generations = 1;
  Mode mode = Mode::N;
  StartMethod start_method = StartMethod::Fork;
  RetryPolicy retry;
  // Long enough that a loaded 2-core machine never turns a 200 into a client
  // timeout (0.3 s did, under -j 2 with Python pools); each `hang` costs this.
  double request_timeout_s = 0.6;
  std::map<std::string, mock::Script> scripts;  // "PROBE#I" -> script; others answer 200

  nlohmann::json to_json(const std::string& name, const std::string& description,
                         const std::map<std::string, std::string>& expect) const;
  std::string summary() const;  // "2 probe(s) (s0 x1, p1 x3), parallel_attempts 4, g2/loop, ..."
  int total_attempts() const;
  bool operator==(const FuzzCase&) const = default;
};

// Case `index` of `seed`: the same on every machine and in any shard. Its
// start method is drawn from `start_methods` (empty: all three, fork 80%,
// spawn and forkserver 10% each); everything else is the same whatever they
// are, so a case replays with a different set only in its start method.
FuzzCase generate_case(std::uint64_t seed, std::uint64_t index, const std::vector<StartMethod>& start_methods = {});

// Simpler variants of a case, simplest first: fewer probes, attempts, steps;
// plainer steps; lower generations, parallelism and tries; fork. Never the
// case itself.
std::vector<FuzzCase> shrink_candidates(const FuzzCase&);

// The same case with what cannot change its behaviour made plain, so equal
// failures hash equal: probes named by position and shape, parallel_attempts
// 1 when no probe has two attempts (nothing is pooled), mode n at one
// generation (one call of n=1 either way).
FuzzCase canonical(const FuzzCase&);

struct ShrinkResult {
  FuzzCase smallest;
  int runs = 0;            // candidates tried
  int steps = 0;           // candidates accepted
  bool cut_short = false;  // stopped by the deadline, not by running out of candidates
  bool run_out = false;    // stopped at max_runs with candidates still to try
};
// Greedy: take the first candidate that still fails, start again from it;
// at most max_runs candidates, none started after `deadline`.
ShrinkResult shrink(const FuzzCase&, const std::function<bool(const FuzzCase&)>& still_fails, int max_runs,
                    std::optional<std::chrono::steady_clock::time_point> deadline = std::nullopt);

// Shard I of N takes the i-th case of the unsharded stream when i % N == I,
// so N shards together run exactly the cases of one unsharded run.
// This is the k-th case index of a shard.
inline std::uint64_t shard_index(std::uint64_t k, int shard, int shards) {
  return static_cast<std::uint64_t>(shard) + static_cast<std::uint64_t>(shards) * k;
}

}  // namespace xph::harness
