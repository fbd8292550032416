#include "xph/harness/session.hpp"

#include <fnmatch.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

#include "xph/harness/oracle.hpp"
#include "xph/mock/server.hpp"

namespace xph::harness {
namespace {

struct Job {
  Case c;
  const SutChoice* sut;
};

CaseReport run_job(const Job& job, mock::Server& server, const SessionOptions& options) {
  const Scenario& s = *job.c.scenario;
  const CaseRun run = run_case(job.sut->command, job.c, server);
  Judgement j = judge(job.c, run);
  double seconds = run.seconds;

  // Differential: each pooled probe alone. If it fails another way than
  // after what ran before it (another verdict, or the other side of the
  // boundary), the case is order dependent: garak #659's signature.
  if (s.differential && job.c.probes.size() > 1) {
    const std::string together = signature(j);
    for (const auto& p : job.c.probes) {
      if (p.attempts < 2) continue;
      const Case solo = alone(job.c, p);
      const CaseRun solo_run = run_case(job.sut->command, solo, server);
      seconds += solo_run.seconds;
      const std::string apart = signature(judge(solo, solo_run));
      if (apart != together) {
        if (j.flags.empty()) j.flags.push_back("ORDER_DEPENDENT");
        j.findings.push_back({j.primary, p.name + "#*", apart + " (" + p.name + " alone)",
                              together + " after what ran before it", "ORDER_DEPENDENT"});
      }
    }
  }

  CaseReport r;
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
  r.duration_s = seconds;
  if (!r.met) r.sut_stderr = run.stderr_text;
  r.replay = options.program + " run " + shell_quote(s.file) + " " + job.sut->replay_args + " --filter " +
             shell_quote(job.c.id);
  return r;
}

}  // namespace

std::string shell_quote(const std::string& word) {
  if (!word.empty() && word.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./=:@%+,") ==
                           std::string::npos)
    return word;
  std::string out = "'";
  for (char c : word) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

RunSummary run_session(const std::vector<Scenario>& scenarios, const std::vector<SutChoice>& suts,
                       const SessionOptions& options, Reporter& reporter) {
  std::vector<Job> jobs;
  for (const auto& s : scenarios)
    for (const auto& c : expand(s))
      if (::fnmatch(options.filter.c_str(), c.id.c_str(), 0) == 0)
        for (const auto& sut : suts) jobs.push_back({c, &sut});

  const auto started = std::chrono::steady_clock::now();
  mock::Server server;
  server.start();
  RunSummary summary;
  std::mutex report_mu;
  std::atomic<std::size_t> next{0};
  std::exception_ptr failure;
  auto work = [&] {
    for (std::size_t i; (i = next++) < jobs.size();) {
      try {
        CaseReport r = run_job(jobs[i], server, options);
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
  // Interrupted, the reports keep every case that finished. The lock is
  // never released: the process exits on the signal thread right after.
  on_interrupt([&](const std::string& signal) {
    report_mu.lock();
    RunSummary s = summary;
    s.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    s.interrupted = signal;
    reporter.on_run_finished(s);
  });
  std::vector<std::thread> threads;
  const int n = std::max(1, std::min<int>(options.jobs, static_cast<int>(jobs.size())));
  for (int t = 0; t < n; ++t) threads.emplace_back(work);
  for (auto& t : threads) t.join();
  on_interrupt(nullptr);
  server.stop();
  if (failure) std::rethrow_exception(failure);
  summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  reporter.on_run_finished(summary);
  return summary;
}

}  // namespace xph::harness
