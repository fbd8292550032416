// POST /v1/chat/completions: `messages` in, `choices[].message` out; a
// streamed answer is `chat.completion.chunk` deltas ending `data: [DONE]`.
#include "../endpoints.hpp"

namespace xph::mock {
namespace {

using openai::ojson;
using openai::Reply;

ojson tool_call(const Turn& turn, int i, bool with_index, const std::string& arguments) {
  ojson call = openai::fixture("chat.completion.tool_call.json");
  call["id"] = openai::call_id(turn, i);
  call["function"]["name"] = openai::tool_name(turn);
  call["function"]["arguments"] = arguments;
  if (!with_index) return call;
  ojson indexed = {{"index", 0}};  // a stream's delta says which call it extends
  indexed.update(call);
  return indexed;
}

}  // namespace

std::optional<BadRequest> validate_chat(const nlohmann::json& body) {
  if (!body.contains("messages") || !body["messages"].is_array())
    return BadRequest{"'messages' is a required property and must be an array", "messages"};
  if (auto bad = check_n(body)) return bad;
  return check_stream(body);
}

// The key is in the last user message.
std::string read_chat(const nlohmann::json& body, Turn& turn) {
  turn.n = body.contains("n") && !body["n"].is_null() ? body["n"].get<int>() : 1;
  turn.stream = stream_asked(body);
  turn.tool = string_at(body, {"tools", "0", "function", "name"});
  return last_user_text(body["messages"]);
}

std::string chat_body(const Turn& turn, const Reply& reply) {
  ojson body = openai::fixture("chat.completion.json");
  body["id"] = "chatcmpl-" + turn.id;
  body["created"] = turn.created;
  body["model"] = turn.model;
  int completion_tokens = 0;
  for (int i = 0; i < reply.choices; ++i) {
    ojson choice = openai::fixture("chat.completion.choice.json");
    choice["index"] = i;
    if (reply.tool_call) {
      choice["message"]["content"] = nullptr;
      choice["message"]["tool_calls"] = ojson::array({tool_call(turn, i, false, "{}")});
      choice["finish_reason"] = "tool_calls";
      completion_tokens += 4;
    } else {
      std::string text = openai::choice_text(turn, reply, i);
      completion_tokens += openai::tokens_of(text);
      choice["message"]["content"] = std::move(text);
    }
    body["choices"].push_back(std::move(choice));
  }
  const int prompt_tokens = 8 + openai::tokens_of(turn.key);
  body["usage"] = {{"prompt_tokens", prompt_tokens},
                   {"completion_tokens", completion_tokens},
                   {"total_tokens", prompt_tokens + completion_tokens}};
  return openai::dump(body);
}

std::vector<SseEvent> chat_events(const Turn& turn, const Reply& reply) {
  ojson chunk = openai::fixture("chat.completion.chunk.json");
  chunk["id"] = "chatcmpl-" + turn.id;
  chunk["created"] = turn.created;
  chunk["model"] = turn.model;
  const ojson choice_template = chunk["choices"].at(0);
  std::vector<SseEvent> events;
  auto emit = [&](int i, ojson delta, ojson finish, bool content) {
    ojson choice = choice_template;
    choice["index"] = i;
    choice["delta"] = std::move(delta);
    choice["finish_reason"] = std::move(finish);
    ojson c = chunk;
    c["choices"] = ojson::array({std::move(choice)});
    events.push_back({"", openai::dump(c), content});
  };
  for (int i = 0; i < reply.choices; ++i) {
    if (reply.tool_call) {
      emit(i, {{"role", "assistant"}, {"content", nullptr}, {"tool_calls", ojson::array({tool_call(turn, i, true, "")})}},
           nullptr, false);
      const ojson arguments = {{"index", 0}, {"function", {{"arguments", "{}"}}}};
      emit(i, {{"tool_calls", ojson::array({arguments})}}, nullptr, true);
      emit(i, ojson::object(), "tool_calls", false);
      continue;
    }
    emit(i, {{"role", "assistant"}, {"content", ""}}, nullptr, false);
    for (auto& piece : openai::pieces(openai::choice_text(turn, reply, i))) emit(i, {{"content", piece}}, nullptr, true);
    emit(i, ojson::object(), "stop", false);
  }
  if (reply.choices == 0) {
    ojson c = chunk;
    c["choices"] = ojson::array();
    events.push_back({"", openai::dump(c)});
  }
  events.push_back({"", "[DONE]"});
  return events;
}

// OpenAI's error body as one `data:` event: the SDKs raise APIError on it.
std::vector<SseEvent> chat_error_events(const Turn&, std::size_t, std::string_view message) {
  return {{"", openai::error_body(message, "server_error", "server_error")}};
}

}  // namespace xph::mock
