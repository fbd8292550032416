// Runs SUTs: the one object that starts, watches, ends and reaps their
// process families, owns their case folders, and ends them all when xph is
// interrupted. Made once by main, before any other thread starts.
//
//   xph::harness::Supervisor supervisor;
//   xph::mock::Server server;
//   server.start();
//   const CaseRun run = supervisor.run(sut, c, server);   // from any thread
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <memory>
#include <string>
#include <vector>

#include "xph/harness/model/case_run.hpp"
#include "xph/harness/model/scenario.hpp"
#include "xph/mock/server.hpp"

namespace xph::harness {

struct SutCommand {
  std::string name;
  std::vector<std::string> argv;  // argv[0] resolved to a path
  // Speaks the warm-start protocol (docs/python-sut.md): started once and
  // imported, then each case is a fork of it.
  bool warm = false;
  std::map<std::string, std::string> env;  // set for it beyond xph's own (PYTHONPATH)
};

class Supervisor {
 public:
  struct Options {
    bool cold = false;  // start every case afresh, warm SUTs too
    // Keep each case's folder (spec, result, stdout, stderr, journal.jsonl)
    // here, as CASE-ID.SUT, instead of removing it.
    std::optional<std::filesystem::path> keep;
  };
  // Makes this process the reaper of its SUTs' orphans, and from now on
  // SIGINT, SIGTERM and SIGHUP (unless ignored at start) end every running
  // SUT's family, remove their case folders and exit 128 + the signal.
  explicit Supervisor(Options);
  Supervisor();
  ~Supervisor();  // ends the warm SUTs it started
  Supervisor(const Supervisor&) = delete;
  Supervisor& operator=(const Supervisor&) = delete;

  // One case: spec out, SUT in its own process group and case folder,
  // bounded by timeout_s and the idle bound, ended and reaped whole, result
  // and journal in. Throws InputError when the program cannot be started
  // at all, EnvError when its case folder cannot be made.
  CaseRun run(const SutCommand&, const Case&, mock::Server&);

  // Runs on the signal thread once every SUT is ended, just before xph
  // exits: the session leaves its reports whole there.
  void on_interrupt(std::function<void(const std::string& signal)>);

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace xph::harness
