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
#include <cstring>
#include <optional>
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

// What a process group is doing: its CPU ticks so far, and whether any of
// its threads is runnable, in uninterruptible sleep or asleep on the clock.
// A SUT on a busy machine can wait seconds for a core, and one in its own
// backoff can sleep a minute: it is slow then, not idle.
struct GroupSample {
  long ticks = 0;
  bool active = false;
};

// The fields of /proc/.../stat after "(comm)": comm may hold spaces and parens.
std::optional<std::istringstream> stat_fields(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  if (!std::getline(in, line)) return std::nullopt;
  const auto close = line.rfind(')');
  if (close == std::string::npos || close + 2 > line.size()) return std::nullopt;
  return std::istringstream(line.substr(close + 2));
}

// A thread asleep on the clock (time.sleep in a backoff that waits 70 s)
// wakes by itself: the SUT is waiting, not stuck. A stuck one blocks on a
// lock, a pipe or a poll of its own.
bool sleeping_on_the_clock(const std::string& task) {
  std::ifstream in(task + "/syscall");
  long nr = -1;
  if (!(in >> nr)) return false;
#ifdef SYS_nanosleep
  if (nr == SYS_nanosleep) return true;
#endif
  return nr == SYS_clock_nanosleep;
}

// Any thread of PID runnable, in uninterruptible sleep, or asleep on the clock.
bool any_thread_active(const std::string& pid) {
  const std::string tasks = "/proc/" + pid + "/task";
  std::unique_ptr<DIR, int (*)(DIR*)> dir(::opendir(tasks.c_str()), ::closedir);
  if (!dir) return false;
  while (const dirent* e = ::readdir(dir.get())) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    const std::string task = tasks + "/" + e->d_name;
    auto f = stat_fields(task + "/stat");
    std::string state;
    if (f && (*f >> state) && (state == "R" || state == "D")) return true;
    if (state == "S" && sleeping_on_the_clock(task)) return true;
  }
  return false;
}

GroupSample sample_group(pid_t pgid) {
  GroupSample out;
  std::unique_ptr<DIR, int (*)(DIR*)> dir(::opendir("/proc"), ::closedir);
  if (!dir) return out;
  while (const dirent* e = ::readdir(dir.get())) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    auto f = stat_fields(std::string("/proc/") + e->d_name + "/stat");
    if (!f) continue;
    std::string state;
    long ppid, pgrp, session, tty, tpgid;
    unsigned long flags, minflt, cminflt, majflt, cmajflt, utime, stime;
    *f >> state >> ppid >> pgrp >> session >> tty >> tpgid >> flags >> minflt >> cminflt >> majflt >> cmajflt >>
        utime >> stime;
    if (pgrp != pgid || state == "Z") continue;
    out.ticks += static_cast<long>(utime + stime);
    out.active = out.active || any_thread_active(e->d_name);
  }
  return out;
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

// A short SIGTERM first, so a SUT's handlers (Python's atexit, tempfile
// cleanup) may run; then SIGKILL for whatever is left. Costs nothing when
// the family is already gone (the usual end), at most kTermGrace otherwise.
constexpr auto kTermGrace = std::chrono::milliseconds(100);
void end_family(pid_t pgid, const std::string& tenant) {
  if (::kill(-pgid, SIGTERM) == 0) {
    const auto deadline = Clock::now() + kTermGrace;
    while (Clock::now() < deadline) {
      int status = 0;
      while (::waitpid(-pgid, &status, WNOHANG) > 0) {
      }
      if (::kill(-pgid, 0) != 0) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  }
  kill_and_reap(pgid, tenant);
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
std::mutex g_hook_mu;
std::function<void(const std::string&)> g_interrupt_hook;

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
          {"endpoint", mock::name(s.endpoint)},
          {"generations", c.generations},
          {"multi_generation", name(c.mode)},
          {"start_method", name(c.start_method)},
          {"parallel_attempts", s.parallel_attempts},
          {"retry", to_json(s.retry)},
          {"request_timeout_s", s.request_timeout_s},
          {"probes", probes}};
}

