#include "xph/harness/app.hpp"

#include <fnmatch.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <map>
#include <sstream>
#include <thread>

#include <CLI/CLI.hpp>

#include "xph/harness/fuzz.hpp"
#include "xph/harness/report.hpp"
#include "xph/harness/session.hpp"
#include "xph/harness/suts.hpp"
#include "xph/mock/cli.hpp"

namespace xph::harness {
namespace {

namespace fs = std::filesystem;

int default_jobs() { return static_cast<int>(std::max(1u, std::thread::hardware_concurrency())); }

std::string default_scenarios() {
  if (fs::is_directory("scenarios")) return "scenarios";
  return std::string(XPH_SOURCE_DIR) + "/scenarios";
}

// Every bad file is reported, not only the first: one line each.
std::vector<Scenario> load_all(const std::vector<std::string>& paths) {
  std::vector<Scenario> out;
  std::map<std::string, std::string> names;
  std::string bad;
  for (const auto& file : scenario_files(paths)) {
    try {
      out.push_back(load_scenario(file));
    } catch (const InputError& e) {
      bad += (bad.empty() ? "" : "\nxph: ") + std::string(e.what());
      continue;
    }
    const auto [it, fresh] = names.emplace(out.back().name, file.string());
    if (!fresh && it->second != file.string())
      bad += (bad.empty() ? "" : "\nxph: ") + file.string() + ": /name: \"" + out.back().name +
             "\" is also the name in " + it->second;
  }
  if (!bad.empty()) throw InputError(bad);
  return out;
}

std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = up;
    }
  }
  return row[b.size()];
}

// An `expect` key naming no SUT anyone knows is most likely a typo that
// would quietly expect PASS: say so, and name the nearest known SUT.
void warn_unknown_expectations(const std::vector<Scenario>& scenarios, const std::vector<SutChoice>& suts) {
  std::vector<std::string> known;
  for (const auto& b : builtin_suts()) known.push_back(b.name);
  for (const auto& s : suts) known.push_back(s.command.name);
  for (const auto& s : scenarios)
    for (const auto& [sut, _] : s.expect) {
      if (sut == "default" || sut.rfind("garak@", 0) == 0 ||
          std::find(known.begin(), known.end(), sut) != known.end())
        continue;
      const auto nearest = std::min_element(known.begin(), known.end(), [&](const auto& a, const auto& b) {
        return edit_distance(sut, a) < edit_distance(sut, b);
      });
      std::cerr << "xph: warning: " << s.file << ": /expect/" << sut
                << ": names no built-in SUT and no SUT of this run; did you mean " << *nearest << "?\n";
    }
}

// --sut-name names the --sut-cmd just before it; CLI11 keeps no order across
// options, so pair them from argv.
std::vector<SutChoice> sut_choices(int argc, char** argv) {
  std::vector<SutChoice> out;
  int unnamed = 0;
  std::vector<std::pair<std::string, std::string>> cmds;  // text, name
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&](const std::string& flag) -> std::optional<std::string> {
      if (a == flag) {
        if (i + 1 >= argc) throw InputError(flag + ": needs a value");
        return std::string(argv[++i]);
      }
      if (a.rfind(flag + "=", 0) == 0) return a.substr(flag.size() + 1);
      return std::nullopt;
    };
    if (auto v = value("--sut")) {
      out.push_back({builtin_sut(*v), "--sut " + shell_quote(*v)});
    } else if (auto v2 = value("--sut-cmd")) {
      cmds.emplace_back(*v2, "");
      out.push_back({SutCommand{}, ""});
    } else if (auto v3 = value("--sut-name")) {
      if (cmds.empty() || !cmds.back().second.empty())
        throw InputError("--sut-name " + *v3 + ": must follow a --sut-cmd");
      cmds.back().second = *v3;
    }
  }
  std::size_t k = 0;
  for (auto& choice : out) {
    if (!choice.replay_args.empty()) continue;
    auto& [text, name] = cmds[k++];
    if (name.empty()) name = "cmd" + std::to_string(++unnamed);
    choice.command = command_sut(text, name);
    choice.replay_args = "--sut-cmd " + shell_quote(text) + " --sut-name " + shell_quote(name);
  }
  if (out.empty()) out.push_back({builtin_sut("ref"), "--sut ref"});
  return out;
}

struct ReportFlags {
  std::string json, junit;
  int jobs = default_jobs();
};

void add_report_flags(CLI::App& cmd, ReportFlags& f) {
  cmd.add_option("-j,--jobs", f.jobs, "cases run side by side")->check(CLI::Range(1, 256))->capture_default_str();
  cmd.add_option("--json", f.json, "write every case as JSON to FILE");
  cmd.add_option("--junit", f.junit, "write JUnit XML to FILE");
}

