// The SUT's own process when the one xph started only waits for it. A SUT
// run as `sh -c 'cd x && python3 scanner.py'`, `bash run.sh`, `make run`,
// `timeout 600 ...` or `npm start` is a wrapper waiting on its child: the
// process that runs the probes and reports is that child. The judge's
// "every attempt came from the SUT's own process" (VACUOUS) must look at
// it, not at the wrapper, when the result does not name its writer.
#pragma once

#include <sys/types.h>

#include <map>
#include <string>
#include <vector>

namespace xph::harness::supervise {

class Wrappers {
 public:
  explicit Wrappers(pid_t root) : root_(root) {}
  // Looks at the chain from the root once (a few small /proc reads); call
  // it on every tick while the root lives.
  void look();
  // Every child a wrapper of the chain was seen waiting for, in order
  // (empty when the root is no wrapper).
  std::vector<pid_t> own_pids() const;
  // The wrappers from the root down, as "sh (pid 41)", "" when none.
  std::string chain() const;

 private:
  // A wrapper: one child at a time, with which it shares no pipe or socket
  // (so it cannot be reading the child's results) at two looks in a row,
  // and idle beside it (no more than 20 ms of CPU since the child came). A
  // process that ever had two children at once, or worked beside its child,
  // runs the SUT itself (a pool's parent); one that shares a channel with
  // its child (a Queue, captured output, or a child not yet exec'd) is
  // looked at again.
  struct Seen {
    pid_t child = 0;          // the one it has now
    long ticks_at_child = 0;  // its CPU ticks when that child was first seen
    int quiet_looks = 0;      // looks in a row with no channel to it
    std::vector<pid_t> waited_on;  // the children it was seen only waiting for
    bool disqualified = false;
    std::string name;
  };
  bool wrapper(pid_t pid) const;
  pid_t root_;
  std::map<pid_t, Seen> seen_;
};

}  // namespace xph::harness::supervise
