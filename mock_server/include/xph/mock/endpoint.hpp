// The OpenAI endpoints the mock scripts per attempt. Each is one row of the
// table in src/endpoints.cpp (see docs/adding-an-endpoint.md).
#pragma once

#include <optional>
#include <string_view>

namespace xph::mock {

enum class Endpoint { Chat, Completions, Embeddings, Responses };

std::string_view name(Endpoint);  // "chat", "completions", "embeddings", "responses"
std::string_view path(Endpoint);  // "/v1/chat/completions", ...
std::optional<Endpoint> endpoint_from_name(std::string_view);
std::optional<Endpoint> endpoint_from_path(std::string_view);

}  // namespace xph::mock
