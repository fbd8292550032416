// A process group that can never move again by itself: every thread asleep
// in a wait with no timeout on something only the group could end (a lock,
// a pipe, an eventfd, a Unix socket to one of its own), and none of them ran
// between two looks. Nothing in
// the group can wake another then, and nothing outside is waiting to: no
// thread waits on a socket, a timer or the clock. Python's pool after its
// result handler died is the case in point (the parent waits on a lock, the
// workers on their task pipe): it is stuck for good, and there is no reason
// to wait the idle bound to say so.
//
// A process-shared lock (a futex without FUTEX_PRIVATE_FLAG) in a file some
// process outside the group maps too is no endless wait: a warm SUT's
// semaphore made at import is held by another case of its zygote.
//
// What a look cannot see, so a stuck verdict cannot cover: a signal from
// outside (alarm(2) and setitimer(2) leave nothing in /proc), and memory
// shared with a process outside the group some other way. A process of another ABI (a
// 32-bit one on x86-64) is never stuck: its syscall numbers are not ours.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <map>
#include <string>

namespace xph::harness::supervise {

class StuckWatch {
 public:
  // `dir`: the case's own folder (a listener bound inside it is the group's).
  StuckWatch(pid_t pgid, std::filesystem::path dir) : pgid_(pgid), dir_(std::move(dir)) {}
  // One look at the group; true when it is stuck. With `spinners`, a thread
  // that runs is allowed too, one a process and never a process's main
  // thread: the caller allows it only once the SUT has printed a boundary
  // failure, after which Python's pool spins in its worker handler, a
  // thread of the pool's parent, for ever (its result pipe stays readable,
  // and no one is left to read it). Stuck then takes three looks; else two.
  bool look(bool spinners);
  // Start again: something outside the threads showed life (a request).
  void forget();
  // What the last stuck look found, e.g. "7 thread(s) of 4 process(es): 4
  // on a lock, 2 on a pipe, 1 spinning".
  const std::string& what() const { return what_; }

 private:
  struct Thread {
    unsigned long long ran_ns = 0;
    bool spinning = false;
    bool operator==(const Thread& o) const { return spinning == o.spinning && (spinning || ran_ns == o.ran_ns); }
  };
  pid_t pgid_;
  std::filesystem::path dir_;
  std::map<pid_t, Thread> last_;  // by thread id; empty when the last look was not stuck
  int matches_ = 0;               // looks in a row that matched the one before
  std::string what_;
};

}  // namespace xph::harness::supervise
