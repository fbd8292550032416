// The fuzz loop: cases side by side on one server, failures shrunk and
// written once each.
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "xph/harness/fuzz.hpp"
#include "xph/harness/oracle.hpp"
#include "xph/harness/session.hpp"
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

// Runs one fuzz case against the SUT and judges it.
Judgement judge_case(const FuzzCase& fc, const SutChoice& sut, mock::Server& server) {
  const Scenario s = parse_scenario(fc.to_json("fuzz", "", {}), "(fuzz case)");
  const Case c = expand(s).at(0);
  return judge(c, run_case(sut.command, c, server));
}

// What the failing run saw, as `xph run` shows it: expected beside seen.
void print_findings(std::ostream& out, const Judgement& j) {
  constexpr std::size_t kShown = 3;  // the rest: run the unshrunk case
  for (std::size_t i = 0; i < j.findings.size() && i < kShown; ++i) {
    const Finding& f = j.findings[i];
    out << "  " << name(f.verdict) << ' ' << (f.attempt.empty() ? "(run)" : f.attempt) << ": " << f.detail() << "\n";
  }
  if (j.findings.size() > kShown) out << "  ... and " << j.findings.size() - kShown << " more finding(s)\n";
}

class Fuzzer {
 public:
  Fuzzer(const SutChoice& sut, const FuzzOptions& o) : sut_(sut), o_(o) {}

