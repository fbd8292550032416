// stream_reset:K: a 200 stream that sends K content chunks of the ordinary
// answer, then a TCP RST once they are delivered. A request that did not ask
// to stream is reset at once, as `reset`.
#include "steps.hpp"

namespace xph::mock {

void serve_stream_reset(const Step& step, const Turn& turn, Exchange& ex) {
  if (!turn.stream) return ex.reset();
  ex.send_events(200, openai::first_chunks(openai::answer_events(turn, openai::reply_of(Step{}, turn)), step.chunks),
                 StreamEnd::Reset);
}
ClientView view_stream_reset(const Step&, const ViewContext&) { return {Seen::Connection}; }
Step draw_stream_reset(Dice& dice) { return {.kind = StepKind::StreamReset, .chunks = dice.between(0, 4)}; }

}  // namespace xph::mock
