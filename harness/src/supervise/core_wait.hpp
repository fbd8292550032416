// A case's timeout_s is the SUT's own time: running, or asleep by its own
// choice. Time it spent wanting a core that a busy machine did not give it
// does not count, so a slow SUT on a loaded machine is not judged HANG; a SUT
// asleep (a backoff that never ends, a dead pool) is judged on time however
// busy the machine is. The stretch is bounded, so every case still ends.
#pragma once

#include <chrono>
#include <optional>

namespace xph::harness::supervise {

class CoreWait {
 public:
  using Clock = std::chrono::steady_clock;
  // At most this many times timeout_s is added for waiting.
  static constexpr double kMaxStretch = 3.0;

  CoreWait();
  // Once per look at the SUT: whether it had a thread running or runnable.
  void sample(bool sut_runnable);
  double waited_s() const { return waited_s_; }
  // Whether timeout_s of the SUT's own time has passed since `started`.
  bool past(Clock::time_point started, double timeout_s) const;

 private:
  Clock::time_point last_;
  std::optional<double> stalled_s_;  // the machine's, from /proc/pressure/cpu
  double waited_s_ = 0;
};

// Seconds, since boot, during which some runnable task had no core
// (/proc/pressure/cpu "some"); none without PSI.
std::optional<double> cpu_stall_total_s();
// The share of the time a runnable task waits for a core right now, from
// /proc/stat's procs_running and the cores this process may use.
double waiting_share();

}  // namespace xph::harness::supervise
