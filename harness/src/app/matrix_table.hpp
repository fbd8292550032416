// `xph matrix`'s table: scenarios x SUTs, each cell the worst verdict over
// the scenario's cases, '!' where a case missed its expectation.
#pragma once

#include <string>
#include <vector>

#include "xph/harness/model/scenario.hpp"
#include "xph/harness/session/report.hpp"

namespace xph::harness {

std::string matrix_table(const std::vector<Scenario>&, const std::vector<std::string>& suts,
                         const std::vector<CaseReport>&);

}  // namespace xph::harness
