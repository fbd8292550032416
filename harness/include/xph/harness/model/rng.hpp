// The only source of randomness in xph: explicit, seeded, and the same on
// every machine (no std:: distributions, whose results vary by library).
#pragma once

#include <cstdint>
#include <vector>

namespace xph::harness {

class Rng {
 public:
  explicit Rng(std::uint64_t seed) : state_(mix(seed ^ 0x6a09e667f3bcc909ULL)) {}

  std::uint64_t next() { return mix(state_ += 0x9e3779b97f4a7c15ULL); }
  // An independent stream for item i: case i of a seed is the same whether
  // it runs first, last, alone or in shard 3 of 8.
  Rng split(std::uint64_t i) const { return Rng(mix(state_ ^ mix(i + 0x243f6a8885a308d3ULL))); }

  // Uniform in [lo, hi], by rejection: no modulo bias, no library variance.
  int between(int lo, int hi) {
    const std::uint64_t span = static_cast<std::uint64_t>(hi - lo) + 1;
    const std::uint64_t limit = UINT64_MAX - UINT64_MAX % span;
    std::uint64_t x;
    do x = next();
    while (x >= limit);
    return lo + static_cast<int>(x % span);
  }
  bool chance(int percent) { return between(1, 100) <= percent; }
  // An index into `weights`, with probability proportional to its weight.
  std::size_t weighted(const std::vector<int>& weights) {
    int total = 0;
    for (int w : weights) total += w;
    int pick = between(1, total);
    for (std::size_t i = 0; i < weights.size(); ++i)
      if ((pick -= weights[i]) <= 0) return i;
    return weights.size() - 1;
  }

 private:
  static std::uint64_t mix(std::uint64_t z) {  // splitmix64's finaliser
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  std::uint64_t state_;
};

}  // namespace xph::harness
