// empty: a well-formed 200 with no choices.
#include "../openai.hpp"
#include "../step_kinds.hpp"

namespace xph::mock {

void serve_empty(const Step&, const Turn& turn, Exchange& ex) {
  if (turn.stream)
    ex.send_events(200, openai::completion_events(turn, 0), true);
  else
    ex.send(200, "application/json", openai::completion(turn, 0));
}

}  // namespace xph::mock
