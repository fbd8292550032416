// xph merge: shards' findings, JSON and JUnit reports into one folder.
#pragma once

#include <string>
#include <vector>

namespace xph::harness {

// Findings deduplicated by (SUT, signature), the smallest kept; reports
// concatenated. Returns 0 when no finding, 1 when some (as xph fuzz).
int merge_command(const std::vector<std::string>& dirs, const std::string& out);

}  // namespace xph::harness
