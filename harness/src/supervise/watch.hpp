// Watching a running SUT until it exits, passes timeout_s of its own time
// (core_wait.hpp), or sits idle for
// the idle bound: no request of its tenant new or in flight, no thread
// runnable, in uninterruptible sleep or asleep on the clock, no CPU, no
// result. Idle is concluded only after a second look, so a SUT that a busy
// machine keeps waiting for a core is never idle.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>

#include "core_wait.hpp"
#include "stuck.hpp"
#include "wrappers.hpp"
#include "xph/harness/model/case_run.hpp"
#include "xph/mock/server.hpp"

namespace xph::harness::supervise {

class IdleWatch {
 public:
  // `tenant` may be null: a SUT not yet at a case (a warm one importing).
  // `dir`: the folder only this case (or zygote) uses, its TMPDIR inside.
  IdleWatch(const mock::TenantLease* tenant, pid_t pgid, const std::filesystem::path& dir, std::filesystem::path err,
            std::filesystem::path result);
  bool busy();        // something shows life since the last look
  bool still_idle();  // the second look: a few samples over ~0.5 s
  // Stuck for good (stuck.hpp), with no request of its tenant in flight or
  // new and no result, over two looks ~100 ms apart: no need to wait the
  // idle bound.
  bool stuck();
  const std::string& stuck_what() const { return stuck_.what(); }
  // When it first saw the SUT print a boundary failure.
  std::optional<std::chrono::steady_clock::time_point> broken_since() const { return broken_since_; }
  // How long the SUT waited for a core the machine did not have.
  const CoreWait& core_wait() const { return core_wait_; }
  // The SUT's own process, behind any wrapper that only waits for it.
  const Wrappers& wrappers() const { return wrappers_; }

 private:
  const mock::TenantLease* tenant_;
  pid_t pgid_;
  std::filesystem::path err_, result_;
  mock::TenantLease::Activity activity_;
  long cpu_ = 0;
  std::map<pid_t, long> main_cpu_;  // each main thread's, by pid
  Wrappers wrappers_;
  CoreWait core_wait_;
  std::optional<std::chrono::steady_clock::time_point> broken_since_;
  std::chrono::steady_clock::time_point last_sample_;
  StuckWatch stuck_;
  mock::TenantLease::Activity stuck_activity_;
  std::chrono::steady_clock::time_point last_stuck_look_;
};

// How a watched process ended, and its wait status when it exited.
struct Ended {
  RunEnd end = RunEnd::Exited;
  std::optional<int> status;
  double waited_for_cores_s = 0;
  std::string stuck_what;  // when end is Stuck: what its threads waited on
};

// Watches PID, a child of ours (exec'd by us, or a warm case reparented to
// us), and reaps it when it exits.
Ended watch(pid_t pid, IdleWatch&, double timeout_s, double idle_bound_s);

}  // namespace xph::harness::supervise
