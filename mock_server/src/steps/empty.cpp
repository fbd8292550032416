// empty: a well-formed 200 with nothing in it: no choices, no embeddings, a
// response with no output.
#include "steps.hpp"

namespace xph::mock {

void serve_empty(const Step&, const Turn& turn, Exchange& ex) { send_answer(200, turn, {.choices = 0}, ex); }
ClientView view_empty(const Step&, const ViewContext& ctx) { return openai::answered(ctx, {.choices = 0}); }
Step draw_empty(Dice&) { return {.kind = StepKind::Empty}; }

}  // namespace xph::mock
