// stream_error:K: a 200 stream that sends K content chunks of the ordinary
// answer, then the error OpenAI sends when it fails mid-answer (chat and
// completions: a `data:` event holding an error body, on which the SDKs raise
// APIError with no status; responses: `event: error` then
// `response.failed`), then ends. A request that did not ask to stream gets
// what `500:server_error` gives.
#include "steps.hpp"

namespace xph::mock {
namespace {

const Step kInstead{.status = 500, .code = "server_error"};

}  // namespace

void serve_stream_error(const Step& step, const Turn& turn, Exchange& ex) {
  if (!turn.stream) return serve_status(kInstead, turn, ex);
  auto events = openai::first_chunks(openai::answer_events(turn, openai::reply_of(Step{}, turn)), step.chunks);
  const std::string message = "xph: scripted stream_error after " + std::to_string(step.chunks) + " chunk(s) for " +
                              turn.key + " (request " + std::to_string(turn.k) + ")";
  for (auto& e : openai::error_events(turn, events.size(), message)) events.push_back(std::move(e));
  ex.send_events(200, std::move(events), StreamEnd::Finish);
}
ClientView view_stream_error(const Step&, const ViewContext& ctx) {
  if (!openai::turn_of(ctx).stream) return view_status(kInstead, ctx);
  return {Seen::Http, std::nullopt, "server_error", {}};
}
Step draw_stream_error(Dice& dice) { return {.kind = StepKind::StreamError, .chunks = dice.between(0, 4)}; }

}  // namespace xph::mock
