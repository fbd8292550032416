#include "xph/harness/runner.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <pthread.h>
#include <signal.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <chrono>
#include <cmath>
#include <fstream>
#include <map>
#include <set>
#include <shared_mutex>
#include <sstream>
#include <thread>

#include <boost/process.hpp>
#include <boost/process/extend.hpp>
#include <nlohmann/json.hpp>

#include "xph/harness/oracle.hpp"

namespace xph::harness {
namespace {

namespace bp = boost::process;
namespace fs = std::filesystem;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

// In the child, before exec: its own process group (so the whole family
// can be killed at once) and a bound on every file it writes (so a SUT that
// floods stdout or writes a runaway result cannot fill the disk).
struct SutProcessSetup : bp::extend::handler {
  template <class Executor>
  void on_exec_setup(Executor&) const {
    ::setpgid(0, 0);
    const rlimit fsize{kMaxFileBytes, kMaxFileBytes};
    ::setrlimit(RLIMIT_FSIZE, &fsize);
    inherit_only_stdio();
    default_signals();
  }
  // A signal mask and ignored signals survive exec. xph blocks SIGINT,
  // SIGTERM and SIGHUP for its signal thread, and its server ignores SIGPIPE:
  // a SUT inheriting them hangs (Python's Pool ends its workers with a
  // SIGTERM they would never see). Async-signal-safe only.
  static void default_signals() {
    sigset_t none;
    ::sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::signal(SIGPIPE, SIG_DFL);
  }
  // xph forks while its other threads hold files and the server's client
  // connections open. A SUT that inherited a connection would keep it alive
  // after the server cut it: a `reset` sends no RST while any process holds
  // the socket, so another case's client waits out its timeout instead.
  // Marked close-on-exec rather than closed: Boost reports a failed exec
  // through a pipe that must stay open until exec. Async-signal-safe only.
  static void inherit_only_stdio() {
    if (::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) == 0) return;
    rlimit files{};
    const int max = ::getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < (1u << 20)
                        ? static_cast<int>(files.rlim_cur) : (1 << 20);
    for (int fd = 3; fd < max; ++fd) ::fcntl(fd, F_SETFD, FD_CLOEXEC);
  }
  static constexpr rlim_t kMaxFileBytes = rlim_t{4} << 30;
};

std::string read_tail(const fs::path& path, std::size_t max) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  in.seekg(0, std::ios::end);
  const auto size = static_cast<std::size_t>(in.tellg());
  in.seekg(static_cast<std::streamoff>(size > max ? size - max : 0));
  std::string out(std::min(size, max), '\0');
  in.read(out.data(), static_cast<std::streamsize>(out.size()));
  return out;
}

// Total CPU ticks of the live processes in a process group.
long group_cpu(pid_t pgid) {
  long ticks = 0;
  std::unique_ptr<DIR, int (*)(DIR*)> dir(::opendir("/proc"), ::closedir);
  if (!dir) return 0;
  while (const dirent* e = ::readdir(dir.get())) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    std::ifstream in(std::string("/proc/") + e->d_name + "/stat");
    std::string line;
    if (!std::getline(in, line)) continue;
    const auto close = line.rfind(')');  // comm may hold spaces and parens
    if (close == std::string::npos) continue;
    std::istringstream rest(line.substr(close + 2));
    std::string state;
    long ppid, pgrp, session, tty, tpgid;
    unsigned long flags, minflt, cminflt, majflt, cmajflt, utime, stime;
    rest >> state >> ppid >> pgrp >> session >> tty >> tpgid >> flags >> minflt >> cminflt >> majflt >> cmajflt >>
        utime >> stime;
    if (pgrp != pgid || state == "Z") continue;
    ticks += static_cast<long>(utime + stime);
  }
  return ticks;
}

