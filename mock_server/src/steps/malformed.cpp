// malformed: a 200 whose body is not JSON (a cut-off completion); streamed,
// one event whose data is not JSON, then the stream's proper end.
#include "steps.hpp"

namespace xph::mock {

void serve_malformed(const Step&, const Turn& turn, Exchange& ex) {
  const std::string body(openai::malformed_body());
  if (!turn.stream) return ex.send(200, "application/json", body);
  const auto events = openai::answer_events(turn, openai::reply_of(Step{}, turn));
  std::vector<SseEvent> out = {{events.front().event, body}};
  if (events.back().data == "[DONE]") out.push_back(events.back());
  ex.send_events(200, std::move(out), StreamEnd::Finish);
}
ClientView view_malformed(const Step&, const ViewContext&) { return {Seen::Decode}; }
Step draw_malformed(Dice&) { return {.kind = StepKind::Malformed}; }

}  // namespace xph::mock