MulticastReporter make_reporters(const ReportFlags& f, bool console) {
  MulticastReporter r;
  if (console) r.add(console_reporter(std::cout));
  if (!f.json.empty()) r.add(json_reporter(f.json));
  if (!f.junit.empty()) r.add(junit_reporter(f.junit));
  return r;
}

int exit_code(const RunSummary& s) { return s.met == s.cases ? 0 : 1; }

void print_matrix(const std::vector<Scenario>& scenarios, const std::vector<SutChoice>& suts,
                  const std::vector<CaseReport>& cases) {
  // A cell: the scenario's worst verdict over its cases, and whether every
  // case met its expectation.
  std::map<std::pair<std::string, std::string>, std::pair<Verdict, bool>> cell;
  for (const auto& c : cases) {
    auto [it, fresh] = cell.try_emplace({c.scenario, c.sut}, c.verdict, c.met);
    if (!fresh) {
      it->second.first = std::min(it->second.first, c.verdict);
      it->second.second = it->second.second && c.met;
    }
  }
  std::size_t w = 10;
  for (const auto& s : scenarios) w = std::max(w, s.name.size());
  std::ostringstream out;
  std::vector<int> widths;
  for (const auto& sut : suts) widths.push_back(static_cast<int>(std::max<std::size_t>(16, sut.command.name.size())));
  out << '\n' << std::left << std::setw(static_cast<int>(w)) << "scenario";
  for (std::size_t i = 0; i < suts.size(); ++i) out << "  " << std::setw(widths[i]) << suts[i].command.name;
  out << '\n';
  for (const auto& s : scenarios) {
    if (std::none_of(cases.begin(), cases.end(), [&](const CaseReport& c) { return c.scenario == s.name; }))
      continue;  // --filter left it out
    out << std::setw(static_cast<int>(w)) << s.name;
    for (std::size_t i = 0; i < suts.size(); ++i) {
      const auto it = cell.find({s.name, suts[i].command.name});
      std::string text = it == cell.end() ? "-" : std::string(name(it->second.first)) + (it->second.second ? "" : " !");
      out << "  " << std::setw(widths[i]) << text;
    }
    out << '\n';
  }
  out << "\nA cell is the worst verdict over the scenario's cases; '!' marks a scenario where some case did not\n"
         "meet its expectation (the lines above say which, and how to replay it).\n";
  std::cout << out.str();
}

}  // namespace

