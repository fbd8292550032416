#include "endpoints.hpp"

#include <stdexcept>

namespace xph::mock {
namespace {

using nlohmann::json;

constexpr int kMaxN = 128;

constexpr EndpointRow kEndpoints[] = {
    {Endpoint::Chat, "chat", "/v1/chat/completions", true, true, false, validate_chat, read_chat, chat_body,
     chat_events, chat_error_events},
    {Endpoint::Completions, "completions", "/v1/completions", true, false, false, validate_completions,
     read_completions, completions_body, completions_events, chat_error_events},
    {Endpoint::Embeddings, "embeddings", "/v1/embeddings", false, false, false, validate_embeddings,
     read_embeddings, embeddings_body, nullptr, nullptr},
    {Endpoint::Responses, "responses", "/v1/responses", true, true, true, validate_responses, read_responses,
     responses_body, responses_events, responses_error_events},
};

// Not checked here: that a row which streams has events (GCC under
// -fsanitize=undefined cannot fold `f != nullptr` at compile time). A row
// without them fails its endpoint's streaming tests in ctest/mock_server.
consteval bool rows_in_enum_order() {
  for (std::size_t i = 0; i < std::size(kEndpoints); ++i)
    if (kEndpoints[i].endpoint != static_cast<Endpoint>(i)) return false;
  return true;
}
static_assert(rows_in_enum_order(), "kEndpoints: row i is Endpoint(i)");

}  // namespace

std::span<const EndpointRow> endpoints() { return kEndpoints; }

const EndpointRow& endpoint_row(Endpoint e) {
  const auto i = static_cast<std::size_t>(e);
  if (i >= std::size(kEndpoints)) throw std::logic_error("endpoint missing from kEndpoints");
  return kEndpoints[i];
}

std::string_view name(Endpoint e) { return endpoint_row(e).name; }
std::string_view path(Endpoint e) { return endpoint_row(e).path; }

std::optional<Endpoint> endpoint_from_name(std::string_view word) {
  for (const auto& row : kEndpoints)
    if (row.name == word) return row.endpoint;
  return std::nullopt;
}

std::optional<Endpoint> endpoint_from_path(std::string_view p) {
  for (const auto& row : kEndpoints)
    if (row.path == p) return row.endpoint;
  return std::nullopt;
}

std::optional<BadRequest> validate(const json& body, const EndpointRow& row) {
  if (body.is_discarded() || !body.is_object())
    return BadRequest{"We could not parse the JSON body of your request. The OpenAI API expects a JSON object.", {}};
  if (!body.contains("model") || !body["model"].is_string())
    return BadRequest{"you must provide a model parameter", "model"};
  return row.validate(body);
}

std::optional<BadRequest> check_n(const json& body) {
  if (body.contains("n") && !body["n"].is_null() &&
      (!body["n"].is_number_integer() || body["n"].get<long>() < 1 || body["n"].get<long>() > kMaxN))
    return BadRequest{"n must be an integer from 1 to " + std::to_string(kMaxN), "n"};
  return std::nullopt;
}

std::optional<BadRequest> check_stream(const json& body) {
  if (body.contains("stream") && !body["stream"].is_null() && !body["stream"].is_boolean())
    return BadRequest{"stream must be a boolean", "stream"};
  return std::nullopt;
}

std::string text_of(const json& content) {
  if (content.is_string()) return content.get<std::string>();
  std::string out;
  if (content.is_array())
    for (const auto& part : content)
      if (part.is_object() && part.contains("text") && part["text"].is_string()) out += part["text"].get<std::string>();
  return out;
}

std::string last_user_text(const json& messages) {
  for (auto it = messages.rbegin(); it != messages.rend(); ++it)
    if (it->is_object() && it->contains("role") && it->at("role") == "user")
      return text_of(it->contains("content") ? it->at("content") : json());
  return {};
}

std::optional<std::string> string_at(const json& j, std::initializer_list<std::string_view> path) {
  const json* at = &j;
  for (const std::string_view step : path) {
    if (step == "0" && at->is_array() && !at->empty())
      at = &at->front();
    else if (at->is_object() && at->contains(std::string(step)))
      at = &at->at(std::string(step));
    else
      return std::nullopt;
  }
  return at->is_string() ? std::optional(at->get<std::string>()) : std::nullopt;
}

bool stream_asked(const json& body) { return body.contains("stream") && body["stream"] == true; }

}  // namespace xph::mock
