// reset: the connection is aborted with a TCP RST; no byte of an answer.
#include "../step_kinds.hpp"

namespace xph::mock {

void serve_reset(const Step&, const Turn&, Exchange& ex) { ex.reset(); }

}  // namespace xph::mock
