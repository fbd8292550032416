// The one table of scripted endpoints: path, what OpenAI refuses, where the
// attempt key is, and the shapes of an answer. The server, the steps and the
// client view all read it (docs/adding-an-endpoint.md).
#pragma once

#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "exchange.hpp"
#include "openai.hpp"

namespace xph::mock {

struct BadRequest {
  std::string message;
  std::optional<std::string> param;
};

struct EndpointRow {
  Endpoint endpoint;
  std::string_view name;  // as scenarios say it
  std::string_view path;
  bool streams;     // honours "stream": true
  bool tools;       // can answer with a tool call
  bool one_answer;  // one output per request whatever `n` says
  // What OpenAI refuses beyond a body that is not an object with a string
  // `model` (checked for every endpoint first).
  std::optional<BadRequest> (*validate)(const nlohmann::json& body);
  // Reads n, stream, tool, encoding into the turn; returns the text that may
  // carry `[xph:KEY]`.
  std::string (*read)(const nlohmann::json& body, Turn&);
  std::string (*body)(const Turn&, const openai::Reply&);
  std::vector<SseEvent> (*events)(const Turn&, const openai::Reply&);  // null unless streams
  std::vector<SseEvent> (*error_events)(const Turn&, std::size_t sequence, std::string_view message);
};

std::span<const EndpointRow> endpoints();
const EndpointRow& endpoint_row(Endpoint);
// Every check OpenAI makes before a model runs, for this endpoint.
std::optional<BadRequest> validate(const nlohmann::json& body, const EndpointRow&);

// Checks several endpoints share.
std::optional<BadRequest> check_n(const nlohmann::json& body);
std::optional<BadRequest> check_stream(const nlohmann::json& body);
// A message's content: a string, or the concatenated `text` of its parts.
std::string text_of(const nlohmann::json& content);
// The content of the last message (or input item) with role "user".
std::string last_user_text(const nlohmann::json& messages);
bool stream_asked(const nlohmann::json& body);  // "stream": true
// The string at PATH (object keys; "0": an array's first element), if any.
std::optional<std::string> string_at(const nlohmann::json&, std::initializer_list<std::string_view> path);

// One declaration per file in endpoints/.
std::optional<BadRequest> validate_chat(const nlohmann::json&);
std::string read_chat(const nlohmann::json&, Turn&);
std::string chat_body(const Turn&, const openai::Reply&);
std::vector<SseEvent> chat_events(const Turn&, const openai::Reply&);
std::vector<SseEvent> chat_error_events(const Turn&, std::size_t, std::string_view);

std::optional<BadRequest> validate_completions(const nlohmann::json&);
std::string read_completions(const nlohmann::json&, Turn&);
std::string completions_body(const Turn&, const openai::Reply&);
std::vector<SseEvent> completions_events(const Turn&, const openai::Reply&);

std::optional<BadRequest> validate_embeddings(const nlohmann::json&);
std::string read_embeddings(const nlohmann::json&, Turn&);
std::string embeddings_body(const Turn&, const openai::Reply&);

std::optional<BadRequest> validate_responses(const nlohmann::json&);
std::string read_responses(const nlohmann::json&, Turn&);
std::string responses_body(const Turn&, const openai::Reply&);
std::vector<SseEvent> responses_events(const Turn&, const openai::Reply&);
std::vector<SseEvent> responses_error_events(const Turn&, std::size_t, std::string_view);

}  // namespace xph::mock
