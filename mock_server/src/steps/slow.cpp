// slow@S: the ordinary 200, after S seconds (sooner if the server stops).
#include "../step_kinds.hpp"

namespace xph::mock {

void serve_slow(const Step& step, const Turn& turn, Exchange& ex) {
  ex.pause(std::chrono::milliseconds(static_cast<long>(step.seconds * 1000)));
  serve_status(Step{}, turn, ex);
}

}  // namespace xph::mock
