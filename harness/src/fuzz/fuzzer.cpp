#include "xph/harness/fuzz/fuzzer.hpp"

#include <atomic>
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "xph/harness/judge/judge.hpp"
#include "xph/harness/model/shell.hpp"
#include "xph/mock/server.hpp"

namespace xph::harness {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

std::string hex(std::uint64_t v) {
  std::ostringstream s;
  s << std::hex << std::setw(16) << std::setfill('0') << v;
  return s.str();
}

std::uint64_t fnv1a(const std::string& text) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : text) h = (h ^ c) * 0x100000001b3ULL;
  return h;
}

// How big a case is, to keep the smallest of two findings of one bug.
int size_of(const FuzzCase& c) {
  int steps = 0;
  for (const auto& [_, script] : c.scripts) steps += static_cast<int>(script.steps.size());
  return 100 * static_cast<int>(c.probes.size()) + 10 * c.total_attempts() + steps + c.generations;
}

struct Judged {
  Judgement judgement;
  CaseRun run;
};

class Fuzzer {
 public:
  Fuzzer(const SutChoice& sut, const FuzzOptions& o, Supervisor& supervisor, FuzzListener& listener,
         Reporter& reporter)
      : sut_(sut), o_(o), supervisor_(supervisor), listener_(listener), reporter_(reporter) {}

  int run();

 private:
  std::string header() const;
  std::optional<Clock::time_point> deadline() const;
  std::optional<std::uint64_t> next_index();
  void work();
  // NAME: what the case's folder is kept as (--keep), so that each run of
  // a case and of its shrinking has one of its own.
  Judged judge_case(const FuzzCase&, const std::string& name);
  std::string run_name(std::uint64_t index) const {
    return "fuzz-seed" + std::to_string(o_.seed) + "-case" + std::to_string(index);
  }
  bool claim(const std::string& signature, std::uint64_t index);
  void report(std::uint64_t index, const FuzzCase& original, Judged first);
  std::string write_finding(std::uint64_t index, const FuzzCase& original, const ShrinkResult&, Verdict,
                            const std::string& signature, const std::string& not_replayed);
  void tell_reporters(const FuzzFinding&, Judged first, const FuzzCase& original);
  FuzzProgress progress() const;
  std::string unshrunk_line(std::uint64_t index) const {
    return o_.program + " fuzz " + sut_.replay_args + " --seed " + std::to_string(o_.seed) + " --case " +
           std::to_string(index) + (o_.start_methods.empty() ? "" : " --start-methods " + start_methods());
  }
  std::string start_methods() const {  // "fork,spawn"
    std::string out;
    for (StartMethod m : o_.start_methods) out += (out.empty() ? "" : ",") + std::string(name(m));
    return out;
  }

  const SutChoice& sut_;
  const FuzzOptions& o_;
  Supervisor& supervisor_;
  FuzzListener& listener_;
  Reporter& reporter_;
  mock::Server server_;
  Clock::time_point started_;
  mutable std::mutex mu_;
  std::uint64_t taken_ = 0, done_ = 0;
  int failures_ = 0;
  std::atomic<int> done_threads_{0};
  std::map<Verdict, std::uint64_t> counts_;
  std::set<std::string> found_;
  struct Claim {
    std::uint64_t index;                 // the case being (or that was) shrunk
    std::string path;                    // its file, once written
    std::vector<std::uint64_t> repeats;  // later cases that failed the same way
  };
  std::map<std::string, Claim> claims_;  // by signature()
  // Every failing case by signature, for the summary: a claim goes when its
  // finding does not replay, and what it counted must not go with it.
  std::map<std::string, std::vector<std::uint64_t>> failed_;
  RunSummary reported_;
};

std::string Fuzzer::header() const {
  std::ostringstream h;
  h << "xph fuzz: seed " << o_.seed << ", SUT " << sut_.command.name;
  if (o_.shards > 1) h << ", shard " << o_.shard << "/" << o_.shards;
  if (o_.only_case)
    h << ", case " << *o_.only_case << " alone, unshrunk";
  else
    h << (o_.cases ? ", " + std::to_string(*o_.cases) + " case(s)" : "")
      << (o_.seconds ? ", " + std::to_string(static_cast<long>(*o_.seconds)) + " s" : "");
  if (!o_.start_methods.empty()) h << ", start methods " << start_methods();
  h << ", -j " << o_.jobs << "\n";
  return h.str();
}

std::optional<Clock::time_point> Fuzzer::deadline() const {
  if (!o_.seconds) return std::nullopt;
  return started_ + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(*o_.seconds));
}

