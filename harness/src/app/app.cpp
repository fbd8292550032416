#include "xph/harness/app/app.hpp"

#include <fnmatch.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <iomanip>
#include <iostream>
#include <map>
#include <sstream>
#include <thread>

#include <CLI/CLI.hpp>

#include "flags.hpp"
#include "matrix_table.hpp"
#include "merge.hpp"
#include "sut_choices.hpp"
#include "xph/harness/app/suts.hpp"
#include "xph/harness/fuzz/fuzzer.hpp"
#include "xph/harness/session/session.hpp"
#include "xph/harness/model/shell.hpp"
#include "xph/mock/cli.hpp"

namespace xph::harness {
namespace {

namespace fs = std::filesystem;

int default_jobs() { return static_cast<int>(std::max(1u, std::thread::hardware_concurrency())); }

// scenarios/ here when there is one, else the bundled ones.
std::string default_scenarios() {
  if (fs::is_directory("scenarios")) return "scenarios";
  return (data_dir() / "scenarios").string();
}

// Every bad file is reported, not only the first: one line each.
std::vector<Scenario> load_all(const std::vector<std::string>& paths) {
  std::vector<Scenario> out;
  std::map<std::string, std::string> names;
  std::string bad;
  auto complain = [&](const std::string& line) { bad += (bad.empty() ? "" : "\nxph: ") + line; };
  for (const auto& file : scenario_files(paths)) {
    try {
      out.push_back(load_scenario(file));
    } catch (const InputError& e) {
      complain(e.what());
      continue;
    }
    const auto [it, fresh] = names.emplace(out.back().name, file.string());
    if (!fresh && it->second != file.string())
      complain(file.string() + ": /name: \"" + out.back().name + "\" is also the name in " + it->second);
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
void warn_unknown_expectations(const std::vector<Scenario>& scenarios, const std::vector<SutChoice>& suts,
                               const std::vector<BuiltinSut>& user) {
  std::vector<std::string> known{"default"};  // `defualt` is a typo too
  for (const auto& b : builtin_suts()) known.push_back(b.name);
  for (const auto& u : user) known.push_back(u.name);
  for (const auto& s : suts) known.push_back(s.command.name);
  for (const auto& s : scenarios)
    for (const auto& [sut, _] : s.expect) {
      if (sut == "default" || sut.rfind("garak@", 0) == 0 || std::find(known.begin(), known.end(), sut) != known.end())
        continue;
      const auto nearest = std::min_element(known.begin(), known.end(), [&](const auto& a, const auto& b) {
        return edit_distance(sut, a) < edit_distance(sut, b);
      });
      // A name two edits away, at most a third of it, is a typo; any other
      // names a SUT of another run (`ppe` is no typo of `ref`).
      const std::size_t edits = edit_distance(sut, *nearest);
      const bool typo = edits <= 2 && 3 * edits <= sut.size();
      std::cerr << "xph: warning: " << s.file << ": /expect/" << sut << ": names no built-in SUT and no SUT of this run"
                << (typo ? "; did you mean " + *nearest + "?" : ": it applies to none here")
                << "\n";
    }
}

RunInfo run_info(const std::string& title, const std::string& command, const std::vector<Scenario>& scenarios,
                 const std::vector<SutChoice>& suts, std::size_t total) {
  RunInfo info{title, command, {}, {}, total};
  for (const auto& s : suts) info.suts.push_back(s.command.name);
  for (const auto& s : scenarios) info.scenarios.push_back({s.name, s.file, s.description});
  return info;
}

int suts_command(bool check) {
  for (const auto& s : builtin_suts(check))
    std::cout << std::left << std::setw(26) << s.name << (s.command ? "available    " : "unavailable  ")
              << (s.command ? s.description : s.why_not) << "\n";
  return 0;
}

// run and matrix: scenarios x SUTs, one session.
int session_command(const std::string& title, std::vector<Scenario> scenarios, std::vector<SutChoice> suts,
                    const std::vector<BuiltinSut>& user, const Flags& f, int argc, char** argv) {
  warn_unknown_expectations(scenarios, suts, user);
  const auto jobs = plan(scenarios, suts, f.filter);
  if (jobs.empty()) throw InputError("--filter " + f.filter + ": matches no case of the scenarios given");
  Supervisor supervisor(supervisor_options(f));
  MulticastReporter reporters = make_reporters(f, true);
  auto collecting = std::make_unique<CollectingReporter>();
  const CollectingReporter& collected = *collecting;
  reporters.add(std::move(collecting));
  reporters.on_run_started(run_info(title, command_line(argc, argv), scenarios, suts, jobs.size()));
  const RunSummary summary = run_session(scenarios, suts, {f.jobs, f.filter, replay_program(argv[0])}, supervisor, reporters);
  if (title == "xph matrix") {
    std::vector<std::string> names;
    for (const auto& s : suts) names.push_back(s.command.name);
    std::cout << matrix_table(scenarios, names, collected.cases);
  }
  if (!f.keep.empty()) std::cout << "case folders kept in " << fs::absolute(f.keep).string() << "\n";
  return summary.met == summary.cases ? 0 : 1;
}

// Every available built-in SUT and every SUT of the SUT file, or those
// --sut names, plus any --sut-cmd.
std::vector<SutChoice> matrix_suts(int argc, char** argv, const Flags& f, const std::vector<BuiltinSut>& user) {
  std::vector<SutChoice> chosen = sut_choices(argc, argv, user);
  if (!f.sut_names.empty()) return chosen;
  std::vector<SutChoice> out;
  std::vector<BuiltinSut> all = builtin_suts();
  all.insert(all.end(), user.begin(), user.end());
  for (const auto& s : all)
    if (s.command) out.push_back({*s.command, "--sut " + shell_quote(s.name)});
  out.insert(out.end(), chosen.begin(), chosen.end());
  return out;
}

// The command line: every subcommand and its flags.
struct Cli {
  CLI::App app{"xph: replays probe orderings against systems under test and judges whether every error "
               "crossed the process boundary intact.",
               "xph"};
  Flags f;
  bool check = false;
  std::vector<std::string> merge_dirs;
  std::string merge_out;

  Cli() {
    app.require_subcommand(1);
    f.jobs = default_jobs();
    auto* run = app.add_subcommand("run", "run scenario files or folders against SUTs");
    run->add_option("paths", f.paths, "scenario files or folders (default: scenarios/)");
    add_sut_flags(*run, f);
    run->add_option("--filter", f.filter, "only case ids matching this glob")->capture_default_str();
    add_run_flags(*run, f);
    auto* matrix = app.add_subcommand("matrix", "every bundled scenario against every available built-in SUT");
    add_sut_flags(*matrix, f);
    matrix->add_option("--filter", f.filter, "only case ids matching this glob")->capture_default_str();
    add_run_flags(*matrix, f);
    add_fuzz_flags(*app.add_subcommand("fuzz", "random scenarios, judged; each failure shrunk and written as a scenario"), f);
    app.add_subcommand("suts", "the built-in SUT names and whether each can run here")
        ->add_flag("--check", check, "ask real garak's adapter too (slower)");
    app.add_subcommand("serve", "same as oaimock (see `xph serve --help`)");
    auto* merge = app.add_subcommand("merge", "combine fuzz shards' findings and reports into one folder");
    merge->add_option("dirs", merge_dirs, "the shards' --out folders (with their --json and --junit reports)")->required();
    merge->add_option("--out", merge_out, "where the merged findings and reports go")->required();
  }

  // The exit code of parsing when it ends the run (help, a bad flag).
  std::optional<int> parse(int argc, char** argv) {
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
    return std::nullopt;
  }
};

int dispatch(Cli& cli, int argc, char** argv) {
  const Flags& f = cli.f;
  if (cli.app.got_subcommand("suts")) return suts_command(cli.check);
  if (cli.app.got_subcommand("merge")) return merge_command(cli.merge_dirs, cli.merge_out);
  const auto user = user_suts(f.suts_file);
  if (cli.app.got_subcommand("fuzz")) return fuzz_command(f, argc, argv, user);
  if (cli.app.got_subcommand("matrix"))
    return session_command("xph matrix", load_all({default_scenarios()}), matrix_suts(argc, argv, f, user), user, f,
                           argc, argv);
  auto suts = sut_choices(argc, argv, user);
  if (suts.empty()) suts.push_back({builtin_sut("ref"), "--sut ref"});
  return session_command("xph run", load_all(f.paths.empty() ? std::vector<std::string>{default_scenarios()} : f.paths),
                         suts, user, f, argc, argv);
}

}  // namespace

int xph_main(int argc, char** argv) {
  if (argc >= 2 && std::string(argv[1]) == "serve") return mock::oaimock_main(argc - 1, argv + 1);
  Cli cli;
  if (const auto done = cli.parse(argc, argv)) return *done;
  try {
    return dispatch(cli, argc, argv);
  } catch (const InputError& e) {
    std::cerr << "xph: " << e.what() << "\n";
    return 2;
  } catch (const EnvError& e) {
    std::cerr << "xph: " << e.what() << "\n";
    return 3;
  }
}

}  // namespace xph::harness
