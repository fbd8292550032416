#include "stuck.hpp"

#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdint>
#include <fstream>
#include <optional>
#include <sstream>
#include <vector>

#include "families.hpp"

namespace xph::harness::supervise {
namespace {

constexpr unsigned long kFutexCmdMask = 0x7f;  // op without FUTEX_PRIVATE_FLAG, FUTEX_CLOCK_REALTIME
constexpr unsigned long kFutexWait = 0, kFutexWaitBitset = 9;

// Only these can be the end of a wait with nothing outside to end it: a pipe
// (written by one of the group, all asleep too) or an eventfd. A socket has
// a peer that may answer; a timerfd or signalfd fires by itself.
bool only_the_group_writes(pid_t pid, long fd) {
  char target[256];
  const std::string link = "/proc/" + std::to_string(pid) + "/fd/" + std::to_string(fd);
  const ssize_t n = ::readlink(link.c_str(), target, sizeof target - 1);
  if (n <= 0) return false;
  const std::string t(target, static_cast<std::size_t>(n));
  return t.rfind("pipe:", 0) == 0 || t == "anon_inode:[eventfd]";
}

// The fds of a poll(2) or ppoll(2) that is waiting: its pollfd array, read
// from the process's memory (xph is its ancestor, so may read it).
std::optional<std::vector<long>> polled_fds(pid_t pid, unsigned long addr, unsigned long count) {
  if (count > 4096) return std::nullopt;
  struct PollFd {
    int fd;
    short events, revents;
  };
  std::vector<PollFd> fds(count);
  const int mem = ::open(("/proc/" + std::to_string(pid) + "/mem").c_str(), O_RDONLY | O_CLOEXEC);
  if (mem < 0) return std::nullopt;
  const auto bytes = static_cast<ssize_t>(count * sizeof(PollFd));
  const bool read_all = ::pread(mem, fds.data(), static_cast<std::size_t>(bytes), static_cast<off_t>(addr)) == bytes;
  ::close(mem);
  if (!read_all) return std::nullopt;
  std::vector<long> out;
  for (const PollFd& p : fds)
    if (p.fd >= 0) out.push_back(p.fd);
  return out;
}

// The fds an epoll instance watches ("tfd:" lines of its fdinfo).
std::optional<std::vector<long>> epoll_fds(pid_t pid, unsigned long epfd) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/fdinfo/" + std::to_string(epfd));
  if (!in) return std::nullopt;
  std::vector<long> out;
  for (std::string line; std::getline(in, line);) {
    std::istringstream words(line);
    std::string key;
    long fd = -1;
    if (words >> key && key == "tfd:" && words >> fd) out.push_back(fd);
  }
  return out;
}

bool all_only_the_group_writes(pid_t pid, const std::optional<std::vector<long>>& fds) {
  if (!fds) return false;
  for (long fd : *fds)
    if (!only_the_group_writes(pid, fd)) return false;
  return true;
}

bool infinite(unsigned long timeout_ms) { return static_cast<int>(timeout_ms & 0xffffffffUL) < 0; }

// "lock" or "pipe" when the thread waits with no timeout on what only the
// group can end; "" otherwise (running, asleep on the clock, on a socket,
// with a timeout, or in a call not known here).
std::string endless_wait(pid_t pid, const std::string& task) {
  std::ifstream in(task + "/syscall");
  long nr = -1;
  if (!(in >> nr)) return "";  // "running"
  unsigned long a[6] = {};
  for (auto& arg : a)
    if (!(in >> std::hex >> arg)) return "";
  switch (nr) {
    case SYS_futex: {
      const unsigned long cmd = a[1] & kFutexCmdMask;
      return (cmd == kFutexWait || cmd == kFutexWaitBitset) && a[3] == 0 ? "lock" : "";
    }
    case SYS_read:
    case SYS_readv:
      return only_the_group_writes(pid, static_cast<long>(a[0])) ? "pipe" : "";
    case SYS_poll:
      return infinite(a[2]) && all_only_the_group_writes(pid, polled_fds(pid, a[0], a[1])) ? "pipe" : "";
    case SYS_ppoll:
      return a[2] == 0 && all_only_the_group_writes(pid, polled_fds(pid, a[0], a[1])) ? "pipe" : "";
    case SYS_epoll_wait:
    case SYS_epoll_pwait:
      return infinite(a[3]) && all_only_the_group_writes(pid, epoll_fds(pid, a[0])) ? "pipe" : "";
    default:
      return "";
  }
}

std::optional<unsigned long long> ran_ns(const std::string& task) {
  std::ifstream in(task + "/schedstat");
  unsigned long long ns = 0;
  if (!(in >> ns)) return std::nullopt;
  return ns;
}

}  // namespace

void StuckWatch::forget() {
  last_.clear();
  matches_ = 0;
}

bool StuckWatch::look(bool spinners) {
  std::map<pid_t, Thread> now;
  int locks = 0, pipes = 0, spinning = 0;
  const auto members = group_members(pgid_);
  bool stuck = !members.empty();
  for (std::size_t i = 0; stuck && i < members.size(); ++i) {
    const pid_t pid = members[i];
    const std::string tasks = "/proc/" + std::to_string(pid) + "/task";
    std::error_code ec;
    bool any = false, spinner = false;
    for (auto it = std::filesystem::directory_iterator(tasks, ec); !ec && it != std::filesystem::directory_iterator();
         it.increment(ec)) {
      any = true;
      const std::string task = it->path().string();
      const pid_t tid = static_cast<pid_t>(std::stol(it->path().filename().string()));
      const auto ns = ran_ns(task);  // first: if it runs after this, the next look sees it
      auto f = stat_fields(task + "/stat");
      std::string state;
      const std::string wait = f && (*f >> state) && state == "S" ? endless_wait(pid, task) : "";
      if (!ns) {
        stuck = false;
        break;
      }
      // A thread that waits for ever now but ran since the last look is no
      // sleeper: it spins, or something woke it.
      const auto before = last_.find(tid);
      const bool ran = before != last_.end() && !before->second.spinning && before->second.ran_ns != *ns;
      if (!wait.empty() && !ran) {
        now[tid] = {*ns, false};
        (wait == "lock" ? locks : pipes) += 1;
        continue;
      }
      // A spinner runs (or ran, and is back in its endless poll); one asleep
      // on the clock or with a timeout wakes by itself, so it is no spinner.
      const bool runs = state == "R" || (!wait.empty() && ran);
      if (!spinners || !runs || spinner || (pid == pgid_ && tid == pid)) {
        stuck = false;
        break;
      }
      spinner = true;
      now[tid] = {*ns, true};
      ++spinning;
    }
    stuck = stuck && any && !ec;
  }
  if (!stuck) {
    forget();
    return false;
  }
  matches_ = now == last_ ? matches_ + 1 : 0;
  last_ = std::move(now);
  std::ostringstream what;
  what << last_.size() << " thread(s) of " << members.size() << " process(es): " << locks << " on a lock, " << pipes
       << " on a pipe";
  if (spinning) what << ", " << spinning << " spinning";
  what_ = what.str();
  return matches_ >= (spinning ? 2 : 1);
}

}  // namespace xph::harness::supervise