std::optional<std::uint64_t> Fuzzer::next_index() {
  if (o_.only_case) {
    if (taken_++ > 0) return std::nullopt;
    return *o_.only_case;
  }
  if (o_.max_failures > 0 && failures_ >= o_.max_failures) return std::nullopt;
  if (deadline() && Clock::now() >= *deadline()) return std::nullopt;
  const std::uint64_t i = shard_index(taken_++, o_.shard, o_.shards);
  if (o_.cases && i >= *o_.cases) return std::nullopt;
  return i;
}

Judged Fuzzer::judge_case(const FuzzCase& fc, const std::string& name) {
  const Scenario s = parse_scenario(fc.to_json("fuzz", "", {}), "(fuzz case)");
  Case c = expand(s).at(0);
  // The id (in every prompt's text) stays the same for every run of a case;
  // only its kept folder is named apart.
  c.keep_name = name + c.id.substr(c.id.find('/'));
  CaseRun run = supervisor_.run(sut_.command, c, server_);
  Judgement j = judge(c, run);
  return {std::move(j), std::move(run)};
}

void Fuzzer::work() {
  for (;;) {
    std::optional<std::uint64_t> index;
    {
      std::lock_guard lock(mu_);
      index = next_index();
    }
    if (!index) break;
    const FuzzCase fc = generate_case(o_.seed, *index, o_.start_methods);
    Judged judged = judge_case(fc, run_name(*index));
    const Verdict v = judged.judgement.primary;
    {
      std::lock_guard lock(mu_);
      ++counts_[v];
      ++done_;
      if (v != Verdict::Pass) ++failures_;
    }
    if (v != Verdict::Pass) report(*index, fc, std::move(judged));
  }
  ++done_threads_;
}

// As Hypothesis does: one shrink per distinct failure, claimed before it
// starts, so -j 2 never shrinks the same failure twice. A later case with
// the same signature is counted, and told once.
bool Fuzzer::claim(const std::string& signature, std::uint64_t index) {
  if (o_.only_case) return true;
  std::lock_guard lock(mu_);
  auto [it, fresh] = claims_.try_emplace(signature, Claim{index, "", {}});
  if (fresh) return true;
  Claim& first = it->second;
  first.repeats.push_back(index);
  if (first.repeats.size() == 1)
    listener_.on_repeat({index, first.index, signature, first.path, unshrunk_line(index)});
  return false;
}

void Fuzzer::report(std::uint64_t index, const FuzzCase& original, Judged first) {
  FuzzFinding f;
  f.index = index;
  f.signature = signature(first.judgement);
  {
    std::lock_guard lock(mu_);
    failed_[f.signature].push_back(index);
  }
  if (!claim(f.signature, index)) return;
  f.shrinking = !o_.only_case;
  f.shrunk = {original, 0, 0};
  int tries = 0;
  const auto fails_the_same_way = [&](const FuzzCase& c) {
    return signature(judge_case(c, run_name(index) + "-try" + std::to_string(++tries)).judgement) == f.signature;
  };
  if (f.shrinking) f.shrunk = shrink(original, fails_the_same_way, o_.shrink_runs, deadline());
  // A finding must replay. One that does not is timing, and says so.
  const std::string again = signature(judge_case(f.shrunk.smallest, run_name(index) + "-shrunk").judgement);
  if (again != f.signature) f.not_replayed = again;
  f.file = write_finding(index, original, f.shrunk, first.judgement.primary, f.signature, f.not_replayed);
  {
    std::lock_guard lock(mu_);
    if (f.not_replayed.empty())
      claims_[f.signature].path = f.file;
    else if (!o_.only_case)
      claims_.erase(f.signature);  // a later case may shrink to one that replays
  }
  f.replay = o_.program + " run " + shell_quote(std::filesystem::absolute(f.file).lexically_normal().string()) + " " +
             sut_.replay_args;
  f.unshrunk = unshrunk_line(index);
  f.first = first.judgement;
  std::lock_guard lock(mu_);
  listener_.on_finding(f);
  tell_reporters(f, std::move(first), original);
}

void Fuzzer::tell_reporters(const FuzzFinding& f, Judged first, const FuzzCase& original) {
  CaseReport r;
  r.id = "fuzz/seed" + std::to_string(o_.seed) + "/case" + std::to_string(f.index);
  r.scenario = "fuzz";
  r.scenario_file = f.file;
  r.sut = sut_.command.name;
  r.verdict = f.first.primary;
  r.findings = f.first.findings;
  r.expected = "PASS";
  r.met = false;
  r.duration_s = first.run.seconds;
  r.replay = f.replay;
  r.runs.push_back({"run", f.first.primary, std::move(first.run)});
  r.shrunk = Shrunk{f.shrunk.smallest.summary(), original.summary(), f.file, f.replay, f.unshrunk};
  ++reported_.cases;
  reporter_.on_case_finished(r);
}