void on_interrupt(std::function<void(const std::string&)> hook) {
  std::lock_guard lock(g_hook_mu);
  g_interrupt_hook = std::move(hook);
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
    {
      std::lock_guard lock(g_hook_mu);
      try {
        if (g_interrupt_hook) g_interrupt_hook(signal_name(sig));
      } catch (const std::exception& e) {
        std::fprintf(stderr, "xph: %s\n", e.what());
      }
    }
    std::fflush(stdout);
    std::_Exit(128 + sig);
  }).detach();
}

namespace {

// A case's folder: the SUT's working folder and TMPDIR, its spec, result
// and output; removed with the case.
struct CaseFiles {
  fs::path dir, tmp, spec, result, out, err;

  explicit CaseFiles(const std::string& tenant) {
    std::error_code ec;
    const fs::path base = fs::temp_directory_path(ec);
    if (ec) {
      const char* tmpdir = std::getenv("TMPDIR");
      throw EnvError(std::string("TMPDIR ") + (tmpdir ? tmpdir : "/tmp") + ": cannot make case folders there: " +
                     ec.message());
    }
    dir = base / ("xph-case-" + tenant);
    tmp = dir / "tmp";
    if (!fs::create_directories(tmp, ec) && ec)
      throw EnvError(tmp.string() + ": cannot make the case folder: " + ec.message());
    spec = dir / "spec.json";
    result = dir / "result.json";
    out = dir / "stdout.txt";
    err = dir / "stderr.txt";
  }
  void write_spec(const json& j) const {
    std::ofstream f(spec);
    f << j.dump(2);
    f.close();
    if (!f) throw EnvError(spec.string() + ": cannot write the run spec: " + std::strerror(errno));
  }
  void remove() const {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
};

bp::environment sut_environment(const std::string& base_url, const std::string& tenant, const CaseFiles& files) {
  bp::environment env = boost::this_process::environment();
  env["OPENAI_BASE_URL"] = base_url + "/v1";
  env["OPENAI_API_KEY"] = tenant;
  env["XPH_SPEC"] = files.spec.string();
  env["XPH_RESULT"] = files.result.string();
  // Temporary files of the SUT go with its case: a killed SUT cleans nothing.
  for (const char* var : {"TMPDIR", "TMP", "TEMP"}) env[var] = files.tmp.string();
  // The SUT is spoken to by files, never by a terminal; Python must not
  // buffer what it prints before it dies.
  env["PYTHONUNBUFFERED"] = "1";
  return env;
}

// Watches a running SUT until it exits, passes timeout_s, or sits idle for
// the idle bound: no request of its tenant new or in flight, no thread
// runnable, no CPU, no result. Idle is concluded only after a second look,
// so a SUT that a busy machine keeps waiting for a core is never idle.
class IdleWatch {
 public:
  IdleWatch(mock::Server& server, std::string tenant, pid_t pgid, fs::path err, fs::path result)
      : server_(server), tenant_(std::move(tenant)), pgid_(pgid), err_(std::move(err)), result_(std::move(result)) {
    activity_ = server_.activity(tenant_);
    cpu_ = sample_group(pgid_).ticks;
  }

  // True when something shows life since the last look.
  bool busy() {
    const auto a = server_.activity(tenant_);
    bool busy = a != activity_ || a.begun > a.finished || fs::exists(result_);
    activity_ = a;
    const auto now = Clock::now();
    if (now - last_sample_ < std::chrono::milliseconds(250)) return busy;
    last_sample_ = now;
    const GroupSample g = sample_group(pgid_);
    // Python's Pool, its result handler dead, spins a core in its worker
    // handler for ever: once the SUT has printed a boundary failure, only
    // the network counts as life.
    broken_ = broken_ || !boundary_lines(read_tail(err_, 64 * 1024)).empty();
    if (!broken_) busy = busy || g.active || g.ticks - cpu_ > 1;
    cpu_ = g.ticks;
    return busy;
  }

  // The second look: a few samples over ~0.5 s.
  bool still_idle() {
    for (int i = 0; i < 3; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(170));
      last_sample_ = {};
      if (busy()) return false;
    }
    return true;
  }

