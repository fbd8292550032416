// truncate: a 200 that announces a whole completion and stops half-way.
#include "../openai.hpp"
#include "../step_kinds.hpp"

namespace xph::mock {

void serve_truncate(const Step&, const Turn& turn, Exchange& ex) {
  if (turn.stream) {
    auto events = openai::completion_events(turn, turn.n);
    events.resize((events.size() + 1) / 2);
    ex.send_events(200, std::move(events), false);
    return;
  }
  std::string body = openai::completion(turn, turn.n);
  const std::size_t declared = body.size();
  body.resize(declared / 2);
  ex.send_truncated(200, "application/json", std::move(body), declared);
}

}  // namespace xph::mock
