// malformed: a 200 whose body is not JSON (a cut-off completion).
#include "../openai.hpp"
#include "../step_kinds.hpp"

namespace xph::mock {

void serve_malformed(const Step&, const Turn& turn, Exchange& ex) {
  const std::string body(openai::malformed_body());
  if (turn.stream)
    ex.send_events(200, {body}, true);
  else
    ex.send(200, "application/json", body);
}

}  // namespace xph::mock
