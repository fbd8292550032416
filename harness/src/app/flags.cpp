#include "flags.hpp"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <thread>

#include "xph/harness/model/shell.hpp"

namespace xph::harness {

namespace fs = std::filesystem;

// A live line on a terminal only: never in a pipe, a file or CI.
bool live_output(bool quiet) { return !quiet && ::isatty(STDOUT_FILENO) && !std::getenv("CI"); }

void add_sut_flags(CLI::App& cmd, Flags& f) {
  cmd.add_option("--sut", f.sut_names, "a built-in SUT (see `xph suts`), or garak@DIR; repeatable");
  cmd.add_option("--sut-cmd", f.sut_cmds, "a program that speaks contract section 4, as one string; repeatable");
  cmd.add_option("--sut-name", f.sut_labels, "name of the --sut-cmd just before it (in reports and `expect`)");
  cmd.add_flag("--warm", f.warm, "the --sut-cmd just before it speaks the warm-start protocol (docs/python-sut.md)");
  cmd.add_option("--suts", f.suts_file, "a SUT file naming your own SUTs (default: xph-suts.json here, if any)");
}

void add_run_flags(CLI::App& cmd, Flags& f) {
  cmd.add_option("-j,--jobs", f.jobs, "cases run side by side")->check(CLI::Range(1, 256))->capture_default_str();
  cmd.add_option("--json", f.json, "write every case as JSON to FILE");
  cmd.add_option("--junit", f.junit, "write JUnit XML to FILE");
  cmd.add_option("--html", f.html, "write a self-contained HTML report with each case's process timeline to FILE");
  cmd.add_option("--keep", f.keep, "keep each case's folder (spec, result, output, journal) under DIR");
  cmd.add_flag("--cold", f.cold, "start every case afresh, warm SUTs too");
  cmd.add_flag("-q,--quiet", f.quiet, "print only cases that miss their expectation, and the summary");
  cmd.add_flag("-v,--verbose", f.verbose, "print every case's findings, met or not");
}

MulticastReporter make_reporters(const Flags& f, bool console) {
  MulticastReporter r;
  if (console) r.add(console_reporter(std::cout, {f.quiet, f.verbose, live_output(f.quiet)}));
  if (!f.json.empty()) r.add(json_reporter(f.json));
  if (!f.junit.empty()) r.add(junit_reporter(f.junit));
  if (!f.html.empty()) r.add(html_reporter(f.html));
  return r;
}

Supervisor::Options supervisor_options(const Flags& f) {
  Supervisor::Options o;
  o.cold = f.cold;
  if (!f.keep.empty()) o.keep = fs::absolute(f.keep);
  return o;
}

std::string replay_program(const char* argv0) {
  const std::string typed = argv0;
  if (typed.find('/') == std::string::npos) return typed;
  std::error_code ec;
  const auto abs = fs::absolute(typed, ec);
  return shell_quote(ec ? typed : abs.lexically_normal().string());
}

std::string command_line(int argc, char** argv) {
  std::string out;
  for (int i = 0; i < argc; ++i) out += (i ? " " : "") + shell_quote(argv[i]);
  return out;
}

}  // namespace xph::harness
