#include "xph/harness/supervise/supervisor.hpp"

#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <shared_mutex>
#include <thread>

#include "case_files.hpp"
#include "families.hpp"
#include "launch.hpp"
#include "signals.hpp"
#include "watch.hpp"
#include "xph/harness/model/spec.hpp"
#include "zygote.hpp"

namespace xph::harness {

using namespace supervise;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

constexpr std::uintmax_t kMaxResultBytes = 64u << 20;

std::string base36(unsigned long v) {
  std::string out;
  do out.insert(out.begin(), "0123456789abcdefghijklmnopqrstuvwxyz"[v % 36]);
  while (v /= 36);
  return out;
}

// The longest wait the scenario scripts or asks a client for: the idle
// bound is a multiple of it.
double longest_wait_in(const Scenario& s) {
  double longest = std::max(s.request_timeout_s, s.retry.max_delay_s);
  for (const auto& [_, script] : s.responses)
    for (const auto& step : script.steps) {
      if (step.retry_after_s) longest = std::max(longest, std::ceil(*step.retry_after_s));
      longest = std::max(longest, step.seconds);
    }
  return longest;
}

Environment case_environment(const SutCommand& sut, const std::string& base_url, const std::string& tenant,
                             const CaseFiles& files) {
  Environment env = own_environment();
  for (const auto& [k, v] : sut.env) env[k] = v;
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
  const auto j = nlohmann::json::parse(read_tail(path, kMaxResultBytes), nullptr, false);
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

// The case folder moved under KEEP (a case id holds '/': it becomes '_'),
// with the journal beside what the SUT left. Returns where, or "" when it
// could not be kept (the run is judged all the same).
std::string keep_folder(const CaseFiles& f, const fs::path& keep, std::string name, const CaseRun& run) {
  for (char& ch : name)
    if (ch == '/') ch = '_';
  std::error_code ec;
  const fs::path to = keep / name;
  fs::create_directories(keep, ec);
  fs::remove_all(to, ec);
  fs::rename(f.dir, to, ec);
  if (ec) return "";
  std::ofstream journal(to / "journal.jsonl");
  for (const auto& e : run.journal)
    journal << nlohmann::json(e).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  return to.string();
}

void record_exit(CaseRun& run, const Ended& ended) {
  run.end = ended.end;
  run.waited_for_cores_s = ended.waited_for_cores_s;
  run.stuck_what = ended.stuck_what;
  if (ended.end != RunEnd::Exited || !ended.status) return;
  if (WIFEXITED(*ended.status)) run.exit_code = WEXITSTATUS(*ended.status);
  if (WIFSIGNALED(*ended.status)) run.signal = WTERMSIG(*ended.status);
}

}  // namespace

struct Supervisor::Impl {
  struct Live {
    Family family;
    fs::path dir;
  };

  explicit Impl(Options o) : options(o), signals([this](int sig) { interrupted(sig); }) {
    ::prctl(PR_SET_CHILD_SUBREAPER, 1);
  }

  // What marks a case's processes as its own: the tenant in the environment
  // of exec'ed ones, the name of a warm case's forked ones.
  struct Marks {
    std::string tenant, comm;
  };
  CaseRun run(const SutCommand&, const Case&, mock::Server&);
  void run_in(const SutCommand&, const Case&, mock::Server&, const CaseFiles&, const Marks&, CaseRun&);
  pid_t start(const SutCommand&, const Case&, const CaseFiles&, const Environment&, const std::string& comm,
              double idle_bound, CaseRun& run);
  Zygote& zygote(const SutCommand&);
  void interrupted(int sig);
  void stop_here_if_interrupted() {
    while (is_interrupted) std::this_thread::sleep_for(std::chrono::seconds(1));
  }

