// hang: no answer until the client gives up, bounded by the server's hang_max;
// then the connection is closed with nothing sent.
#include "../step_kinds.hpp"

namespace xph::mock {

void serve_hang(const Step&, const Turn&, Exchange& ex) {
  ex.hold();
  ex.drop();
}

}  // namespace xph::mock
