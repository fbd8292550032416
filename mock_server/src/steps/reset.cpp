// reset: the connection is aborted with a TCP RST; no byte of an answer.
#include "steps.hpp"

namespace xph::mock {

void serve_reset(const Step&, const Turn&, Exchange& ex) { ex.reset(); }
ClientView view_reset(const Step&, const ViewContext&) { return {Seen::Connection}; }
Step draw_reset(Dice&) { return {.kind = StepKind::Reset}; }

}  // namespace xph::mock
