// Where a reported failure shows a boundary signature (checks.hpp).
#include <sstream>

#include "../checks.hpp"
#include "xph/harness/model/boundary.hpp"

namespace xph::harness::oracle {

std::optional<FailureBoundary> failure_boundary(const SutFailure& f) {
  if (const auto side = boundary_side(f.message)) return FailureBoundary{*side, ""};
  // Exception lines only ("TypeError: ...", a chained cause's too): frames
  // are indented, and their source lines may name anything.
  std::istringstream in(f.traceback);
  for (std::string line; std::getline(in, line);) {
    line = printable_line(line);
    if (line.empty() || line[0] == ' ' || line[0] == '\t') continue;
    if (const auto side = boundary_side(line)) return FailureBoundary{*side, line};
  }
  return std::nullopt;
}

}  // namespace xph::harness::oracle
