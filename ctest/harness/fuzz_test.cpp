// The fuzzer's pure parts: generation is a function of (seed, index);
// shrinking reaches the known minimum of a synthetic failure.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "xph/harness/fuzz/fuzz_case.hpp"

using namespace xph::harness;
using xph::mock::Step;
using xph::mock::StepKind;

TEST(FuzzGenerate, SameSeedSameCasesInAnyOrder) {
  std::vector<std::string> forward, backward(50);
  for (std::uint64_t i = 0; i < 50; ++i) forward.push_back(generate_case(1, i).to_json("x", "", {}).dump());
  for (std::uint64_t i = 50; i-- > 0;) backward[i] = generate_case(1, i).to_json("x", "", {}).dump();
  EXPECT_EQ(forward, backward);
  EXPECT_NE(generate_case(1, 0), generate_case(2, 0));
  EXPECT_NE(generate_case(1, 0), generate_case(1, 1));
}

// A golden value: the generator must not depend on the platform's standard
// library (no std:: distributions), so this holds on every machine.
TEST(FuzzGenerate, SeedOneCaseZeroIsStable) {
  EXPECT_EQ(generate_case(1, 0).summary(),
            "2 probe(s) (s0 x1, p1 x6), parallel_attempts 4, g1/n/forkserver, max_tries 3, responses "
            "p1#1=200,403 p1#3=401,401 p1#5=200");
}

// --start-methods: only those are drawn, in the default's proportions among
// them, and nothing else of a case changes, so seed 1 case 0 is the same case
// whatever the set, but for its start method.
TEST(FuzzGenerate, StartMethodsChooseOnlyTheStartMethod) {
  std::map<StartMethod, int> drawn;
  for (std::uint64_t i = 0; i < 400; ++i) {
    const FuzzCase any = generate_case(5, i);
    FuzzCase fork_only = generate_case(5, i, {StartMethod::Fork});
    const FuzzCase fresh = generate_case(5, i, {StartMethod::Spawn, StartMethod::Forkserver});
    EXPECT_EQ(fork_only.start_method, StartMethod::Fork);
    ASSERT_NE(fresh.start_method, StartMethod::Fork);
    if (any.start_method != StartMethod::Fork) {
      EXPECT_EQ(fresh.start_method, any.start_method);
    }
    ++drawn[fresh.start_method];
    fork_only.start_method = any.start_method;
    EXPECT_EQ(fork_only, any) << i;
  }
  EXPECT_GT(drawn[StartMethod::Spawn], 140);
  EXPECT_GT(drawn[StartMethod::Forkserver], 140);
}

TEST(FuzzGenerate, CasesAreValidScenariosAndCoverTheInterestingShapes) {
  int single_before_pooled = 0, pooled_errors = 0, error_after_retry = 0;
  std::set<StepKind> kinds;
  std::set<int> statuses;
  for (std::uint64_t i = 0; i < 300; ++i) {
    const FuzzCase c = generate_case(7, i);
    ASSERT_NO_THROW(parse_scenario(c.to_json("f", "", {}), "f.json")) << c.summary();
    EXPECT_GE(c.probes.size(), 1u);
    EXPECT_LE(c.probes.size(), 4u);
    EXPECT_GE(c.generations, 1);
    EXPECT_LE(c.generations, 4);
    if (c.probes.size() > 1 && c.probes[0].attempts == 1 && c.probes[1].attempts > 1 && c.parallel_attempts > 1)
      ++single_before_pooled;
    for (const auto& [key, script] : c.scripts) {
      bool retryable_seen = false;
      for (const auto& s : script.steps) {
        kinds.insert(s.kind);
        if (s.kind == StepKind::Status) statuses.insert(s.status);
        if (s.kind == StepKind::Status && s.status >= 400 && c.parallel_attempts > 1) ++pooled_errors;
        if (retryable_seen && s.kind == StepKind::Status && s.status >= 400 && s.status < 429) ++error_after_retry;
        retryable_seen = retryable_seen || (s.kind == StepKind::Status && c.retry.retries_status(s.status));
      }
    }
  }
  EXPECT_GT(single_before_pooled, 30);
  EXPECT_GT(pooled_errors, 100);
  EXPECT_GT(error_after_retry, 10);
  EXPECT_EQ(kinds.size(), 8u) << "every step kind appears";
  for (int s : {200, 400, 401, 403, 404, 409, 422, 429, 500, 502, 503, 504}) EXPECT_TRUE(statuses.count(s)) << s;
}

TEST(FuzzShard, ShardsTogetherRunExactlyTheUnshardedCases) {
  std::multiset<std::uint64_t> all;
  for (int shard = 0; shard < 3; ++shard)
    for (std::uint64_t k = 0;; ++k) {
      const auto i = shard_index(k, shard, 3);
      if (i >= 100) break;
      all.insert(i);
    }
  std::multiset<std::uint64_t> want;
  for (std::uint64_t i = 0; i < 100; ++i) want.insert(i);
  EXPECT_EQ(all, want);
}