  int run() {
    std::cout << header() << std::flush;
    server_.start();
    started_ = Clock::now();
    std::vector<std::thread> threads;
    for (int t = 0; t < o_.jobs; ++t) threads.emplace_back([this] { work(); });
    const bool tty = ::isatty(STDOUT_FILENO);
    while (done_threads_ < o_.jobs) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      if (tty) progress(false);
    }
    for (auto& t : threads) t.join();
    if (tty) progress(true);
    server_.stop();
    summary();
    return found_.empty() ? 0 : 1;
  }

 private:
  std::string header() const {
    std::ostringstream h;
    h << "xph fuzz: seed " << o_.seed << ", SUT " << sut_.command.name;
    if (o_.shards > 1) h << ", shard " << o_.shard << "/" << o_.shards;
    if (o_.only_case)
      h << ", case " << *o_.only_case << " alone, unshrunk";
    else
      h << (o_.cases ? ", " + std::to_string(*o_.cases) + " case(s)" : "")
        << (o_.seconds ? ", " + std::to_string(static_cast<long>(*o_.seconds)) + " s" : "");
    h << ", -j " << o_.jobs << "\n";
    return h.str();
  }

  std::optional<Clock::time_point> deadline() const {
    if (!o_.seconds) return std::nullopt;
    return started_ + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(*o_.seconds));
  }

  std::optional<std::uint64_t> next_index() {
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

  void work() {
    for (;;) {
      std::optional<std::uint64_t> index;
      {
        std::lock_guard lock(mu_);
        index = next_index();
      }
      if (!index) break;
      const FuzzCase fc = generate_case(o_.seed, *index);
      const Judgement j = judge_case(fc, sut_, server_);
      const Verdict v = j.primary;
      {
        std::lock_guard lock(mu_);
        ++counts_[v];
        ++done_;
        if (v != Verdict::Pass) ++failures_;
      }
      if (v != Verdict::Pass) report(*index, fc, j);
    }
    ++done_threads_;
  }

  std::string unshrunk_line(std::uint64_t index) const {
    return o_.program + " fuzz " + sut_.replay_args + " --seed " + std::to_string(o_.seed) + " --case " +
           std::to_string(index);
  }

  // As Hypothesis does: one shrink per distinct failure, claimed before it
  // starts, so -j 2 never shrinks the same failure twice. A later case with
  // the same signature is counted, and shown once.
  bool claim(const std::string& signature, std::uint64_t index) {
    if (o_.only_case) return true;
    std::lock_guard lock(mu_);
    auto [it, fresh] = claims_.try_emplace(signature, Claim{index, "", {}});
    if (fresh) return true;
    Claim& first = it->second;
    first.repeats.push_back(index);
    if (first.repeats.size() == 1)
      std::cout << "\n" << signature << " in case " << index << ": the failure of case " << first.index
                << (first.path.empty() ? " (being shrunk)" : ", written to " + first.path)
                << "; not shrunk again, and later cases that fail this way are only counted\n  unshrunk: "
                << unshrunk_line(index) << "\n"
                << std::flush;
    return false;
  }

  void report(std::uint64_t index, const FuzzCase& original, const Judgement& first) {
    const std::string wanted = signature(first);
    if (!claim(wanted, index)) return;
    ShrinkResult shrunk{original, 0, 0};
    const auto fails_the_same_way = [&](const FuzzCase& c) { return signature(judge_case(c, sut_, server_)) == wanted; };
    if (!o_.only_case) shrunk = shrink(original, fails_the_same_way, o_.shrink_runs, deadline());
    const FuzzCase& min = shrunk.smallest;
    // A finding must replay. One that does not is timing, and says so.
    const std::string again = signature(judge_case(min, sut_, server_));
    const bool replays = again == wanted;
    const std::string path = write_finding(index, original, shrunk, first.primary, replays ? "" : again);
    {
      std::lock_guard lock(mu_);
      if (replays)
        claims_[wanted].path = path;
      else if (!o_.only_case)
        claims_.erase(wanted);  // a later case may shrink to one that replays
    }
    print_finding(index, wanted, shrunk, first, path, replays ? "" : again);
  }

  // The shrunk case as a scenario `xph run` replays; written once per hash.
  std::string write_finding(std::uint64_t index, const FuzzCase& original, const ShrinkResult& shrunk, Verdict v,
                            const std::string& not_replayed) {
    const FuzzCase& min = shrunk.smallest;
    const std::string hash = hex(fnv1a(min.to_json("x", "", {}).dump() + std::string(name(v)) + sut_.command.name))
                                 .substr(0, 12);
    const std::string file_name = std::string(name(v)) + "-" + hash + ".json";
    const fs::path path = fs::path(o_.out) / file_name;
    std::ostringstream description;
    description << "Found by xph fuzz against " << sut_.command.name << " (seed " << o_.seed << ", case " << index
                << "), shrunk in " << shrunk.runs << " runs" << (shrunk.cut_short ? " (cut short by --time)" : "")
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
    const auto j = min.to_json("fuzz_" + hash, description.str(),
                               {{"default", "PASS"}, {sut_.command.name, std::string(name(v))}});
    const std::string tmp = path.string() + ".tmp";
    std::ofstream(tmp) << j.dump(2) << "\n";
    fs::rename(tmp, path, ec);
    if (ec) throw EnvError(path.string() + ": cannot write the finding: " + ec.message());
    return path.string();
  }

  void print_finding(std::uint64_t index, const std::string& wanted, const ShrinkResult& shrunk, const Judgement& first,
                     const std::string& path, const std::string& not_replayed) {
    const FuzzCase& min = shrunk.smallest;
    std::ostringstream out;
    out << "\n" << wanted << " in case " << index << ": ";
    if (o_.only_case)
      out << "not shrunk (--case)";
    else
      out << "shrunk to " << min.probes.size() << " probe(s), " << min.total_attempts() << " attempt(s) in "
          << shrunk.runs << " run(s)";
    if (shrunk.cut_short) out << "; shrinking stopped at the --time bound, so this is the smallest found so far";
    if (!not_replayed.empty()) out << "; NOT REPRODUCED on a rerun (" << not_replayed << ")";
    out << "\n";
    print_findings(out, first);
    out << "  shrunk:  " << min.summary() << "\n  written: " << path << "\n  replay:  " << o_.program << " run "
        << shell_quote(path) << " " << sut_.replay_args << "\n  unshrunk: " << unshrunk_line(index) << "\n";
    std::lock_guard lock(mu_);
    std::cout << out.str() << std::flush;
  }

  void progress(bool last) {
    std::lock_guard lock(mu_);
    const double secs = std::chrono::duration<double>(Clock::now() - started_).count();
    std::cout << "\r[fuzz] " << done_ << " case(s), " << std::fixed << std::setprecision(1)
              << (secs > 0 ? done_ / secs : 0) << "/s, " << failures_ << " failing, " << secs << " s   "
              << (last ? "\n" : "") << std::flush;
  }

  void summary() {
    const double secs = std::chrono::duration<double>(Clock::now() - started_).count();
    std::ostringstream s;
    s << "\n" << done_ << " case(s) in " << std::fixed << std::setprecision(1) << secs << " s ("
      << (secs > 0 ? done_ / secs : 0) << "/s), seed " << o_.seed << ":";
    for (const auto& [v, n] : counts_) s << " " << name(v) << " " << n;
    s << "\n";
    for (const auto& [sig, c] : claims_)
      if (!c.repeats.empty()) {
        s << sig << ": case " << c.index << " and " << c.repeats.size() << " more (cases";
        for (std::size_t i = 0; i < c.repeats.size() && i < 8; ++i) s << " " << c.repeats[i];
        s << (c.repeats.size() > 8 ? " ...)" : ")") << "\n";
      }
    s << found_.size() << " distinct finding(s)" << (found_.empty() ? "" : " in " + o_.out) << "\n";
    std::cout << s.str();
  }

  const SutChoice& sut_;
  const FuzzOptions& o_;
  mock::Server server_;
  Clock::time_point started_;
  std::mutex mu_;
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
};

}  // namespace

int run_fuzz(const SutChoice& sut, const FuzzOptions& options) { return Fuzzer(sut, options).run(); }

}  // namespace xph::harness
