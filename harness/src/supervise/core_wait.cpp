#include "core_wait.hpp"

#include <sched.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <string>

#include "xph/harness/model/case_run.hpp"

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
//
// Both are the machine's, and can count a wait that is not the SUT's, so
// they may add only a little. The SUT's own threads say exactly how much of
// their time they waited: a SUT given a ninth of a core is slowed ninefold,
// and no estimate's bound may judge it HANG for that (it was, two tests
// with busy loops on one core at once). Own time still advances whenever it
// gets a core, so a SUT that spins for ever still ends.
void CoreWait::sample(bool sut_runnable, const std::vector<ThreadTimes>& threads) {
  const auto now = Clock::now();
  const double interval = std::chrono::duration<double>(now - last_).count();
  const std::optional<double> stalled = stalled_s_ ? cpu_stall_total_s() : std::nullopt;
  if (sut_runnable)
    estimated_s_ += std::max(stalled ? std::clamp(*stalled - *stalled_s_, 0.0, interval) : 0.0,
                             interval * waiting_share());
  // Per thread since the last look (one new since then: since it began).
  double ran = 0, waited = 0;
  std::map<pid_t, ThreadTimes> now_threads;
  for (const ThreadTimes& t : threads) {
    const auto before = threads_.find(t.tid);
    const bool same = before != threads_.end() && t.ran_ns >= before->second.ran_ns &&
                      t.waited_ns >= before->second.waited_ns;
    ran += static_cast<double>(t.ran_ns - (same ? before->second.ran_ns : 0));
    waited += static_cast<double>(t.waited_ns - (same ? before->second.waited_ns : 0));
    now_threads[t.tid] = t;
  }
  threads_ = std::move(now_threads);
  // The share of its threads' time spent waiting, of the wall time; never
  // more than they waited (a SUT asleep most of the interval that waited 5
  // ms for a core at its one wake-up waited 5 ms, not most of it). Threads
  // of its own that crowd each other (eight workers on two cores) wait too,
  // so its own time runs slower, never stops.
  if (ran + waited > 0) seen_s_ += std::min(waited / 1e9, interval * waited / (ran + waited));
  last_ = now;
  if (stalled) stalled_s_ = stalled;
}

double CoreWait::counted_s(double timeout_s) const {
  return std::max(std::min(estimated_s_, kMaxEstimatedStretch * timeout_s),
                  std::min(seen_s_, kMaxCoreWaitStretch * timeout_s));
}

bool CoreWait::past(Clock::time_point started, double timeout_s) const {
  return Clock::now() - started > std::chrono::duration<double>(timeout_s + counted_s(timeout_s));
}

}  // namespace xph::harness::supervise