  const Options options;
  const std::string prefix = base36(static_cast<unsigned long>(::getpid()));
  std::atomic<unsigned long> counter{0};
  // Shared by SUT starts (start, then add); an interrupt takes it whole, so
  // it sees every SUT that started and no SUT starts after it.
  std::shared_mutex starting;
  std::mutex mu;  // live, zygotes, hook
  std::map<std::string, Live> live;  // by tenant
  std::map<std::string, std::unique_ptr<Zygote>> zygotes;  // by SUT name
  std::function<void(const std::string&)> hook;
  std::atomic<bool> is_interrupted{false};
  SignalWatch signals;  // last: its thread may call interrupted() as soon as it runs
};

Zygote& Supervisor::Impl::zygote(const SutCommand& sut) {
  std::lock_guard lock(mu);
  auto& z = zygotes[sut.name];
  if (!z) z = std::make_unique<Zygote>(sut, "xph-warm-" + prefix + "-" + base36(counter++) + "-" + sut.name);
  return *z;
}

// The SUT's first process for this case: exec'ed, or forked by its zygote.
// 0 when a warm SUT never got as far as the case (run says why).
pid_t Supervisor::Impl::start(const SutCommand& sut, const Case& c, const CaseFiles& files, const Environment& env,
                              const std::string& comm, double idle_bound, CaseRun& run) {
  if (!sut.warm || options.cold)
    return launch({sut.argv, files.dir, files.out, files.err, env, -1}, sut.name);
  const Forked f = zygote(sut).fork_case({c.id, files.dir, files.out, files.err, env, comm}, c.scenario->timeout_s,
                                         idle_bound);
  if (f.pid > 0) return f.pid;
  run.start_problem = f.problem;
  run.stderr_text = f.stderr_text;
  record_exit(run, {f.end, f.status, f.waited_for_cores_s, f.stuck_what});
  return 0;
}

CaseRun Supervisor::Impl::run(const SutCommand& sut, const Case& c, mock::Server& server) {
  const std::string serial = base36(counter++);
  const std::string tenant = "xph-" + prefix + "-" + serial + "-" + sut.name;
  const CaseFiles files("xph-case-" + tenant);
  CaseRun run;
  try {
    run_in(sut, c, server, files, {tenant, "x" + prefix + "." + serial}, run);  // a process name: at most 15 bytes
  } catch (...) {
    files.remove();
    throw;
  }
  if (options.keep)
    run.kept = keep_folder(files, *options.keep, (c.keep_name.empty() ? c.id : c.keep_name) + "." + sut.name, run);
  files.remove();
  return run;
}

void Supervisor::Impl::run_in(const SutCommand& sut, const Case& c, mock::Server& server, const CaseFiles& files,
                              const Marks& marks, CaseRun& run) {
  const Scenario& s = *c.scenario;
  run.spec = make_spec(c, server.base_url(), marks.tenant);
  files.write_spec(run.spec);
  mock::TenantLease lease(server, marks.tenant, s.responses);
  run.idle_bound_s = std::max(1.5, 1.5 * longest_wait_in(s) + 0.5);
  run.started_ms = server.now_ms();
  const auto started = Clock::now();
  std::shared_lock no_interrupt_now(starting);
  const Environment env = case_environment(sut, server.base_url(), marks.tenant, files);
  const pid_t pid = start(sut, c, files, env, marks.comm, run.idle_bound_s, run);
  if (pid == 0) {
    run.seconds = std::chrono::duration<double>(Clock::now() - started).count();
    return;
  }
  run.sut_pid = pid;
  const Family family{pid, marks.tenant, sut.warm && !options.cold ? marks.comm : ""};
  {
    std::lock_guard lock(mu);
    live[marks.tenant] = {family, files.dir};
  }
  no_interrupt_now.unlock();

  IdleWatch idle(&lease, pid, files.dir, files.err, files.result);
  record_exit(run, watch(pid, idle, s.timeout_s, run.idle_bound_s));
  for (const pid_t own : idle.wrappers().own_pids()) run.own_pids.push_back(own);
  run.wrapped_by = idle.wrappers().chain();
  if (const auto broken = idle.broken_since())
    run.boundary_seen_ms = run.started_ms + std::chrono::duration<double, std::milli>(*broken - started).count();
  end_family(family);
  stop_here_if_interrupted();
  {
    std::lock_guard lock(mu);
    live.erase(marks.tenant);
  }
  run.seconds = std::chrono::duration<double>(Clock::now() - started).count();
  run.stderr_text = read_tail(files.err, 256 * 1024);
  run.result = read_result(files.result, run.result_problem);
  // Its processes are gone, so every connection is closed and any answer
  // still on its way (a hang, a slow step) ends within ~50 ms.
  if (!lease.wait_settled(std::chrono::seconds(5)))
    run.journal_problem = "the server was still answering this case's requests 5 s after its processes were gone";
  run.journal = lease.journal();
}

// A SUT runs in a process group of its own, so the terminal's Ctrl-C never
// reaches it: an interrupted xph must end them itself, or they outlive it (a
// ref-naive pool waits on a dead result reader for ever).
void Supervisor::Impl::interrupted(int sig) {
  is_interrupted = true;
  std::unique_lock no_more_starts(starting);  // never released: we exit
  std::lock_guard lock(mu);
  for (const auto& [_, c] : live) kill_family(c.family);
  for (const auto& [_, z] : zygotes) z->kill_now();
  for (const auto& [_, c] : live) {
    std::error_code ec;
    fs::remove_all(c.dir, ec);
  }
  std::fprintf(stderr, "xph: interrupted by %s; ended the SUTs of %zu running case(s)\n", signal_name(sig),
               live.size());
  std::fflush(stderr);
  try {
    if (hook) hook(signal_name(sig));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "xph: %s\n", e.what());
  }
  std::fflush(stdout);
  std::_Exit(128 + sig);
}

Supervisor::Supervisor(Options options) : impl_(std::make_unique<Impl>(options)) {}
Supervisor::Supervisor() : Supervisor(Options{}) {}
Supervisor::~Supervisor() = default;

CaseRun Supervisor::run(const SutCommand& sut, const Case& c, mock::Server& server) { return impl_->run(sut, c, server); }

void Supervisor::on_interrupt(std::function<void(const std::string&)> hook) {
  std::lock_guard lock(impl_->mu);
  impl_->hook = std::move(hook);
}

}  // namespace xph::harness
