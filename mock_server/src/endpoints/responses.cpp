// POST /v1/responses (the Responses API): `input` in, one `response` object
// out whose `output` holds a message (or a function call). A streamed answer
// is named events (`event: response.created` ... `response.completed`), each
// `data:` a JSON event with `type` and `sequence_number`; no `[DONE]`.
#include "../endpoints.hpp"

namespace xph::mock {
namespace {

using nlohmann::json;
using openai::ojson;
using openai::Reply;

ojson response_object(const Turn& turn, std::string_view status) {
  ojson r = openai::fixture("response.json");
  r["id"] = "resp_" + turn.id;
  r["created_at"] = turn.created;
  r["status"] = status;
  r["model"] = turn.model;
  return r;
}

// The one output item, as it is when done (or just begun: no text yet).
ojson output_item(const Turn& turn, const Reply& reply, bool done) {
  ojson item;
  if (reply.tool_call) {
    item = openai::fixture("response.function_call.json");
    item["id"] = "fc_" + turn.id;
    item["call_id"] = openai::call_id(turn, 0);
    item["name"] = openai::tool_name(turn);
    item["arguments"] = done ? "{}" : "";
  } else {
    item = openai::fixture("response.message.json");
    item["id"] = "msg_" + turn.id;
    if (done) item["content"][0]["text"] = openai::choice_text(turn, reply, 0);
    else item["content"] = ojson::array();
  }
  item["status"] = done ? "completed" : "in_progress";
  return item;
}

ojson completed(const Turn& turn, const Reply& reply) {
  ojson r = response_object(turn, "completed");
  int output_tokens = 0;
  if (reply.choices > 0) {
    r["output"].push_back(output_item(turn, reply, true));
    output_tokens = reply.tool_call ? 4 : openai::tokens_of(openai::choice_text(turn, reply, 0));
  }
  const int input_tokens = 8 + openai::tokens_of(turn.key);
  r["usage"]["input_tokens"] = input_tokens;
  r["usage"]["output_tokens"] = output_tokens;
  r["usage"]["total_tokens"] = input_tokens + output_tokens;
  return r;
}

class Events {
 public:
  explicit Events(std::size_t first_sequence = 0) : seq_(first_sequence) {}
  void emit(const std::string& type, const ojson& fields, bool content = false) {
    ojson e = {{"type", type}, {"sequence_number", seq_++}};
    e.update(fields);
    events_.push_back({type, openai::dump(e), content});
  }
  std::vector<SseEvent> take() { return std::move(events_); }

 private:
  std::size_t seq_;
  std::vector<SseEvent> events_;
};

void message_events(Events& out, const Turn& turn, const Reply& reply) {
  const std::string item_id = "msg_" + turn.id;
  const ojson at = {{"item_id", item_id}, {"output_index", 0}, {"content_index", 0}};
  const std::string text = openai::choice_text(turn, reply, 0);
  ojson part = openai::fixture("response.message.json")["content"][0];
  ojson added = at;
  added["part"] = part;
  out.emit("response.content_part.added", added);
  for (const auto& piece : openai::pieces(text)) {
    ojson delta = at;
    delta.update(ojson{{"delta", piece}, {"logprobs", ojson::array()}});
    out.emit("response.output_text.delta", delta, true);
  }
  ojson done = at;
  done.update(ojson{{"text", text}, {"logprobs", ojson::array()}});
  out.emit("response.output_text.done", done);
  part["text"] = text;
  ojson part_done = at;
  part_done["part"] = part;
  out.emit("response.content_part.done", part_done);
}

void function_call_events(Events& out, const Turn& turn) {
  const ojson at = {{"item_id", "fc_" + turn.id}, {"output_index", 0}};
  ojson delta = at;
  delta["delta"] = "{}";
  out.emit("response.function_call_arguments.delta", delta, true);
  ojson done = at;
  done["name"] = openai::tool_name(turn);
  done["arguments"] = "{}";
  out.emit("response.function_call_arguments.done", done);
}

}  // namespace

std::optional<BadRequest> validate_responses(const json& body) {
  if (!body.contains("input") || !(body["input"].is_string() || body["input"].is_array()))
    return BadRequest{"'input' is a required property and must be a string or an array of input items", "input"};
  return check_stream(body);
}

// The key is in the last user text: the input string, or the last item with
// role "user" (its content a string or input_text parts).
std::string read_responses(const json& body, Turn& turn) {
  turn.n = 1;
  turn.stream = stream_asked(body);
  turn.tool = string_at(body, {"tools", "0", "name"});
  const auto& input = body["input"];
  return input.is_string() ? input.get<std::string>() : last_user_text(input);
}

std::string responses_body(const Turn& turn, const Reply& reply) { return openai::dump(completed(turn, reply)); }

std::vector<SseEvent> responses_events(const Turn& turn, const Reply& reply) {
  Events out;
  const ojson begun = response_object(turn, "in_progress");
  out.emit("response.created", {{"response", begun}});
  out.emit("response.in_progress", {{"response", begun}});
  if (reply.choices > 0) {
    out.emit("response.output_item.added", {{"output_index", 0}, {"item", output_item(turn, reply, false)}});
    if (reply.tool_call)
      function_call_events(out, turn);
    else
      message_events(out, turn, reply);
    out.emit("response.output_item.done", {{"output_index", 0}, {"item", output_item(turn, reply, true)}});
  }
  out.emit("response.completed", {{"response", completed(turn, reply)}});
  return out.take();
}

// `error` (what the API reference names for a failure mid-stream), then the
// response's own end, `response.failed`.
std::vector<SseEvent> responses_error_events(const Turn& turn, std::size_t sequence, std::string_view message) {
  Events out(sequence);
  out.emit("error", {{"code", "server_error"}, {"message", message}, {"param", nullptr}});
  ojson failed = response_object(turn, "failed");
  failed["error"] = {{"code", "server_error"}, {"message", message}};
  out.emit("response.failed", {{"response", failed}});
  return out.take();
}

}  // namespace xph::mock
