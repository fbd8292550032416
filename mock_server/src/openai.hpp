// OpenAI response shapes shared by every endpoint, filled from the canned
// bodies in fixtures/openai. Each endpoint's own shapes are in endpoints/.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "exchange.hpp"
#include "xph/mock/client_view.hpp"
#include "xph/mock/step.hpp"

namespace xph::mock::openai {

using ojson = nlohmann::ordered_json;  // keeps the fixtures' field order

// What a 2xx answer carries, whatever the endpoint.
struct Reply {
  int choices = 1;                  // 0: the `empty` step
  bool tool_call = false;           // each choice calls the request's first tool
  std::optional<std::string> text;  // scripted text instead of the label
};

// The ordinary answer of a 2xx step: n choices, the step's text if it has one.
Reply reply_of(const Step&, const Turn&);

// Choice i of request k for KEY says `xph:KEY:r<k>:c<i>`, or the scripted
// text. The one source of every output text: bodies, streams, embeddings and
// the client view all call it.
std::string choice_text(const Turn&, const Reply&, int i);
// The text cut where a streaming server cuts it (before each ':', after each
// ' '), so a label streams as "xph", ":KEY", ":r0", ":c0". Never empty.
std::vector<std::string> pieces(std::string_view text);
int tokens_of(std::string_view text);  // rough and stable: the mock is no tokenizer
std::string tool_name(const Turn&);    // the request's first tool, else "xph_tool"
std::string call_id(const Turn&, int i);

// The endpoint's whole 2xx answer, as a body or as the events of a stream
// (ending as that endpoint ends streams, e.g. `data: [DONE]`).
std::string answer(const Turn&, const Reply&);
std::vector<SseEvent> answer_events(const Turn&, const Reply&);
// The events a stream sends when the server fails mid-answer, after
// `sequence` events.
std::vector<SseEvent> error_events(const Turn&, std::size_t sequence, std::string_view message);
// The events before the (k+1)-th content chunk: k chunks of the answer and
// what came between them; up to the last content chunk when there are fewer.
std::vector<SseEvent> first_chunks(std::vector<SseEvent> events, int k);

// The request a client made, as the server would have read it.
Turn turn_of(const ViewContext&);
// Ok with the texts a client reads from the answer to this request.
ClientView answered(const ViewContext&, const Reply&);
// How a client sees a tool call on an endpoint that cannot carry one.
ClientView unsupported_tool_call();

std::string_view error_type(int status, const std::optional<std::string>& code);
std::string error_body(std::string_view message, std::string_view type,
                       const std::optional<std::string>& code,
                       const std::optional<std::string>& param = std::nullopt);
std::string models();
std::string_view malformed_body();

// fixtures/openai/NAME, parsed once per thread; valid while the thread lives.
const ojson& fixture(std::string_view name);
// Client bytes (keys, tokens, text) need not be UTF-8: invalid bytes become U+FFFD.
std::string dump(const ojson&);

}  // namespace xph::mock::openai
