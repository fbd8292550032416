// A warm SUT: its program started once, imported, then asked to fork each
// case (the warm-start protocol, docs/python-sut.md). The forked case is
// reparented to us, the subreaper, and is then supervised exactly as an
// exec'ed one.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <mutex>
#include <optional>
#include <string>

#include "launch.hpp"
#include "xph/harness/supervise/supervisor.hpp"

namespace xph::harness::supervise {

// What a case needs of the zygote: where its files go, its environment, and
// the name its forked processes carry.
struct ForkRequest {
  std::string id;
  std::filesystem::path dir, out, err;
  Environment env;
  std::string comm;
};

// A case's process, or why there is none. When the zygote never got as far
// as the case, `problem` says what it did instead (one line), and `end`,
// `status` and `stderr_text` say how it ended, for the verdict.
struct Forked {
  pid_t pid = 0;
  std::string problem;
  RunEnd end = RunEnd::Exited;
  std::optional<int> status;
  std::string stderr_text;
  double waited_for_cores_s = 0;
  std::string stuck_what;
};

class Zygote {
 public:
  // An import is not a case: it is bounded by the case's timeout_s or this,
  // whichever is longer, of its own time (core_wait.hpp). garak HEAD imports
  // in ~3 s on an idle machine; at load 15 on two cores a fuzz case's 10 s,
  // even stretched threefold for the cores it waited for, was not enough.
  // A zygote stuck or idle while importing is still ended at once.
  static constexpr double kImportBoundS = 60;

  Zygote(SutCommand command, std::string folder_name);
  ~Zygote();  // closes the socket (the zygote exits on EOF), then ends its family
  Zygote(const Zygote&) = delete;
  Zygote& operator=(const Zygote&) = delete;

  // Starts the zygote when none runs (again, when the last one died), waits
  // for its hello within the case's bounds, and asks it to fork the case.
  // Serialised: one request at a time.
  Forked fork_case(const ForkRequest&, double timeout_s, double idle_bound_s);

  // For an interrupt, which cannot wait for the lock: kill it and remove its
  // folder, as fast as it can.
  void kill_now();

 private:
  std::optional<Forked> start(double timeout_s, double idle_bound_s);
  std::optional<std::string> read_line(double timeout_s);
  void stop();

  SutCommand command_;
  std::string folder_name_;
  std::filesystem::path dir_;
  std::mutex mu_;
  pid_t pid_ = 0;
  int fd_ = -1;
  std::string buffer_;
};

}  // namespace xph::harness::supervise
