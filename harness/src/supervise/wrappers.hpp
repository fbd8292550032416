// The SUT's own process when the one xph started only waits for it. A SUT
// run as `sh -c 'cd x && python3 scanner.py'`, `bash run.sh`, `make run` or
// `timeout 600 ...` is a wrapper waiting on its only child: the process that runs the
// probes and reports is that child. The judge's "every attempt came from
// the SUT's own process" (VACUOUS) and the idle rule that counts the
// reporting main thread must look at it, not at the wrapper.
#pragma once

#include <sys/types.h>

#include <map>
#include <string>

namespace xph::harness::supervise {

class Wrappers {
 public:
  explicit Wrappers(pid_t root) : root_(root) {}
  // Looks at the chain from the root once (a few small /proc reads); call
  // it on every tick while the root lives.
  void look();
  // The root, or the child of the last wrapper in the chain from it.
  pid_t own_pid() const;
  // The wrappers from the root down, as "sh (pid 41)", "" when none.
  std::string chain() const;

 private:
  // A wrapper: one thread, blocked in a wait for its one child, the same
  // child at every look in which it had any. A process that ever had two
  // children, or one while blocked in anything but a wait for it, runs the
  // SUT itself (a pool's parent, a main that reads a helper's pipe); one
  // running (a shell between its fork and its wait) is looked at again.
  struct Seen {
    pid_t child = 0;
    bool waited = false;
    bool disqualified = false;
    std::string name;
  };
  bool wrapper(pid_t pid) const;
  pid_t root_;
  std::map<pid_t, Seen> seen_;
};

}  // namespace xph::harness::supervise
