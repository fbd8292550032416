#include "core_wait.hpp"

#include <sched.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <string>

namespace xph::harness::supervise {

std::optional<double> cpu_stall_total_s() {
  std::ifstream in("/proc/pressure/cpu");
  std::string word;
  while (in >> word)  // "some avg10=0.00 avg60=0.00 avg300=0.00 total=123456" (us)
    if (word.rfind("total=", 0) == 0) return std::strtod(word.c_str() + 6, nullptr) / 1e6;  // never throws
  return std::nullopt;
}

double waiting_share() {
  cpu_set_t set;
  CPU_ZERO(&set);
  const int cores = ::sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : 0;
  std::ifstream in("/proc/stat");
  long running = 0;
  for (std::string word; in >> word;)
    if (word == "procs_running") {
      in >> running;
      break;
    }
  // Less the thread reading this: it runs for xph, not against the SUT.
  const double others = static_cast<double>(running - 1);
  if (cores <= 0 || others <= cores) return 0;
  return 1.0 - cores / others;
}

CoreWait::CoreWait() : last_(Clock::now()), stalled_s_(cpu_stall_total_s()) {}

// PSI's system-wide "some" averages the cores: one core crowded while the
// other runs free reads as half the time. procs_running against the cores
// sees that crowd, not which core it is on. The larger of the two, while the
// SUT is runnable: the deadline may come late (bounded), rarely early.
void CoreWait::sample(bool sut_runnable) {
  const auto now = Clock::now();
  const double interval = std::chrono::duration<double>(now - last_).count();
  const std::optional<double> stalled = stalled_s_ ? cpu_stall_total_s() : std::nullopt;
  if (sut_runnable)
    waited_s_ += std::max(stalled ? std::clamp(*stalled - *stalled_s_, 0.0, interval) : 0.0,
                          interval * waiting_share());
  last_ = now;
  if (stalled) stalled_s_ = stalled;
}

bool CoreWait::past(Clock::time_point started, double timeout_s) const {
  const double allowed = timeout_s + std::min(waited_s_, kMaxStretch * timeout_s);
  return Clock::now() - started > std::chrono::duration<double>(allowed);
}

}  // namespace xph::harness::supervise