// The shrunk case as a scenario `xph run` replays; written once per hash.
std::string Fuzzer::write_finding(std::uint64_t index, const FuzzCase& original, const ShrinkResult& shrunk,
                                  Verdict v, const std::string& signature, const std::string& not_replayed) {
  const FuzzCase& min = shrunk.smallest;
  const std::string hash =
      hex(fnv1a(min.to_json("x", "", {}).dump() + std::string(name(v)) + sut_.command.name)).substr(0, 12);
  const std::string file_name = std::string(name(v)) + "-" + hash + ".json";
  // Absolute: the replay line must work from wherever it is pasted.
  std::error_code cwd;
  fs::path path = fs::absolute(fs::path(o_.out) / file_name, cwd);
  if (cwd) path = fs::path(o_.out) / file_name;
  std::ostringstream description;
  description << "Found by xph fuzz against " << sut_.command.name << " (seed " << o_.seed << ", case " << index
              << "), shrunk in " << shrunk.runs << " runs" << (shrunk.cut_short ? " (cut short by --time)" : shrunk.run_out ? " (cut short by --shrink-runs)" : "")
              << ". Original case: " << original.summary() << ".";
  if (!not_replayed.empty())
    description << " It did not replay (" << not_replayed << " on a rerun): it depends on timing.";
  {
    std::lock_guard lock(mu_);
    if (!found_.insert(file_name).second) return path.string();
  }
  std::error_code ec;
  fs::create_directories(o_.out, ec);
  if (ec) throw EnvError(o_.out + ": cannot make the findings folder: " + ec.message());
  auto j = min.to_json("fuzz_" + hash, description.str(),
                       {{"default", "PASS"}, {sut_.command.name, std::string(name(v))}});
  j["finding"] = {{"signature", signature}, {"sut", sut_.command.name}, {"seed", o_.seed}, {"case", index},
                  {"size", size_of(min)}, {"replays", not_replayed.empty()}};
  const std::string tmp = path.string() + ".tmp";
  std::ofstream(tmp) << j.dump(2) << "\n";
  fs::rename(tmp, path, ec);
  if (ec) throw EnvError(path.string() + ": cannot write the finding: " + ec.message());
  return path.string();
}

FuzzProgress Fuzzer::progress() const {
  std::lock_guard lock(mu_);
  FuzzProgress p;
  p.done = done_;
  p.failures = failures_;
  p.findings = static_cast<int>(found_.size());
  p.seconds = std::chrono::duration<double>(Clock::now() - started_).count();
  if (o_.cases && !o_.only_case) {
    p.total = (*o_.cases - static_cast<std::uint64_t>(o_.shard) + static_cast<std::uint64_t>(o_.shards) - 1) /
              static_cast<std::uint64_t>(o_.shards);
    if (p.done > 0) p.seconds_left = p.seconds / static_cast<double>(p.done) * static_cast<double>(p.total - p.done);
  } else if (o_.seconds) {
    p.seconds_left = std::max(0.0, *o_.seconds - p.seconds);
  }
  return p;
}

int Fuzzer::run() {
  listener_.on_start(header());
  server_.start();
  started_ = Clock::now();
  // Interrupted, the reports keep every finding told so far. The lock is
  // never released: the process exits on the signal thread right after.
  supervisor_.on_interrupt([this](const std::string& signal) {
    mu_.lock();
    RunSummary s = reported_;
    s.seconds = std::chrono::duration<double>(Clock::now() - started_).count();
    s.interrupted = signal;
    reporter_.on_run_finished(s);
  });
  std::vector<std::thread> threads;
  for (int t = 0; t < o_.jobs; ++t) threads.emplace_back([this] { work(); });
  while (done_threads_ < o_.jobs) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    const FuzzProgress p = progress();
    std::lock_guard lock(mu_);  // the listener hears one thread at a time
    listener_.on_progress(p);
  }
  for (auto& t : threads) t.join();
  supervisor_.on_interrupt(nullptr);
  server_.stop();
  FuzzSummary s{done_, std::chrono::duration<double>(Clock::now() - started_).count(), o_.seed, counts_, {},
                found_.size(), o_.out};
  for (auto [sig, cases] : failed_) {
    std::sort(cases.begin(), cases.end());
    if (cases.size() > 1) s.repeats[sig] = {cases.front(), {cases.begin() + 1, cases.end()}};
  }
  listener_.on_finished(s);
  reported_.seconds = s.seconds;
  reporter_.on_run_finished(reported_);
  return found_.empty() ? 0 : 1;
}

}  // namespace

int run_fuzz(const SutChoice& sut, const FuzzOptions& options, Supervisor& supervisor, FuzzListener& listener,
             Reporter& reporter) {
  return Fuzzer(sut, options, supervisor, listener, reporter).run();
}

}  // namespace xph::harness
