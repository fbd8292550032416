// A SUT's process family as /proc shows it: its process group, and any
// process that left it (a double fork into a new session) yet carries the
// case's marks. No SUT process survives its case.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <filesystem>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "core_wait.hpp"

namespace xph::harness::supervise {

struct Family {
  pid_t pgid = 0;
  std::string tenant;  // OPENAI_API_KEY in the environment of its exec'd processes
  std::string comm;    // the name of its forked ones, when it is a warm SUT's case ("" otherwise)
};

// What a process group is doing: its CPU ticks so far, and whether any of
// its threads is runnable, in uninterruptible sleep or asleep on the clock.
// A SUT on a busy machine can wait seconds for a core, and one in its own
// backoff can sleep a minute: it is slow then, not idle.
struct GroupSample {
  long ticks = 0;
  bool active = false;
  bool runnable = false;  // a thread running or waiting for a core
  std::vector<ThreadTimes> threads;  // of its live processes, when /proc shows them
  // Main threads (a process's first): one running or in uninterruptible
  // sleep, and each one's CPU ticks so far, by pid. A broken pool spins in
  // another thread of its parent; a main thread at work is a process at work.
  bool main_active = false;
  std::map<pid_t, long> main_ticks;
};
GroupSample sample_group(pid_t pgid);
// The live (not zombie) processes of a process group.
std::vector<pid_t> group_members(pid_t pgid);
// A process's children, of all its threads (a child belongs to the thread
// that started it; Node's spawn runs on its loop thread).
std::vector<pid_t> children_of(pid_t pid);
// A process's name (its comm), "" when it is gone.
std::string comm_of(const std::string& pid);
// The fields of a /proc/.../stat file after "(comm)" (comm may hold spaces
// and parens), or none when it is gone.
std::optional<std::istringstream> stat_fields(const std::string& path);
// The system call a thread sleeps in, as /proc/<pid>/task/<tid>/syscall
// shows it (number and six arguments), or none while it runs.
struct Syscall {
  long nr = -1;
  unsigned long a[6] = {};
};
std::optional<Syscall> syscall_of(const std::string& task);

// SIGTERM and a short grace (a SUT's cleanup may run; free when the family
// is already gone), then SIGKILL to the group and to every escaped member,
// reaping those that are ours.
void end_family(const Family&);
// SIGKILL at once (an interrupted xph has no time to wait).
void kill_family(const Family&);

// The last MAX bytes of the file at PATH ("" when unreadable).
std::string read_tail(const std::filesystem::path& path, std::size_t max);

}  // namespace xph::harness::supervise
