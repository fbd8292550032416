#include "watch.hpp"

#include <poll.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <thread>

#include "families.hpp"
#include "xph/harness/model/boundary.hpp"

namespace xph::harness::supervise {

using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

IdleWatch::IdleWatch(const mock::TenantLease* tenant, pid_t pgid, const fs::path& dir, fs::path err, fs::path result)
    : tenant_(tenant),
      pgid_(pgid),
      err_(std::move(err)),
      result_(std::move(result)),
      wrappers_(pgid),
      last_sample_(Clock::now()),
      stuck_(pgid, dir) {
  if (tenant_) activity_ = tenant_->activity();
  const GroupSample g = sample_group(pgid_);
  cpu_ = g.ticks;
  main_cpu_ = g.main_ticks;
}

namespace {

// Whether any main thread used over 10 ms of CPU since BEFORE (a process
// new since then: of all it used).
bool mains_worked(const std::map<pid_t, long>& before, const std::map<pid_t, long>& now) {
  long worked = 0;
  for (const auto& [pid, ticks] : now) {
    const auto it = before.find(pid);
    worked += ticks - (it == before.end() ? 0 : std::min(it->second, ticks));
  }
  return worked > 1;
}

}  // namespace

bool IdleWatch::busy() {
  bool busy = !result_.empty() && fs::exists(result_);
  if (tenant_) {
    const auto a = tenant_->activity();
    busy = busy || a != activity_ || a.begun > a.finished;
    activity_ = a;
  }
  // Every tick: a wrapper forks its child at once, and a short SUT lives
  // only a few ticks.
  wrappers_.look();
  const auto now = Clock::now();
  if (now - last_sample_ < std::chrono::milliseconds(250)) return busy;
  last_sample_ = now;
  const GroupSample g = sample_group(pgid_);
  // Python's Pool, its result handler dead, spins a core in its worker
  // handler for ever: once the SUT has printed a boundary failure, only the
  // network and main threads count as life.
  if (!broken_since_ && !boundary_lines(read_tail(err_, 64 * 1024)).empty()) broken_since_ = now;
  // Nor is its CPU work then worth waiting longer for.
  core_wait_.sample(g.runnable && !broken_since_, broken_since_ ? std::vector<ThreadTimes>{} : g.threads);
  if (!broken_since_) busy = busy || g.active || g.ticks - cpu_ > 1;
  // Except main threads: the SUT's, which reports, printed the traceback
  // and may be tearing down (ProcessPoolExecutor's parent takes seconds to
  // exit on a busy machine; it was killed as idle), and its next probe's
  // fresh workers import their SDK in theirs. Python's pool spins in a
  // thread of its own.
  if (broken_since_) busy = busy || g.main_active || mains_worked(main_cpu_, g.main_ticks);
  cpu_ = g.ticks;
  main_cpu_ = g.main_ticks;
  return busy;
}

bool IdleWatch::stuck() {
  const auto now = Clock::now();
  if (now - last_stuck_look_ < std::chrono::milliseconds(100)) return false;
  last_stuck_look_ = now;
  mock::TenantLease::Activity a{};
  if (tenant_) a = tenant_->activity();
  const bool quiet = a == stuck_activity_ && a.begun == a.finished && (result_.empty() || !fs::exists(result_));
  stuck_activity_ = a;
  // Look every time: a look compares with the one before.
  const bool stuck = stuck_.look(broken_since_.has_value());
  if (!quiet) stuck_.forget();
  return stuck && quiet;
}

bool IdleWatch::still_idle() {
  for (int i = 0; i < 3; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(170));
    last_sample_ = {};
    if (busy()) return false;
  }
  return true;
}

Ended watch(pid_t pid, IdleWatch& idle, double timeout_s, double idle_bound_s) {
  const auto started = Clock::now();
  const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  auto quiet_since = started;
  Ended out;
  for (;;) {
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      out.status = status;
      break;
    }
    const auto now = Clock::now();
    if (idle.core_wait().past(started, timeout_s)) {
      out.end = RunEnd::TimedOut;
      break;
    }
    if (idle.stuck()) {
      out.end = RunEnd::Stuck;
      out.stuck_what = idle.stuck_what();
      break;
    }
    if (idle.busy()) quiet_since = now;
    if (now - quiet_since > std::chrono::duration<double>(idle_bound_s)) {
      if (idle.still_idle()) {
        out.end = RunEnd::Idle;
        break;
      }
      quiet_since = Clock::now();
    }
    // Wake the moment the SUT exits, else every 20 ms to look at it.
    if (pidfd >= 0) {
      pollfd p{pidfd, POLLIN, 0};
      ::poll(&p, 1, 20);
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  if (pidfd >= 0) ::close(pidfd);
  out.waited_for_cores_s = idle.core_wait().counted_s(timeout_s);
  return out;
}

}  // namespace xph::harness::supervise
