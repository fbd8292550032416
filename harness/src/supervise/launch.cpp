#include "launch.hpp"

#include <fcntl.h>
#include <linux/close_range.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <boost/process.hpp>
#include <boost/process/extend.hpp>

#include "xph/harness/model/errors.hpp"

namespace xph::harness::supervise {
namespace {

namespace bp = boost::process;

// In the child, before exec. Async-signal-safe only.
struct SutProcessSetup : bp::extend::handler {
  int keep_fd = -1;

  template <class Executor>
  void on_exec_setup(Executor&) const {
    ::setpgid(0, 0);  // its own group: the whole family can be killed at once
    const rlimit fsize{kMaxFileBytes, kMaxFileBytes};
    ::setrlimit(RLIMIT_FSIZE, &fsize);  // a flood or a runaway result cannot fill the disk
    inherit_only_stdio();
    if (keep_fd >= 0) ::fcntl(keep_fd, F_SETFD, 0);
    default_signals();
  }
  // A signal mask and ignored signals survive exec. The supervisor blocks
  // SIGINT, SIGTERM and SIGHUP for its signal thread: a SUT inheriting that
  // hangs (Python's Pool ends its workers with a SIGTERM they would never see).
  static void default_signals() {
    sigset_t none;
    ::sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::signal(SIGPIPE, SIG_DFL);
  }
  // xph forks while its other threads hold files and the server's client
  // connections open. A SUT that inherited a connection would keep it alive
  // after the server cut it: a `reset` sends no RST while any process holds
  // the socket. Close-on-exec rather than closed: Boost reports a failed
  // exec through a pipe that must stay open until exec.
  static void inherit_only_stdio() {
    if (::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) == 0) return;
    rlimit files{};
    const int max = ::getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < (1u << 20)
                        ? static_cast<int>(files.rlim_cur) : (1 << 20);
    for (int fd = 3; fd < max; ++fd) ::fcntl(fd, F_SETFD, FD_CLOEXEC);
  }
  static constexpr rlim_t kMaxFileBytes = rlim_t{4} << 30;
};

}  // namespace

Environment own_environment() {
  Environment out;
  for (char** e = environ; *e; ++e) {
    const std::string var(*e);
    const auto eq = var.find('=');
    if (eq != std::string::npos) out[var.substr(0, eq)] = var.substr(eq + 1);
  }
  return out;
}

pid_t launch(const Launch& l, const std::string& sut_name) {
  bp::environment env;
  for (const auto& [k, v] : l.env) env[k] = v;
  SutProcessSetup setup;
  setup.keep_fd = l.keep_fd;
  std::error_code ec;
  bp::child child(bp::exe = l.argv.front(), bp::args = std::vector<std::string>(l.argv.begin() + 1, l.argv.end()),
                  bp::start_dir = l.dir.string(), env, bp::std_in < bp::null, bp::std_out > l.out.string(),
                  bp::std_err > l.err.string(), setup, ec);
  if (ec) throw InputError("SUT " + sut_name + ": cannot start " + l.argv.front() + ": " + ec.message());
  const pid_t pid = child.id();
  child.detach();  // we wait for it ourselves, by pid, like a warm case
  return pid;
}

}  // namespace xph::harness::supervise
