// drop: the connection is closed in order (FIN) with no answer.
#include "steps.hpp"

namespace xph::mock {

void serve_drop(const Step&, const Turn&, Exchange& ex) { ex.drop(); }
ClientView view_drop(const Step&, const ViewContext&) { return {Seen::Connection}; }
Step draw_drop(Dice&) { return {.kind = StepKind::Drop}; }

}  // namespace xph::mock
