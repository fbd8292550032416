#include "xph/harness/session/session.hpp"

#include <fnmatch.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <mutex>
#include <thread>

#include "xph/harness/judge/judge.hpp"
#include "xph/harness/model/shell.hpp"
#include "xph/mock/server.hpp"

namespace xph::harness {
namespace {

using Clock = std::chrono::steady_clock;

// Differential: each pooled probe alone. If it fails another way than after
// what ran before it (another verdict, or the other side of the boundary),
// the case is order dependent: garak #659's signature.
void differential(const Job& job, Supervisor& supervisor, mock::Server& server, Judgement& j, CaseReport& r) {
  const std::string together = signature(j);
  for (const auto& p : job.c.probes) {
    if (p.attempts < 2) continue;
    const Case solo = alone(job.c, p);
    CaseRun solo_run = supervisor.run(job.sut->command, solo, server);
    r.duration_s += solo_run.seconds;
    const Judgement solo_j = judge(solo, solo_run);
    r.runs.push_back({p.name + " alone", solo_j.primary, std::move(solo_run)});
    const std::string apart = signature(solo_j);
    if (apart == together) continue;
    const bool flagged = std::find(j.flags.begin(), j.flags.end(), "ORDER_DEPENDENT") != j.flags.end();
    if (!flagged) j.flags.push_back("ORDER_DEPENDENT");
    j.findings.push_back({j.primary, p.name + "#*", apart + " (" + p.name + " alone)",
                          together + " after what ran before it", "ORDER_DEPENDENT"});
  }
}

}  // namespace

std::vector<Job> plan(const std::vector<Scenario>& scenarios, const std::vector<SutChoice>& suts,
                      const std::string& filter) {
  std::vector<Job> jobs;
  for (const auto& s : scenarios)
    for (const auto& c : expand(s))
      if (::fnmatch(filter.c_str(), c.id.c_str(), 0) == 0)
        for (const auto& sut : suts) jobs.push_back({c, &sut});
  return jobs;
}

CaseReport run_job(const Job& job, Supervisor& supervisor, mock::Server& server, const std::string& program) {
  const Scenario& s = *job.c.scenario;
  CaseReport r;
  CaseRun run = supervisor.run(job.sut->command, job.c, server);
  Judgement j = judge(job.c, run);
  r.duration_s = run.seconds;
  // A case failed only as a client starved of a core fails (every finding
  // a timeout on an answer sent at once, the SUT kept waiting for cores) is
  // run once more, and the rerun judges it: a busy moment passes, a wrong
  // client fails again. The first run stays in the report.
  const bool starved = j.primary != Verdict::Pass && std::all_of(j.findings.begin(), j.findings.end(),
                                                                 [](const Finding& f) { return f.starved; });
  if (starved) {
    CaseRun again = supervisor.run(job.sut->command, job.c, server);
    Judgement rejudged = judge(job.c, again);
    r.duration_s += again.seconds;
    r.runs.push_back({"run", rejudged.primary, std::move(again)});
    r.runs.push_back({"first run, its client starved", j.primary, std::move(run)});
    j = std::move(rejudged);
    j.flags.push_back("RERUN");
  } else {
    r.runs.push_back({"run", j.primary, std::move(run)});
  }
  if (s.differential && job.c.probes.size() > 1) differential(job, supervisor, server, j, r);
  r.id = job.c.id;
  r.scenario = s.name;
  r.scenario_file = s.file;
  r.sut = job.sut->command.name;
  r.verdict = j.primary;
  r.flags = j.flags;
  r.findings = j.findings;
  const Verdict expected = s.expected_for(r.sut, job.c.id);
  r.expected = std::string(name(expected));
  r.met = expected == r.verdict;
  // Absolute: a replay line is read in CI logs and reports, far from here.
  r.replay = program + " run " + shell_quote(std::filesystem::absolute(s.file).lexically_normal().string()) + " " +
             job.sut->replay_args + " --filter " + shell_quote(job.c.id);
  return r;
}

RunSummary run_session(const std::vector<Scenario>& scenarios, const std::vector<SutChoice>& suts,
                       const SessionOptions& options, Supervisor& supervisor, Reporter& reporter) {
  const std::vector<Job> jobs = plan(scenarios, suts, options.filter);
  const auto started = Clock::now();
  mock::Server server;
  server.start();
  RunSummary summary;
  std::mutex report_mu;
  std::atomic<std::size_t> next{0};
  std::exception_ptr failure;
  // Interrupted, the reports keep every case that finished. The lock is
  // never released: the process exits on the signal thread right after.
  supervisor.on_interrupt([&](const std::string& signal) {
    report_mu.lock();
    RunSummary s = summary;
    s.seconds = std::chrono::duration<double>(Clock::now() - started).count();
    s.interrupted = signal;
    reporter.on_run_finished(s);
  });
  auto work = [&] {
    for (std::size_t i; (i = next++) < jobs.size();) {
      try {
        CaseReport r = run_job(jobs[i], supervisor, server, options.program);
        std::lock_guard lock(report_mu);
        ++summary.cases;
        summary.met += r.met;
        reporter.on_case_finished(r);
      } catch (...) {
        std::lock_guard lock(report_mu);
        if (!failure) failure = std::current_exception();
        next = jobs.size();  // the harness itself broke: stop handing out work
      }
    }
  };
  std::vector<std::thread> threads;
  const int n = std::max(1, std::min<int>(options.jobs, static_cast<int>(jobs.size())));
  for (int t = 0; t < n; ++t) threads.emplace_back(work);
  for (auto& t : threads) t.join();
  supervisor.on_interrupt(nullptr);
  server.stop();
  if (failure) std::rethrow_exception(failure);
  summary.seconds = std::chrono::duration<double>(Clock::now() - started).count();
  reporter.on_run_finished(summary);
  return summary;
}

}  // namespace xph::harness
