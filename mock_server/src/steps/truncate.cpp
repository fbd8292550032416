// truncate: a 200 that announces a whole answer and stops half-way; streamed,
// half the events and a connection closed mid-body.
#include "steps.hpp"

namespace xph::mock {

void serve_truncate(const Step&, const Turn& turn, Exchange& ex) {
  const openai::Reply reply = openai::reply_of(Step{}, turn);
  if (turn.stream) {
    auto events = openai::answer_events(turn, reply);
    events.resize(events.size() / 2);
    ex.send_events(200, std::move(events), StreamEnd::Cut);
    return;
  }
  std::string body = openai::answer(turn, reply);
  const std::size_t declared = body.size();
  body.resize(declared / 2);
  ex.send_truncated(200, "application/json", std::move(body), declared);
}
ClientView view_truncate(const Step&, const ViewContext&) { return {Seen::Connection}; }
Step draw_truncate(Dice&) { return {.kind = StepKind::Truncate}; }

}  // namespace xph::mock