TEST(FuzzShrink, CandidatesNeverRepeatTheCase) {
  for (std::uint64_t i = 0; i < 40; ++i) {
    const FuzzCase c = generate_case(3, i);
    for (const auto& candidate : shrink_candidates(c)) {
      EXPECT_NE(candidate, c);
      ASSERT_NO_THROW(parse_scenario(candidate.to_json("f", "", {}), "f.json"));
    }
  }
}

// Synthetic failure: a 4xx in a pooled probe that runs after a single-attempt
// probe. Its minimum: one single probe, one pooled probe of 2 attempts,
// parallelism 2, g1/n, one try, and one script of one plain 400.
TEST(FuzzShrink, ReachesTheKnownMinimumOfASyntheticFailure) {
  auto fails = [](const FuzzCase& c) {
    if (c.parallel_attempts < 2) return false;
    bool single_seen = false;
    for (const auto& p : c.probes) {
      if (p.attempts == 1) single_seen = true;
      if (p.attempts < 2 || !single_seen) continue;
      for (int i = 0; i < p.attempts; ++i) {
        const auto it = c.scripts.find(p.name + "#" + std::to_string(i));
        if (it == c.scripts.end()) continue;
        for (const Step& s : it->second.steps)
          if (s.kind == StepKind::Status && s.status >= 400 && s.status < 500) return true;
      }
    }
    return false;
  };
  int checked = 0;
  for (std::uint64_t i = 0; i < 200 && checked < 5; ++i) {
    const FuzzCase c = generate_case(11, i);
    if (!fails(c)) continue;
    ++checked;
    const ShrinkResult r = shrink(c, fails, 10'000);
    const FuzzCase& m = r.smallest;
    ASSERT_EQ(m.probes.size(), 2u) << m.summary();
    EXPECT_EQ(m.probes[0].attempts, 1);
    EXPECT_EQ(m.probes[1].attempts, 2);
    EXPECT_EQ(m.parallel_attempts, 2);
    EXPECT_EQ(m.generations, 1);
    EXPECT_EQ(m.mode, Mode::N);
    EXPECT_EQ(m.retry.max_tries, 1);
    ASSERT_EQ(m.scripts.size(), 1u) << m.summary();
    const auto& steps = m.scripts.begin()->second.steps;
    ASSERT_EQ(steps.size(), 1u);
    EXPECT_EQ(steps[0], (Step{StepKind::Status, 400, {}, {}, 0})) << m.summary();
  }
  EXPECT_EQ(checked, 5);
}

// One bug was written as two CRASH files that differed only in
// parallel_attempts on a single-attempt probe: what cannot matter is made
// plain before hashing.
TEST(FuzzShrink, CanonicalFormDropsWhatCannotMatter) {
  FuzzCase c;
  c.probes = {{"first", 1}, {"second", 1}};
  c.parallel_attempts = 5;
  c.generations = 1;
  c.mode = Mode::Loop;
  c.scripts["second#0"] = xph::mock::Script{{Step{StepKind::Status, 404}}};
  const FuzzCase plain = canonical(c);
  EXPECT_EQ(plain.parallel_attempts, 1);
  EXPECT_EQ(plain.mode, Mode::N);
  EXPECT_EQ(plain.probes[1].name, "s1");
  EXPECT_EQ(plain.scripts.count("s1#0"), 1u);
  c.parallel_attempts = 2;
  EXPECT_EQ(canonical(c), plain);

  c.probes[1].attempts = 2;  // the near miss: now something is pooled
  c.generations = 2;         // and loop differs from n
  EXPECT_EQ(canonical(c).parallel_attempts, 2);
  EXPECT_EQ(canonical(c).mode, Mode::Loop);
}

TEST(FuzzShrink, StopsAtTheDeadlineAndSaysSo) {
  const FuzzCase start = generate_case(1, 0);
  int runs = 0;
  const auto r = shrink(start, [&](const FuzzCase&) { return ++runs > 0; }, 150,
                        std::chrono::steady_clock::now() - std::chrono::seconds(1));
  EXPECT_TRUE(r.cut_short);
  EXPECT_EQ(r.runs, 0);
  EXPECT_EQ(runs, 0);
  const auto unbounded = shrink(start, [](const FuzzCase&) { return false; }, 150);
  EXPECT_FALSE(unbounded.cut_short);
  EXPECT_FALSE(unbounded.run_out);
}

// A shrink that used up --shrink-runs with candidates left says so; one
// that ran out of candidates first does not.
TEST(FuzzShrink, StopsAtItsRunLimitAndSaysSo) {
  const FuzzCase start = generate_case(1, 0);
  const auto always = [](const FuzzCase&) { return true; };
  const auto capped = shrink(start, always, 3);
  EXPECT_EQ(capped.runs, 3);
  EXPECT_TRUE(capped.run_out);
  const auto whole = shrink(start, always, 10'000);
  EXPECT_LT(whole.runs, 10'000);
  EXPECT_FALSE(whole.run_out);
}
