// drop: the connection is closed in order (FIN) with no answer.
#include "../step_kinds.hpp"

namespace xph::mock {

void serve_drop(const Step&, const Turn&, Exchange& ex) { ex.drop(); }

}  // namespace xph::mock