// Processes that carry this case's tenant in their environment: the SUT's
// whole family, even one that left its process group and session (a double
// fork into setsid). Our own process is never one: the tenant is only in the
// environment we hand the SUT.
std::vector<pid_t> family_by_environment(const std::string& tenant) {
  const std::string needle = "OPENAI_API_KEY=" + tenant;
  std::vector<pid_t> out;
  std::unique_ptr<DIR, int (*)(DIR*)> dir(::opendir("/proc"), ::closedir);
  if (!dir) return out;
  while (const dirent* e = ::readdir(dir.get())) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    std::ifstream in(std::string("/proc/") + e->d_name + "/environ", std::ios::binary);
    for (std::string var; std::getline(in, var, '\0');)
      if (var == needle) {
        out.push_back(static_cast<pid_t>(std::atol(e->d_name)));
        break;
      }
  }
  return out;
}

// Kill every process of the group, and any that escaped it, and reap those
// that are our children (the SUT itself is reaped by Boost; orphans come to
// us as subreaper).
void kill_and_reap(pid_t pgid, const std::string& tenant) {
  ::kill(-pgid, SIGKILL);
  const auto deadline = Clock::now() + std::chrono::seconds(5);
  std::set<pid_t> escaped;  // a zombie's environ reads empty: remember whom we killed
  for (bool done = false; !done && Clock::now() < deadline;) {
    int status = 0;
    if (::waitpid(-pgid, &status, WNOHANG) > 0) continue;
    const auto found = family_by_environment(tenant);
    for (pid_t pid : found) {
      ::kill(pid, SIGKILL);
      escaped.insert(pid);
    }
    done = found.empty() && ::kill(-pgid, 0) != 0 && errno == ESRCH;
    if (!done) {
      ::kill(-pgid, SIGKILL);
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

double longest_wait_in(const Scenario& s) {
  double longest = std::max(s.request_timeout_s, s.retry.max_delay_s);
  for (const auto& [_, script] : s.responses)
    for (const auto& step : script.steps) {
      if (step.retry_after_s) longest = std::max(longest, std::ceil(*step.retry_after_s));
      longest = std::max(longest, step.seconds);
    }
  return longest;
}

std::atomic<unsigned> g_case_counter{0};
constexpr std::uintmax_t kMaxResultBytes = 64u << 20;

// The cases whose SUTs may be alive. A SUT runs in a process group of its
// own, so the terminal's Ctrl-C never reaches it: an interrupted xph must end
// them itself, or they outlive it (a ref-naive pool waits on a dead result
// reader for ever).
class LiveCases {
 public:
  struct Entry {
    pid_t pgid;
    std::string tenant;
    fs::path dir;
  };
  // Shared by SUT starts (start, then add); an interrupt takes it whole, so
  // it sees every SUT that started and no SUT starts after it.
  std::shared_mutex starting;

  void add(Entry e) {
    std::lock_guard lock(mu_);
    cases_[e.tenant] = std::move(e);
  }
  void remove(const std::string& tenant) {
    std::lock_guard lock(mu_);
    cases_.erase(tenant);
  }
  std::vector<Entry> all() {
    std::lock_guard lock(mu_);
    std::vector<Entry> out;
    for (const auto& [_, e] : cases_) out.push_back(e);
    return out;
  }

 private:
  std::mutex mu_;
  std::map<std::string, Entry> cases_;
};
LiveCases g_live;
std::atomic<bool> g_interrupted{false};

// A case the interrupt ended is not reported as a SUT's crash: its thread
// waits here until the interrupt handler exits the process.
void stop_here_if_interrupted() {
  while (g_interrupted) std::this_thread::sleep_for(std::chrono::seconds(1));
}

const char* signal_name(int sig) {
  switch (sig) {
    case SIGINT: return "SIGINT";
    case SIGTERM: return "SIGTERM";
    case SIGHUP: return "SIGHUP";
  }
  return "a signal";
}

}  // namespace

std::string prompt_text(const Case& c, const std::string& attempt_id) {
  return "xph probe attempt " + attempt_id + " of " + c.id + ". Say anything. [xph:" + attempt_id + "]";
}

json make_spec(const Case& c, const std::string& base_url, const std::string& api_key) {
  const Scenario& s = *c.scenario;
  json probes = json::array();
  for (const auto& p : c.probes) {
    json prompts = json::array();
    for (int i = 0; i < p.attempts; ++i) {
      const std::string id = p.name + "#" + std::to_string(i);
      prompts.push_back({{"id", id}, {"text", prompt_text(c, id)}});
    }
    probes.push_back({{"name", p.name}, {"prompts", prompts}});
  }
  return {{"xph", 1},
          {"base_url", base_url + "/v1"},
          {"api_key", api_key},
          {"model", "xph-mock"},
          {"endpoint", s.endpoint},
          {"generations", c.generations},
          {"multi_generation", name(c.mode)},
          {"parallel_attempts", s.parallel_attempts},
          {"retry", to_json(s.retry)},
          {"request_timeout_s", s.request_timeout_s},
          {"probes", probes}};
}

void become_subreaper() { ::prctl(PR_SET_CHILD_SUBREAPER, 1); }

void end_suts_on_interrupt() {
  sigset_t set;
  ::sigemptyset(&set);
  bool waits_for_any = false;
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) {
    // Ignored when we started (nohup, a background job): it stays ignored.
    struct sigaction was {};
    if (::sigaction(sig, nullptr, &was) == 0 && was.sa_handler == SIG_IGN) continue;
    ::sigaddset(&set, sig);
    waits_for_any = true;
  }
  if (!waits_for_any) return;
  // Every thread started after this inherits the mask; only this one waits.
  ::pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::thread([set] {
    int sig = 0;
    while (::sigwait(&set, &sig) != 0) {
    }
    g_interrupted = true;
    std::unique_lock no_more_starts(g_live.starting);  // never released: we exit
    const auto cases = g_live.all();
    for (const auto& c : cases) kill_and_reap(c.pgid, c.tenant);
    for (const auto& c : cases) {
      std::error_code ec;
      fs::remove_all(c.dir, ec);
    }
    std::fprintf(stderr, "xph: interrupted by %s; ended the SUTs of %zu running case(s)\n", signal_name(sig),
                 cases.size());
    std::fflush(stderr);
    std::_Exit(128 + sig);
  }).detach();
}

CaseRun run_case(const SutCommand& sut, const Case& c, mock::Server& server) {
  const Scenario& s = *c.scenario;
  const std::string tenant =
      "xph-" + std::to_string(::getpid()) + "-" + std::to_string(g_case_counter++) + "-" + sut.name;
  server.put_tenant(tenant, s.responses);

  const fs::path dir = fs::temp_directory_path() / ("xph-case-" + tenant);
  fs::create_directories(dir);
  const fs::path spec_path = dir / "spec.json", result_path = dir / "result.json";
  const fs::path out_path = dir / "stdout.txt", err_path = dir / "stderr.txt";
  std::ofstream(spec_path) << make_spec(c, server.base_url(), tenant).dump(2);

  bp::environment env = boost::this_process::environment();
  env["OPENAI_BASE_URL"] = server.base_url() + "/v1";
  env["OPENAI_API_KEY"] = tenant;
  env["XPH_SPEC"] = spec_path.string();
  env["XPH_RESULT"] = result_path.string();
  // The SUT is spoken to by files, never by a terminal; Python must not
  // buffer what it prints before it dies.
  env["PYTHONUNBUFFERED"] = "1";

  CaseRun run;
  const double idle_bound = std::max(1.5, 1.5 * longest_wait_in(s) + 0.5);
  run.idle_bound_s = idle_bound;
  const auto started = Clock::now();
  std::error_code ec;
  std::shared_lock starting(g_live.starting);
  bp::child child(bp::exe = sut.argv.front(),
                  bp::args = std::vector<std::string>(sut.argv.begin() + 1, sut.argv.end()),
                  bp::start_dir = dir.string(), env, bp::std_in < bp::null, bp::std_out > out_path.string(),
                  bp::std_err > err_path.string(), SutProcessSetup{}, ec);
  if (ec) {
    server.drop_tenant(tenant);
    fs::remove_all(dir);
    throw InputError("SUT " + sut.name + ": cannot start " + sut.argv.front() + ": " + ec.message());
  }
  const pid_t pgid = child.id();
  run.sut_pid = child.id();
  g_live.add({pgid, tenant, dir});
  starting.unlock();

  const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pgid, 0));
  auto activity = server.activity(tenant);
  long cpu = group_cpu(pgid);
  auto quiet_since = Clock::now();
  auto last_cpu_check = Clock::now();
  bool broken = false;
  for (;;) {
    std::error_code wait_ec;
    if (!child.running(wait_ec)) break;
    const auto now = Clock::now();
    if (now - started > std::chrono::duration<double>(s.timeout_s)) {
      run.end = RunEnd::TimedOut;
      break;
    }
    const auto a = server.activity(tenant);
    bool busy = a != activity || a.begun > a.finished;
    activity = a;
    if (now - last_cpu_check >= std::chrono::milliseconds(250)) {
      const long ticks = group_cpu(pgid);
      // More than ~4% of a core: computing, not stuck. Unless the SUT has
      // already printed a boundary failure: Python's Pool, its result
      // handler dead, spins a core in its worker handler for ever.
      broken = broken || !boundary_lines(read_tail(err_path, 64 * 1024)).empty();
      busy = busy || (ticks - cpu > 1 && !broken);
      cpu = ticks;
      last_cpu_check = now;
    }
    if (busy || fs::exists(result_path)) quiet_since = now;
    if (now - quiet_since > std::chrono::duration<double>(idle_bound)) {
      run.end = RunEnd::Idle;
      break;
    }
    // Wake the moment the SUT exits, else every 20 ms to look at it.
    if (pidfd >= 0) {
      pollfd p{pidfd, POLLIN, 0};
      ::poll(&p, 1, 20);
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  if (pidfd >= 0) ::close(pidfd);
  kill_and_reap(pgid, tenant);
  stop_here_if_interrupted();
  g_live.remove(tenant);
  std::error_code wait_ec;
  child.wait(wait_ec);
  run.seconds = std::chrono::duration<double>(Clock::now() - started).count();
  if (run.end == RunEnd::Exited) {
    const int native = child.native_exit_code();
    if (WIFEXITED(native)) run.exit_code = WEXITSTATUS(native);
    if (WIFSIGNALED(native)) run.signal = WTERMSIG(native);
  }
  run.stderr_text = read_tail(err_path, 256 * 1024);

  std::error_code size_ec;
  const auto result_size = fs::file_size(result_path, size_ec);
  if (!fs::exists(result_path)) {
    run.result_problem = "no result file";
  } else if (!size_ec && result_size > kMaxResultBytes) {
    // Never read a runaway result into memory.
    run.result_problem = "result is " + std::to_string(result_size >> 20) + " MiB, over the " +
                         std::to_string(kMaxResultBytes >> 20) + " MiB limit";
  } else {
    const json j = json::parse(read_tail(result_path, kMaxResultBytes), nullptr, false);
    if (j.is_discarded()) {
      run.result_problem = "result is not JSON";
    } else {
      try {
        run.result = parse_result(j);
      } catch (const ProtocolError& e) {
        run.result_problem = std::string("result breaks the protocol at ") + e.what();
      }
    }
  }
  // Its processes are gone, so every connection is closed and any answer
  // still on its way (a hang, a slow step) ends within ~50 ms.
  if (!server.wait_settled(tenant, std::chrono::seconds(5)))
    run.journal_problem = "the server was still answering this case's requests 5 s after its processes were gone";
  run.journal = server.journal(tenant);
  server.drop_tenant(tenant);
  // A fuzz run makes thousands of cases: keep xph's memory (and the page
  // tables every fork copies) to the cases in flight.
  server.forget_journal(tenant);
  fs::remove_all(dir);
  return run;
}

}  // namespace xph::harness
