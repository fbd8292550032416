#include "wrappers.hpp"

#include <sys/syscall.h>

#include <fstream>
#include <optional>
#include <sstream>
#include <vector>

#include "families.hpp"

namespace xph::harness::supervise {
namespace {

// The children of a process's main thread (a wrapper has no other thread).
std::vector<pid_t> children_of(pid_t pid) {
  const std::string p = std::to_string(pid);
  std::ifstream in("/proc/" + p + "/task/" + p + "/children");
  std::vector<pid_t> out;
  for (long c; in >> c;) out.push_back(static_cast<pid_t>(c));
  return out;
}

int threads_of(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("Threads:", 0) == 0) return std::atoi(line.c_str() + 8);
  return 0;
}

// wait4/waitid (a shell, make), or a wait for its signal (GNU timeout
// sleeps in sigsuspend until SIGCHLD or its alarm): yes; blocked in any
// other call: no; running (a shell between its fork and its wait): not
// known yet.
std::optional<bool> waiting_for_a_child(pid_t pid) {
  const std::string p = std::to_string(pid);
  const auto call = syscall_of("/proc/" + p + "/task/" + p);
  if (!call) return std::nullopt;
  switch (call->nr) {
    case SYS_wait4:
    case SYS_waitid:
    case SYS_rt_sigsuspend:
#ifdef SYS_pause
    case SYS_pause:
#endif
      return true;
    default:
      return false;
  }
}

}  // namespace

void Wrappers::look() {
  for (pid_t pid = root_;;) {
    const auto it = seen_.find(pid);
    if (it != seen_.end() && it->second.disqualified) return;
    const auto children = children_of(pid);
    if (children.empty()) return;  // not yet forked, or its child is gone: nothing new to learn
    Seen& s = seen_[pid];
    const auto waits = children.size() == 1 && threads_of(pid) == 1 ? waiting_for_a_child(pid) : false;
    if (!waits) return;  // running: look again next tick
    if (!*waits || (s.child && s.child != children.front())) {
      s.disqualified = true;
      return;
    }
    s.child = children.front();
    s.waited = true;
    if (s.name.empty()) s.name = comm_of(std::to_string(pid));
    pid = s.child;
  }
}

bool Wrappers::wrapper(pid_t pid) const {
  const auto it = seen_.find(pid);
  return it != seen_.end() && it->second.waited && !it->second.disqualified;
}

pid_t Wrappers::own_pid() const {
  pid_t pid = root_;
  while (wrapper(pid)) pid = seen_.at(pid).child;
  return pid;
}

std::string Wrappers::chain() const {
  std::ostringstream out;
  for (pid_t pid = root_; wrapper(pid); pid = seen_.at(pid).child)
    out << (pid == root_ ? "" : ", ") << seen_.at(pid).name << " (pid " << pid << ")";
  return out.str();
}

}  // namespace xph::harness::supervise
