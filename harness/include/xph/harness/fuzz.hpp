// xph fuzz: seeded random scenarios, judged; each failure shrunk to a small
// scenario that `xph run` replays.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "xph/harness/rng.hpp"
#include "xph/harness/scenario.hpp"
#include "xph/harness/verdict.hpp"

namespace xph::harness {

// A generated case, in the shape the shrinker edits. to_json() makes it a
// scenario file with exactly one case.
struct FuzzCase {
  std::vector<ProbeSpec> probes;
  int parallel_attempts = 1;
  int generations = 1;
  Mode mode = Mode::N;
  RetryPolicy retry;
  // Long enough that a loaded 2-core machine never turns a 200 into a client
  // timeout (0.3 s did, under -j 2 with Python pools); each `hang` costs this.
  double request_timeout_s = 0.6;
  std::map<std::string, std::vector<mock::Step>> scripts;  // "PROBE#I" -> steps; others answer 200

  nlohmann::json to_json(const std::string& name, const std::string& description,
                         const std::map<std::string, std::string>& expect) const;
  std::string summary() const;  // "2 probes (single x1, p1 x3), P=4, g2/loop, 3 scripted keys"
  int total_attempts() const;
  bool operator==(const FuzzCase&) const = default;
};

// Case `index` of `seed`: the same on every machine and in any shard.
FuzzCase generate_case(std::uint64_t seed, std::uint64_t index);

// Simpler variants of a case, simplest first: fewer probes, attempts, steps;
// plainer steps; lower generations, parallelism and tries. Never the case itself.
std::vector<FuzzCase> shrink_candidates(const FuzzCase&);

// Shard I of N takes the i-th case of the unsharded stream when i % N == I,
// so N shards together run exactly the cases of one unsharded run.
// This is the k-th case index of a shard.
inline std::uint64_t shard_index(std::uint64_t k, int shard, int shards) {
  return static_cast<std::uint64_t>(shard) + static_cast<std::uint64_t>(shards) * k;
}

struct ShrinkResult {
  FuzzCase smallest;
  int runs = 0;   // candidates tried
  int steps = 0;  // candidates accepted
  bool cut_short = false;  // stopped by the deadline, not by running out of candidates
};
// Greedy: take the first candidate that still fails, start again from it;
// at most max_runs candidates, none started after `deadline`.
ShrinkResult shrink(const FuzzCase&, const std::function<bool(const FuzzCase&)>& still_fails, int max_runs,
                    std::optional<std::chrono::steady_clock::time_point> deadline = std::nullopt);

// The same case with what cannot change its behaviour made plain, so equal
// failures hash equal: probes named by position and shape, parallel_attempts
// 1 when no probe has two attempts (nothing is pooled), mode n at one
// generation (one call of n=1 either way).
FuzzCase canonical(const FuzzCase&);

struct FuzzOptions {
  std::uint64_t seed = 0;
  std::optional<std::uint64_t> cases;  // in the unsharded stream
  std::optional<double> seconds;
  std::optional<std::uint64_t> only_case;  // --case I: replay one case, unshrunk
  int jobs = 2;
  std::string out = "xph-fuzz-out";
  int shard = 0, shards = 1;
  int max_failures = 0;  // 0: no limit
  int shrink_runs = 150;
  std::string program = "xph";
};

// Returns the exit code: 0 none found, 1 found.
struct SutChoice;
int run_fuzz(const SutChoice&, const FuzzOptions&);

}  // namespace xph::harness
