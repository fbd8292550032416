// What one run of a case saw: how the SUT ended, what it reported and
// printed, and what the server sent it. The oracle's whole input, beside the
// case itself.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "xph/harness/model/result.hpp"
#include "xph/mock/journal.hpp"

namespace xph::harness {

// Stuck: every thread waited with no timeout on what only its group could
// end, none ran, nothing was in flight (supervise/stuck.hpp): a hang for
// good, seen without waiting the idle bound.
enum class RunEnd { Exited, TimedOut, Idle, Stuck };
std::string_view name(RunEnd);  // "exited", "timed_out", "idle", "stuck"

// The most that waiting for a core may add to a case's timeout_s, as a
// multiple of it. A SUT slowed past that was starved by the machine: its
// HANG says so, and that a quieter machine should replay it.
inline constexpr double kMaxCoreWaitStretch = 20.0;

struct CaseRun {
  long sut_pid = 0;
  // When sut_pid only waited for its child (`sh -c '...'`, `bash run.sh`,
  // `make run`, `timeout`, `npm start`): every such child, the SUT's own
  // process (several when a wrapper ran one after another), and the
  // wrappers as "sh (pid 41)". Otherwise empty and "".
  std::vector<long> own_pids;
  std::string wrapped_by;
  RunEnd end = RunEnd::Exited;
  std::optional<int> exit_code;
  std::optional<int> signal;
  double seconds = 0;
  double idle_bound_s = 0;
  std::string stuck_what;         // when end is Stuck: what its threads waited on
  double waited_for_cores_s = 0;  // runnable while a busy machine had no core for it: not counted in timeout_s
                                  // (at most kMaxCoreWaitStretch times it)
  std::optional<SutResult> result;
  std::string result_problem;  // why `result` is empty, or what broke the protocol
  std::string stderr_text;     // its last 256 KiB
  std::vector<mock::JournalEntry> journal;
  std::string journal_problem;  // set when the journal may lack requests still in flight
  std::string start_problem;    // a warm SUT that never got as far as the case (died or hung importing)
  double started_ms = 0;        // on the server's clock, so journal times can be made relative to the run
  std::optional<double> boundary_seen_ms;  // when a boundary failure first showed on stderr (server clock)
  nlohmann::json spec;          // the run spec the SUT was given
  std::string kept;             // where its case folder was kept (--keep), or ""
};

}  // namespace xph::harness
