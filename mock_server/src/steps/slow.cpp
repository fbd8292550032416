// slow@S: the ordinary 200, after S seconds (sooner if the server stops). A
// client whose request timeout is S or less has given up by then.
#include "steps.hpp"

namespace xph::mock {

void serve_slow(const Step& step, const Turn& turn, Exchange& ex) {
  ex.pause(std::chrono::milliseconds(static_cast<long>(step.seconds * 1000)));
  serve_status(Step{}, turn, ex);
}
ClientView view_slow(const Step& step, const ViewContext& ctx) {
  if (step.seconds >= ctx.request_timeout_s) return {Seen::Timeout};
  return view_status(Step{}, ctx);
}
Step draw_slow(Dice& dice) { return {.kind = StepKind::Slow, .seconds = dice.between(1, 5) / 100.0}; }

}  // namespace xph::mock
