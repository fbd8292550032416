// A case's timeout_s is the SUT's own time: running, or asleep by its own
// choice. Time it spent wanting a core that a busy machine did not give it
// does not count, so a slow SUT on a loaded machine is not judged HANG; a SUT
// asleep (a backoff that never ends, a dead pool) is judged on time however
// busy the machine is. The stretch is bounded, so every case still ends.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <optional>
#include <vector>

namespace xph::harness::supervise {

// One thread's time on a core and runnable waiting for one, so far
// (/proc/<pid>/task/<tid>/schedstat).
struct ThreadTimes {
  pid_t tid = 0;
  unsigned long long ran_ns = 0, waited_ns = 0;
};

class CoreWait {
 public:
  using Clock = std::chrono::steady_clock;
  // At most this many times timeout_s is added for what the machine as a
  // whole shows (an estimate, which can count another task's wait); what
  // the SUT's own threads waited is added up to kMaxCoreWaitStretch times.
  static constexpr double kMaxEstimatedStretch = 3.0;

  CoreWait();
  // Once per look at the SUT: whether it had a thread running or runnable,
  // and its live threads' times (none when unknown).
  void sample(bool sut_runnable, const std::vector<ThreadTimes>& threads);
  // The waiting that does not count against timeout_s.
  double counted_s(double timeout_s) const;
  // Whether timeout_s of the SUT's own time has passed since `started`.
  bool past(Clock::time_point started, double timeout_s) const;

 private:
  Clock::time_point last_;
  std::optional<double> stalled_s_;  // the machine's, from /proc/pressure/cpu
  double estimated_s_ = 0;           // from the machine's figures while the SUT was runnable
  double seen_s_ = 0;                // from its own threads' share of waiting
  std::map<pid_t, ThreadTimes> threads_;  // as the last look saw them
};

// Seconds, since boot, during which some runnable task had no core
// (/proc/pressure/cpu "some"); none without PSI.
std::optional<double> cpu_stall_total_s();
// The share of the time a runnable task waits for a core right now, from
// /proc/stat's procs_running and the cores this process may use.
double waiting_share();

}  // namespace xph::harness::supervise
