#include "openai.hpp"

#include <nlohmann/json.hpp>

namespace xph::fixtures {
std::string_view get(std::string_view name);
}

namespace xph::mock::openai {
namespace {

using json = nlohmann::ordered_json;  // keeps the fixtures' field order
// Every dump here uses error_handler_t::replace: keys, tokens and paths come
// from clients and need not be UTF-8.

// Parsed once; every answer copies from here.
struct Templates {
  json chat = json::parse(fixtures::get("chat.completion.json"));
  json chat_choice = json::parse(fixtures::get("chat.completion.choice.json"));
  json chat_chunk = json::parse(fixtures::get("chat.completion.chunk.json"));
  json text = json::parse(fixtures::get("text_completion.json"));
  json text_choice = json::parse(fixtures::get("text_completion.choice.json"));
  json text_chunk = json::parse(fixtures::get("text_completion.chunk.json"));
  json error = json::parse(fixtures::get("error.json"));
  std::string models = json::parse(fixtures::get("models.json")).dump();
};

const Templates& templates() {
  static const Templates t;
  return t;
}

// Rough, stable token counts: the mock is not a tokenizer.
int tokens_of(std::string_view text) { return static_cast<int>(text.size() + 3) / 4; }

}  // namespace

std::string choice_text(const Turn& turn, int i) {
  return "xph:" + turn.key + ":r" + std::to_string(turn.k) + ":c" + std::to_string(i);
}

std::string completion(const Turn& turn, int choices) {
  const auto& t = templates();
  const bool chat = turn.endpoint == Endpoint::Chat;
  json body = chat ? t.chat : t.text;
  body["model"] = turn.model;
  body["id"] = body["id"].get<std::string>() + "-" + std::to_string(turn.k);
  auto& list = body["choices"];
  int completion_tokens = 0;
  for (int i = 0; i < choices; ++i) {
    json choice = chat ? t.chat_choice : t.text_choice;
    choice["index"] = i;
    std::string text = choice_text(turn, i);
    completion_tokens += tokens_of(text);
    if (chat)
      choice["message"]["content"] = std::move(text);
    else
      choice["text"] = std::move(text);
    list.push_back(std::move(choice));
  }
  const int prompt_tokens = 8 + tokens_of(turn.key);
  body["usage"] = {{"prompt_tokens", prompt_tokens},
                   {"completion_tokens", completion_tokens},
                   {"total_tokens", prompt_tokens + completion_tokens}};
  return body.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::vector<std::string> completion_events(const Turn& turn, int choices) {
  const auto& t = templates();
  const bool chat = turn.endpoint == Endpoint::Chat;
  json chunk = chat ? t.chat_chunk : t.text_chunk;
  chunk["model"] = turn.model;
  chunk["id"] = chunk["id"].get<std::string>() + "-" + std::to_string(turn.k);
  const json choice_template = chunk["choices"].at(0);
  std::vector<std::string> events;
  auto emit = [&](int i, const json& delta_or_text, const json& finish) {
    json c = chunk;
    json choice = choice_template;
    choice["index"] = i;
    if (chat)
      choice["delta"] = delta_or_text;
    else
      choice["text"] = delta_or_text;
    choice["finish_reason"] = finish;
    c["choices"] = json::array({choice});
    events.push_back(c.dump(-1, ' ', false, json::error_handler_t::replace));
  };
  for (int i = 0; i < choices; ++i) {
    if (chat) emit(i, {{"role", "assistant"}, {"content", ""}}, nullptr);
    emit(i, chat ? json{{"content", choice_text(turn, i)}} : json(choice_text(turn, i)), nullptr);
    emit(i, chat ? json::object() : json(""), "stop");
  }
  if (choices == 0) {
    json c = chunk;
    c["choices"] = json::array();
    events.push_back(c.dump(-1, ' ', false, json::error_handler_t::replace));
  }
  return events;
}

std::string_view error_type(int status, const std::optional<std::string>& code) {
  switch (status) {
    case 403: return "permission_error";
    case 409: return "conflict_error";
    case 429: return code == "insufficient_quota" ? "insufficient_quota" : "requests";
    default: return status >= 500 ? "server_error" : "invalid_request_error";
  }
}

std::string error_body(std::string_view message, std::string_view type, const std::optional<std::string>& code,
                       const std::optional<std::string>& param) {
  json body = templates().error;
  auto& e = body["error"];
  e["message"] = message;
  e["type"] = type;
  e["code"] = code ? json(*code) : json(nullptr);
  e["param"] = param ? json(*param) : json(nullptr);
  return body.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string models() { return templates().models; }

std::string_view malformed_body() { return fixtures::get("malformed.txt"); }

}  // namespace xph::mock::openai
