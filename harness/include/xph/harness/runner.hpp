// Runs one case against one SUT: spec out, process in its own group, bounded,
// watched for idleness, killed and reaped whole, result and journal in.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "xph/harness/result.hpp"
#include "xph/harness/scenario.hpp"
#include "xph/mock/journal.hpp"
#include "xph/mock/server.hpp"

namespace xph::harness {

struct SutCommand {
  std::string name;
  std::vector<std::string> argv;  // argv[0] resolved to a path
};

enum class RunEnd { Exited, TimedOut, Idle };

struct CaseRun {
  long sut_pid = 0;
  RunEnd end = RunEnd::Exited;
  std::optional<int> exit_code;
  std::optional<int> signal;
  double seconds = 0;
  double idle_bound_s = 0;
  std::optional<SutResult> result;
  std::string result_problem;  // why `result` is empty, or what broke the protocol
  std::string stderr_text;     // its last 256 KiB
  std::vector<mock::JournalEntry> journal;
  std::string journal_problem;  // set when the journal may lack requests still in flight
};

// The run spec of contract section 4 for this case.
nlohmann::json make_spec(const Case&, const std::string& base_url, const std::string& api_key);
std::string prompt_text(const Case&, const std::string& attempt_id);

// Throws InputError when the program cannot be started at all.
CaseRun run_case(const SutCommand&, const Case&, mock::Server&);

// Makes this process the reaper of its SUTs' orphans (pool children that
// outlive their parent), so that none is left behind. Call once at start.
void become_subreaper();

// From now on SIGINT, SIGTERM and SIGHUP end every running SUT's family (its
// group and any process that escaped it), remove their case folders and exit
// 128 + the signal. Call once, before starting any thread.
void end_suts_on_interrupt();

// Run on the signal thread once every SUT is ended, just before xph exits:
// the session leaves its reports whole there. Set before cases start.
void on_interrupt(std::function<void(const std::string& signal)>);

}  // namespace xph::harness
