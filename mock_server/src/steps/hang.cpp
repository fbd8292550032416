// hang: no answer until the client gives up, bounded by the server's hang_max;
// then the connection is closed with nothing sent.
#include "steps.hpp"

namespace xph::mock {

void serve_hang(const Step&, const Turn&, Exchange& ex) {
  ex.hold();
  ex.drop();
}
ClientView view_hang(const Step&, const ViewContext&) { return {Seen::Timeout}; }
Step draw_hang(Dice&) { return {.kind = StepKind::Hang}; }

}  // namespace xph::mock