int xph_main(int argc, char** argv) {
  if (argc >= 2 && std::string(argv[1]) == "serve") return mock::oaimock_main(argc - 1, argv + 1);

  CLI::App app{"xph: replays probe orderings against systems under test and judges whether every error "
               "crossed the process boundary intact.",
               "xph"};
  app.require_subcommand(1);
  ReportFlags flags;
  std::vector<std::string> paths;
  std::vector<std::string> sut_names, sut_cmds, sut_labels;
  std::string filter = "*";

  auto* run = app.add_subcommand("run", "run scenario files or folders against SUTs");
  run->add_option("paths", paths, "scenario files or folders (default: scenarios/)");
  run->add_option("--sut", sut_names, "a built-in SUT (see `xph suts`); repeatable");
  run->add_option("--sut-cmd", sut_cmds, "a program that speaks contract section 4, as one string; repeatable");
  run->add_option("--sut-name", sut_labels, "name of the --sut-cmd just before it");
  run->add_option("--filter", filter, "only case ids matching this glob")->capture_default_str();
  add_report_flags(*run, flags);

  auto* matrix = app.add_subcommand("matrix", "every bundled scenario against every available built-in SUT");
  matrix->add_option("--filter", filter, "only case ids matching this glob")->capture_default_str();
  add_report_flags(*matrix, flags);

  auto* fuzz = app.add_subcommand("fuzz", "random scenarios, judged; each failure shrunk and written as a scenario");
  FuzzOptions fo;
  std::optional<std::uint64_t> seed, cases, only_case;
  std::optional<double> seconds;
  std::string shard;
  fuzz->add_option("--sut", sut_names, "a built-in SUT");
  fuzz->add_option("--sut-cmd", sut_cmds, "a program that speaks contract section 4, as one string");
  fuzz->add_option("--sut-name", sut_labels, "name of the --sut-cmd");
  fuzz->add_option("--seed", seed, "the seed (default: from the clock, printed)");
  fuzz->add_option("--cases", cases, "cases in the whole (unsharded) stream (default 100 unless --time)");
  fuzz->add_option("--time", seconds, "stop starting cases (and shrinking) after this many seconds");
  fuzz->add_option("-j,--jobs", fo.jobs, "cases run side by side")->check(CLI::Range(1, 256))->capture_default_str();
  fuzz->add_option("--out", fo.out, "where shrunk failures are written")->capture_default_str();
  fuzz->add_option("--shard", shard, "I/N: run the cases i with i % N == I");
  fuzz->add_option("--case", only_case, "replay one case of the seed, unshrunk");
  fuzz->add_option("--max-failures", fo.max_failures, "stop starting cases after this many failures (0: never)")
      ->check(CLI::NonNegativeNumber);
  fuzz->add_option("--shrink-runs", fo.shrink_runs, "SUT runs one shrink may take")
      ->check(CLI::Range(0, 100000))->capture_default_str();
  app.add_subcommand("suts", "the built-in SUT names and whether each can run here");
  app.add_subcommand("serve", "same as oaimock (see `xph serve --help`)");

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    std::cout << app.help();
    return 0;
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) {  // help of a subcommand
      std::cout << (app.get_subcommands().empty() ? app.help() : app.get_subcommands().front()->help());
      return 0;
    }
    std::cerr << "xph: " << e.what() << "\n";
    return 2;
  }

  become_subreaper();
  end_suts_on_interrupt();
  try {
    if (app.got_subcommand("suts")) {
      for (const auto& s : builtin_suts())
        std::cout << std::left << std::setw(26) << s.name << (s.command ? "available    " : "unavailable  ")
                  << (s.command ? s.description : s.why_not) << "\n";
      return 0;
    }
    if (app.got_subcommand("fuzz")) {
      const auto suts = sut_choices(argc, argv);
      if (sut_names.size() + sut_cmds.size() != 1) throw InputError("fuzz: give exactly one --sut or --sut-cmd");
      fo.seed = seed ? *seed : static_cast<std::uint64_t>(std::chrono::system_clock::now().time_since_epoch().count()) % 1000000007ULL;
      if (cases && *cases == 0) throw InputError("--cases 0: expected at least 1 case");
      if (seconds && !(*seconds > 0 && *seconds <= 1e9))
        throw InputError("--time " + CLI::detail::to_string(*seconds) + ": expected a number of seconds above 0");
      fo.cases = cases;
      fo.seconds = seconds;
      fo.only_case = only_case;
      if (!cases && !seconds) fo.cases = 100;
      if (!shard.empty()) {
        int i = -1, n = 0;
        char slash = 0;
        std::istringstream in(shard);
        if (!(in >> i >> slash >> n) || slash != '/' || n < 1 || i < 0 || i >= n || !in.eof())
          throw InputError("--shard " + shard + ": expected I/N with 0 <= I < N, e.g. 0/4");
        fo.shard = i;
        fo.shards = n;
      }
      fo.program = argv[0];
      return run_fuzz(suts.front(), fo);
    }
    std::vector<SutChoice> suts;
    std::vector<Scenario> scenarios;
    if (app.got_subcommand("matrix")) {
      for (const auto& s : builtin_suts())
        if (s.command) suts.push_back({*s.command, "--sut " + s.name});
      scenarios = load_all({default_scenarios()});
    } else {
      suts = sut_choices(argc, argv);
      scenarios = load_all(paths.empty() ? std::vector<std::string>{default_scenarios()} : paths);
    }
    warn_unknown_expectations(scenarios, suts);
    std::size_t matching = 0;
    for (const auto& s : scenarios)
      for (const auto& c : expand(s)) matching += ::fnmatch(filter.c_str(), c.id.c_str(), 0) == 0;
    if (matching == 0) throw InputError("--filter " + filter + ": matches no case of the scenarios given");
    SessionOptions options{flags.jobs, filter, argv[0]};
    MulticastReporter reporters = make_reporters(flags, true);
    if (app.got_subcommand("matrix")) {
      auto collecting = std::make_unique<CollectingReporter>();
      const CollectingReporter& collected = *collecting;
      reporters.add(std::move(collecting));
      const RunSummary summary = run_session(scenarios, suts, options, reporters);
      print_matrix(scenarios, suts, collected.cases);
      return exit_code(summary);
    }
    return exit_code(run_session(scenarios, suts, options, reporters));
  } catch (const InputError& e) {
    std::cerr << "xph: " << e.what() << "\n";
    return 2;
  } catch (const EnvError& e) {
    std::cerr << "xph: " << e.what() << "\n";
    return 3;
  }
}

}  // namespace xph::harness
