// What xph-refsut says to each OpenAI endpoint, and how it reads a success
// back: the one place that knows the endpoints' shapes.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace xph::refsut {

// One output per generation; null for one with no text (a tool call).
using Texts = std::vector<std::optional<std::string>>;

struct Request {
  std::string path;  // under the base URL: "/chat/completions"
  nlohmann::json body;
};

// The request for PROMPT asking N outputs. Embeddings: N copies of the
// prompt as inputs; responses: one output whatever N (the API has no n).
Request request_for(const std::string& endpoint, const std::string& model, const std::string& prompt, int n);

// The outputs of a 2xx body, or nullopt when the body is not what this
// endpoint sends (a decode error).
std::optional<Texts> outputs_of(const std::string& endpoint, const nlohmann::json& body);

}  // namespace xph::refsut
