// tool_call: a 200 whose every choice calls the request's first tool (named
// "xph_tool" when it offers none) with arguments "{}": chat says
// `finish_reason: "tool_calls"` and `content: null`, responses answers a
// `function_call` output item. No text, so a client's outputs are null. An
// endpoint that cannot carry a tool call (completions, embeddings) answers
// 400 `unsupported_step`: the script, not the client, is wrong there.
#include "../endpoints.hpp"
#include "steps.hpp"

namespace xph::mock {

void serve_tool_call(const Step&, const Turn& turn, Exchange& ex) {
  if (endpoint_row(turn.endpoint).tools) return send_answer(200, turn, {.choices = turn.n, .tool_call = true}, ex);
  const ClientView refused = openai::unsupported_tool_call();
  ex.send(*refused.status, "application/json",
          openai::error_body("xph: a tool_call step cannot answer " + std::string(path(turn.endpoint)) + " for " +
                                 turn.key + " (request " + std::to_string(turn.k) + ")",
                             "invalid_request_error", refused.code));
}
ClientView view_tool_call(const Step&, const ViewContext& ctx) {
  return openai::answered(ctx, {.choices = openai::turn_of(ctx).n, .tool_call = true});
}
Step draw_tool_call(Dice&) { return {.kind = StepKind::ToolCall}; }

}  // namespace xph::mock