 private:
  mock::Server& server_;
  std::string tenant_;
  pid_t pgid_;
  fs::path err_, result_;
  mock::Server::Activity activity_;
  long cpu_ = 0;
  bool broken_ = false;
  Clock::time_point last_sample_ = Clock::now();
};

RunEnd watch(bp::child& child, IdleWatch& idle, double timeout_s, double idle_bound_s) {
  const auto started = Clock::now();
  const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, child.id(), 0));
  auto quiet_since = started;
  RunEnd end = RunEnd::Exited;
  for (;;) {
    std::error_code ec;
    if (!child.running(ec)) break;
    const auto now = Clock::now();
    if (now - started > std::chrono::duration<double>(timeout_s)) {
      end = RunEnd::TimedOut;
      break;
    }
    if (idle.busy()) quiet_since = now;
    if (now - quiet_since > std::chrono::duration<double>(idle_bound_s)) {
      if (idle.still_idle()) {
        end = RunEnd::Idle;
        break;
      }
      quiet_since = Clock::now();
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
  return end;
}

// The result file, read strictly; `problem` says why there is none.
std::optional<SutResult> read_result(const fs::path& path, std::string& problem) {
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  if (!fs::exists(path)) {
    problem = "no result file";
    return std::nullopt;
  }
  if (!ec && size > kMaxResultBytes) {  // never read a runaway result into memory
    problem = "result is " + std::to_string(size >> 20) + " MiB, over the " + std::to_string(kMaxResultBytes >> 20) +
              " MiB limit";
    return std::nullopt;
  }
  const json j = json::parse(read_tail(path, kMaxResultBytes), nullptr, false);
  if (j.is_discarded()) {
    problem = "result is not JSON";
    return std::nullopt;
  }
  try {
    return parse_result(j);
  } catch (const ProtocolError& e) {
    problem = std::string("result breaks the protocol at ") + e.what();
  }
  return std::nullopt;
}

}  // namespace

CaseRun run_case(const SutCommand& sut, const Case& c, mock::Server& server) {
  const Scenario& s = *c.scenario;
  const std::string tenant =
      "xph-" + std::to_string(::getpid()) + "-" + std::to_string(g_case_counter++) + "-" + sut.name;
  const CaseFiles files(tenant);
  try {
    files.write_spec(make_spec(c, server.base_url(), tenant));
  } catch (...) {
    files.remove();
    throw;
  }
  server.put_tenant(tenant, s.responses);

  CaseRun run;
  run.idle_bound_s = std::max(1.5, 1.5 * longest_wait_in(s) + 0.5);
  const auto started = Clock::now();
  std::error_code ec;
  std::shared_lock starting(g_live.starting);
  bp::child child(bp::exe = sut.argv.front(),
                  bp::args = std::vector<std::string>(sut.argv.begin() + 1, sut.argv.end()),
                  bp::start_dir = files.dir.string(), sut_environment(server.base_url(), tenant, files),
                  bp::std_in < bp::null, bp::std_out > files.out.string(), bp::std_err > files.err.string(),
                  SutProcessSetup{}, ec);
  if (ec) {
    server.drop_tenant(tenant);
    files.remove();
    throw InputError("SUT " + sut.name + ": cannot start " + sut.argv.front() + ": " + ec.message());
  }
  const pid_t pgid = child.id();
  run.sut_pid = child.id();
  g_live.add({pgid, tenant, files.dir});
  starting.unlock();

  IdleWatch idle(server, tenant, pgid, files.err, files.result);
  run.end = watch(child, idle, s.timeout_s, run.idle_bound_s);
  end_family(pgid, tenant);
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
  run.stderr_text = read_tail(files.err, 256 * 1024);
  run.result = read_result(files.result, run.result_problem);
  // Its processes are gone, so every connection is closed and any answer
  // still on its way (a hang, a slow step) ends within ~50 ms.
  if (!server.wait_settled(tenant, std::chrono::seconds(5)))
    run.journal_problem = "the server was still answering this case's requests 5 s after its processes were gone";
  run.journal = server.journal(tenant);
  server.drop_tenant(tenant);
  // A fuzz run makes thousands of cases: keep xph's memory (and the page
  // tables every fork copies) to the cases in flight.
  server.forget_journal(tenant);
  files.remove();
  return run;
}

}  // namespace xph::harness
