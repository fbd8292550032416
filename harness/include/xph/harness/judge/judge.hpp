// The oracle: a pure function from what the case asked, what the server sent
// (the journal) and what the SUT reported and printed, to findings and a
// verdict. One small check per verdict (src/judge/checks/), run in contract
// order; it never starts a process or reads a file.
#pragma once

#include "xph/harness/model/case_run.hpp"
#include "xph/harness/model/scenario.hpp"
#include "xph/harness/model/verdict.hpp"

namespace xph::harness {

Judgement judge(const Case&, const CaseRun&);

}  // namespace xph::harness
