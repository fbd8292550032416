#include "core_wait.hpp"

#include <sched.h>

#include <algorithm>
#include <fstream>
#include <string>

namespace xph::harness::supervise {

std::optional<double> cpu_stall_total_s() {
  std::ifstream in("/proc/pressure/cpu");
  std::string word;
  while (in >> word)  // "some avg10=0.00 avg60=0.00 avg300=0.00 total=123456" (us)
    if (word.rfind("total=", 0) == 0) return std::stod(word.substr(6)) / 1e6;
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

// PSI counts every moment some task waited for a core, on any core (a SUT
// pinned beside a busy loop too), so while the SUT is runnable it is an
// upper bound of its own wait: the deadline may come late, never early.
void CoreWait::sample(bool sut_runnable) {
  const auto now = Clock::now();
  const double interval = std::chrono::duration<double>(now - last_).count();
  const std::optional<double> stalled = stalled_s_ ? cpu_stall_total_s() : std::nullopt;
  if (sut_runnable)
    waited_s_ += stalled ? std::clamp(*stalled - *stalled_s_, 0.0, interval) : interval * waiting_share();
  last_ = now;
  if (stalled) stalled_s_ = stalled;
}

bool CoreWait::past(Clock::time_point started, double timeout_s) const {
  const double allowed = timeout_s + std::min(waited_s_, kMaxStretch * timeout_s);
  return Clock::now() - started > std::chrono::duration<double>(allowed);
}

}  // namespace xph::harness::supervise
