// TRANSPORT_BROKEN: a failure reported or printed at the process boundary,
// whatever followed from it.
#include <algorithm>

#include "../checks.hpp"
#include "xph/harness/model/boundary.hpp"

namespace xph::harness::oracle {

void transport_broken(const Evidence& ev, Findings& findings) {
  const auto& result = ev.run.result;
  for (const auto& line : boundary_lines(ev.run.stderr_text)) {
    // A failure the SUT also reported is listed once, as reported.
    const bool reported = result && std::any_of(result->failures.begin(), result->failures.end(),
                                                 [&](const SutFailure& f) { return f.message == line; });
    if (!reported)
      findings.push_back({Verdict::TransportBroken, "", "every error to reach the parent intact",
                          "the SUT printed: " + line, "", boundary_side(line)});
  }
  if (!result) return;
  for (const auto& f : result->failures) {
    const auto shown = failure_boundary(f);
    const auto side = f.stage == Stage::Dispatch ? std::optional(Side::Send)
                      : f.stage == Stage::Result ? std::optional(Side::Receive)
                      : shown                    ? std::optional(shown->side)
                                                 : std::nullopt;
    if (side)
      findings.push_back({Verdict::TransportBroken, f.probe.empty() ? "" : f.probe + "#*",
                          "no failure in the SUT's machinery",
                          std::string(name(f.stage)) + " failure: " + f.message +
                              (shown && !shown->cause.empty() ? " (its traceback: " + shown->cause + ")" : ""),
                          "", side});
  }
}

}  // namespace xph::harness::oracle
