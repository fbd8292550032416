// POST /v1/completions (legacy): `prompt` in, `choices[].text` out; a
// streamed answer is `text_completion` chunks ending `data: [DONE]`.
#include "../endpoints.hpp"

namespace xph::mock {

using openai::ojson;
using openai::Reply;

std::optional<BadRequest> validate_completions(const nlohmann::json& body) {
  if (!body.contains("prompt") || !(body["prompt"].is_string() || body["prompt"].is_array()))
    return BadRequest{"'prompt' is a required property and must be a string or an array", "prompt"};
  if (auto bad = check_n(body)) return bad;
  return check_stream(body);
}

// The key is in the prompt (the last one of a list).
std::string read_completions(const nlohmann::json& body, Turn& turn) {
  turn.n = body.contains("n") && !body["n"].is_null() ? body["n"].get<int>() : 1;
  turn.stream = stream_asked(body);
  const auto& prompt = body["prompt"];
  return prompt.is_array() && !prompt.empty() ? text_of(prompt.back()) : text_of(prompt);
}

std::string completions_body(const Turn& turn, const Reply& reply) {
  ojson body = openai::fixture("text_completion.json");
  body["id"] = "cmpl-" + turn.id;
  body["created"] = turn.created;
  body["model"] = turn.model;
  int completion_tokens = 0;
  for (int i = 0; i < reply.choices; ++i) {
    ojson choice = openai::fixture("text_completion.choice.json");
    choice["index"] = i;
    std::string text = openai::choice_text(turn, reply, i);
    completion_tokens += openai::tokens_of(text);
    choice["text"] = std::move(text);
    body["choices"].push_back(std::move(choice));
  }
  const int prompt_tokens = 8 + openai::tokens_of(turn.key);
  body["usage"] = {{"prompt_tokens", prompt_tokens},
                   {"completion_tokens", completion_tokens},
                   {"total_tokens", prompt_tokens + completion_tokens}};
  return openai::dump(body);
}

std::vector<SseEvent> completions_events(const Turn& turn, const Reply& reply) {
  ojson chunk = openai::fixture("text_completion.chunk.json");
  chunk["id"] = "cmpl-" + turn.id;
  chunk["created"] = turn.created;
  chunk["model"] = turn.model;
  const ojson choice_template = chunk["choices"].at(0);
  std::vector<SseEvent> events;
  auto emit = [&](int i, std::string text, ojson finish, bool content) {
    ojson choice = choice_template;
    choice["index"] = i;
    choice["text"] = std::move(text);
    choice["finish_reason"] = std::move(finish);
    ojson c = chunk;
    c["choices"] = ojson::array({std::move(choice)});
    events.push_back({"", openai::dump(c), content});
  };
  for (int i = 0; i < reply.choices; ++i) {
    for (auto& piece : openai::pieces(openai::choice_text(turn, reply, i))) emit(i, std::move(piece), nullptr, true);
    emit(i, "", "stop", false);
  }
  if (reply.choices == 0) {
    ojson c = chunk;
    c["choices"] = ojson::array();
    events.push_back({"", openai::dump(c)});
  }
  events.push_back({"", "[DONE]"});
  return events;
}

}  // namespace xph::mock
