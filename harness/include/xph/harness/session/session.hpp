// Runs scenarios x SUTs side by side on one embedded server, judges each
// case (with its differential runs), and tells the reporters.
#pragma once

#include <string>
#include <vector>

#include "xph/harness/model/scenario.hpp"
#include "xph/harness/session/report.hpp"
#include "xph/harness/supervise/supervisor.hpp"

namespace xph::harness {

struct SutChoice {
  SutCommand command;
  std::string replay_args;  // how the replay line selects this SUT
};

struct SessionOptions {
  int jobs = 2;
  std::string filter = "*";     // glob over case ids
  std::string program = "xph";  // as invoked, for replay lines
};

// Every case of the scenarios, with every SUT, that the filter matches.
struct Job {
  Case c;
  const SutChoice* sut;
};
std::vector<Job> plan(const std::vector<Scenario>&, const std::vector<SutChoice>&, const std::string& filter);

// Runs one job and judges it, differential runs included.
CaseReport run_job(const Job&, Supervisor&, mock::Server&, const std::string& program);

RunSummary run_session(const std::vector<Scenario>&, const std::vector<SutChoice>&, const SessionOptions&,
                       Supervisor&, Reporter&);

}  // namespace xph::harness
