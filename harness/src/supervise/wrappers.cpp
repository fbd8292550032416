#include "wrappers.hpp"

#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <memory>
#include <sstream>
#include <vector>

#include "families.hpp"

namespace xph::harness::supervise {
namespace {

// The pipes and sockets a process holds, as "pipe:[inode]", sorted.
std::vector<std::string> channels_of(pid_t pid) {
  const std::string fds = "/proc/" + std::to_string(pid) + "/fd";
  std::vector<std::string> out;
  const std::unique_ptr<DIR, int (*)(DIR*)> dir(::opendir(fds.c_str()), ::closedir);
  if (!dir) return out;
  char target[64];
  while (const dirent* e = ::readdir(dir.get())) {
    const auto n = ::readlink((fds + "/" + e->d_name).c_str(), target, sizeof target - 1);
    if (n <= 0) continue;
    const std::string link(target, static_cast<std::size_t>(n));
    if (link.rfind("pipe:", 0) == 0 || link.rfind("socket:", 0) == 0) out.push_back(link);
  }
  std::sort(out.begin(), out.end());
  return out;
}

// A parent that reads its child's results shares a pipe or socket with it
// (a multiprocessing Queue, captured output, Node's IPC channel). So does a
// shell's child between fork and exec, which closes its close-on-exec ones.
bool talks_with(pid_t parent, pid_t child) {
  const auto a = channels_of(parent), b = channels_of(child);
  std::vector<std::string> both;
  std::set_intersection(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(both));
  return !both.empty();
}

// Its CPU ticks (user + system), or -1 when it is gone.
long ticks_of(pid_t pid) {
  auto f = stat_fields("/proc/" + std::to_string(pid) + "/stat");
  std::string skip;
  unsigned long utime = 0, stime = 0;
  if (!f) return -1;
  for (int i = 0; i < 11; ++i) *f >> skip;  // state .. cmajflt
  if (!(*f >> utime >> stime)) return -1;
  return static_cast<long>(utime + stime);
}

// Alive and not a zombie: a zombie has no descriptors left to compare.
bool alive(pid_t pid) {
  auto f = stat_fields("/proc/" + std::to_string(pid) + "/stat");
  std::string state;
  return f && (*f >> state) && state != "Z" && state != "X";
}

}  // namespace

void Wrappers::look() {
  for (pid_t pid = root_;;) {
    const auto it = seen_.find(pid);
    if (it != seen_.end() && it->second.disqualified) return;
    const auto children = children_of(pid);
    if (children.empty()) return;  // not yet forked, or its child is gone: nothing new to learn
    Seen& s = seen_[pid];
    const long ticks = ticks_of(pid);
    if (children.size() > 1) {  // a pool's parent, a pipeline: it runs the SUT
      s.disqualified = true;
      return;
    }
    if (children.front() != s.child) {  // its first, or the next after one ended (`sh -c 'scan; rm x'`)
      s.child = children.front();
      s.quiet_looks = 0;
      s.ticks_at_child = ticks;
    }
    if (ticks - s.ticks_at_child > 2) {  // over 20 ms of CPU beside its child: it works, not waits
      s.disqualified = true;
      return;
    }
    // A child not yet exec'd shares its parent's descriptors; one exiting
    // shows none. Two looks in a row, the child alive at each, that find
    // no channel between them and no work in the parent: it only waits
    // (a shell, make and timeout in a call, npm start in its event loop).
    if (!alive(s.child) || talks_with(pid, s.child) || !alive(s.child)) {
      s.quiet_looks = 0;
      return;
    }
    if (++s.quiet_looks < 2) return;
    if (s.waited_on.empty() || s.waited_on.back() != s.child) s.waited_on.push_back(s.child);
    if (s.name.empty()) s.name = comm_of(std::to_string(pid));
    pid = s.child;
  }
}

bool Wrappers::wrapper(pid_t pid) const {
  const auto it = seen_.find(pid);
  return it != seen_.end() && !it->second.waited_on.empty() && !it->second.disqualified;
}

std::vector<pid_t> Wrappers::own_pids() const {
  std::vector<pid_t> out;
  for (pid_t pid = root_; wrapper(pid); pid = seen_.at(pid).waited_on.back())
    out.insert(out.end(), seen_.at(pid).waited_on.begin(), seen_.at(pid).waited_on.end());
  return out;
}

std::string Wrappers::chain() const {
  std::ostringstream out;
  for (pid_t pid = root_; wrapper(pid); pid = seen_.at(pid).waited_on.back())
    out << (pid == root_ ? "" : ", ") << seen_.at(pid).name << " (pid " << pid << ")";
  return out.str();
}

}  // namespace xph::harness::supervise
