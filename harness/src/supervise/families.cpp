#include "families.hpp"

#include <dirent.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <thread>
#include <vector>

namespace xph::harness::supervise {
namespace {

using Clock = std::chrono::steady_clock;
using Dir = std::unique_ptr<DIR, int (*)(DIR*)>;

Dir open_dir(const std::string& path) { return Dir(::opendir(path.c_str()), ::closedir); }
bool numeric(const dirent* e) { return e->d_name[0] >= '0' && e->d_name[0] <= '9'; }

// A thread asleep on the clock (time.sleep in a backoff that waits 70 s)
// wakes by itself: the SUT is waiting, not stuck. So does one in any wait
// with a timeout: an event loop's timer (Node's setTimeout waits in
// epoll_wait), a timed lock or poll. A stuck one blocks on a lock, a pipe or
// a poll of its own with no timeout.
bool sleeping_on_the_clock(const std::string& task) {
  const auto call = syscall_of(task);
  if (!call) return false;
  const auto& a = call->a;
  const auto positive = [](unsigned long ms) { return static_cast<int>(ms & 0xffffffffUL) > 0; };
  switch (call->nr) {
#ifdef SYS_nanosleep
    case SYS_nanosleep:
#endif
    case SYS_clock_nanosleep:
      return true;
    case SYS_futex:
      return a[3] != 0;  // a timeout given
#ifdef SYS_poll
    case SYS_poll:
      return positive(a[2]);
#endif
    case SYS_ppoll:
      return a[2] != 0;
#ifdef SYS_select
    case SYS_select:
#endif
    case SYS_pselect6:
      return a[4] != 0;
#ifdef SYS_epoll_wait
    case SYS_epoll_wait:
#endif
    case SYS_epoll_pwait:
      return positive(a[3]);
#ifdef SYS_epoll_pwait2
    case SYS_epoll_pwait2:
      return a[3] != 0;
#endif
    default:
      return false;
  }
}

void sample_threads(const std::string& pid, GroupSample& out) {
  const std::string tasks = "/proc/" + pid + "/task";
  const Dir dir = open_dir(tasks);
  if (!dir) return;
  while (const dirent* e = ::readdir(dir.get())) {
    if (!numeric(e)) continue;
    const std::string task = tasks + "/" + e->d_name;
    auto f = stat_fields(task + "/stat");
    std::string state;
    if (!f || !(*f >> state)) continue;
    const bool active =
        state == "R" || state == "D" || (state == "S" && sleeping_on_the_clock(task));
    out.runnable = out.runnable || state == "R";
    out.active = out.active || active;
    if (pid == e->d_name) {
      long skip;
      unsigned long utime = 0, stime = 0;
      for (int i = 0; i < 10; ++i) *f >> skip;  // ppid .. cmajflt
      *f >> utime >> stime;
      out.main_active = out.main_active || state == "R" || state == "D";
      out.main_ticks[static_cast<pid_t>(std::atol(e->d_name))] = static_cast<long>(utime + stime);
    }
    std::ifstream sched(task + "/schedstat");
    ThreadTimes t{static_cast<pid_t>(std::atol(e->d_name))};
    if (sched >> t.ran_ns >> t.waited_ns) out.threads.push_back(t);
  }
}

bool environ_has(const std::string& pid, const std::string& var) {
  std::ifstream in("/proc/" + pid + "/environ", std::ios::binary);
  for (std::string v; std::getline(in, v, '\0');)
    if (v == var) return true;
  return false;
}

// Members that may have left the group: exec'd ones carry the tenant in
// their environment; forked ones of a warm case carry its name (their
// environment is the zygote's, not the case's). xph itself is neither.
std::vector<pid_t> marked_members(const Family& f) {
  const std::string needle = "OPENAI_API_KEY=" + f.tenant;
  std::vector<pid_t> out;
  const Dir dir = open_dir("/proc");
  if (!dir) return out;
  while (const dirent* e = ::readdir(dir.get())) {
    if (!numeric(e)) continue;
    if ((!f.comm.empty() && comm_of(e->d_name) == f.comm) || environ_has(e->d_name, needle))
      out.push_back(static_cast<pid_t>(std::atol(e->d_name)));
  }
  return out;
}

// Zombies of the group that are our children (the SUT's first process,
// orphans come to us as subreaper).
void reap_group(pid_t pgid) {
  int status = 0;
  while (::waitpid(-pgid, &status, WNOHANG) > 0) {
  }
}

bool group_gone(pid_t pgid) { return ::kill(-pgid, 0) != 0 && errno == ESRCH; }

}  // namespace

std::vector<pid_t> children_of(pid_t pid) {
  const std::string tasks = "/proc/" + std::to_string(pid) + "/task";
  std::vector<pid_t> out;
  const Dir dir = open_dir(tasks);
  if (!dir) return out;
  while (const dirent* e = ::readdir(dir.get())) {
    if (!numeric(e)) continue;
    std::ifstream in(tasks + "/" + e->d_name + "/children");
    for (long c; in >> c;) out.push_back(static_cast<pid_t>(c));
  }
  return out;
}

std::string comm_of(const std::string& pid) {
  std::ifstream in("/proc/" + pid + "/comm");
  std::string comm;
  std::getline(in, comm);
  return comm;
}

std::optional<std::istringstream> stat_fields(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  if (!std::getline(in, line)) return std::nullopt;
  const auto close = line.rfind(')');
  if (close == std::string::npos || close + 2 > line.size()) return std::nullopt;
  return std::istringstream(line.substr(close + 2));
}

std::optional<Syscall> syscall_of(const std::string& task) {
  std::ifstream in(task + "/syscall");
  Syscall out;
  if (!(in >> out.nr)) return std::nullopt;  // "running"
  for (auto& arg : out.a)
    if (!(in >> std::hex >> arg)) return std::nullopt;
  return out;
}

std::vector<pid_t> group_members(pid_t pgid) {
  std::vector<pid_t> out;
  const Dir dir = open_dir("/proc");
  if (!dir) return out;
  while (const dirent* e = ::readdir(dir.get())) {
    if (!numeric(e)) continue;
    auto f = stat_fields(std::string("/proc/") + e->d_name + "/stat");
    std::string state;
    long ppid, pgrp;
    if (f && (*f >> state >> ppid >> pgrp) && pgrp == pgid && state != "Z")
      out.push_back(static_cast<pid_t>(std::atol(e->d_name)));
  }
  return out;
}

GroupSample sample_group(pid_t pgid) {
  GroupSample out;
  const Dir dir = open_dir("/proc");
  if (!dir) return out;
  while (const dirent* e = ::readdir(dir.get())) {
    if (!numeric(e)) continue;
    auto f = stat_fields(std::string("/proc/") + e->d_name + "/stat");
    if (!f) continue;
    std::string state;
    long ppid, pgrp, session, tty, tpgid;
    unsigned long flags, minflt, cminflt, majflt, cmajflt, utime, stime;
    *f >> state >> ppid >> pgrp >> session >> tty >> tpgid >> flags >> minflt >> cminflt >> majflt >> cmajflt >>
        utime >> stime;
    if (pgrp != pgid || state == "Z") continue;
    out.ticks += static_cast<long>(utime + stime);
    sample_threads(e->d_name, out);
  }
  return out;
}

void kill_family(const Family& f) {
  ::kill(-f.pgid, SIGKILL);
  const auto deadline = Clock::now() + std::chrono::seconds(5);
  std::set<pid_t> escaped;  // a zombie's environ reads empty: remember whom we killed
  for (bool done = false; !done && Clock::now() < deadline;) {
    reap_group(f.pgid);
    const auto found = marked_members(f);
    for (pid_t pid : found) {
      ::kill(pid, SIGKILL);
      escaped.insert(pid);
    }
    done = found.empty() && group_gone(f.pgid);
    if (!done) {
      ::kill(-f.pgid, SIGKILL);
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  // Escaped processes reparented to us (the subreaper) are ours to reap;
  // wait until each is gone, or is no child of ours (init reaps it then).
  for (pid_t pid : escaped) {
    int status = 0;
    while (::waitpid(pid, &status, WNOHANG) == 0 && Clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

void end_family(const Family& f) {
  constexpr auto kTermGrace = std::chrono::milliseconds(100);
  if (::kill(-f.pgid, SIGTERM) == 0) {
    const auto deadline = Clock::now() + kTermGrace;
    while (Clock::now() < deadline) {
      reap_group(f.pgid);
      if (group_gone(f.pgid)) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  }
  kill_family(f);
}

std::string read_tail(const std::filesystem::path& path, std::size_t max) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  in.seekg(0, std::ios::end);
  const auto size = static_cast<std::size_t>(in.tellg());
  in.seekg(static_cast<std::streamoff>(size > max ? size - max : 0));
  std::string out(std::min(size, max), '\0');
  in.read(out.data(), static_cast<std::streamsize>(out.size()));
  return out;
}

}  // namespace xph::harness::supervise
