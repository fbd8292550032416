// LOST: an attempt of the spec has no outcome.
#include "../checks.hpp"

namespace xph::harness::oracle {

void lost(const Evidence& ev, Findings& findings) {
  if (!ev.run.result) return;  // no result at all: CRASH or HANG says why
  for (const auto& a : ev.attempts)
    if (!a.outcome)
      findings.push_back({Verdict::Lost, a.id, "an outcome", "none",
                          std::to_string(a.requests.size()) + " request(s) for it reached the server"});
}

}  // namespace xph::harness::oracle
