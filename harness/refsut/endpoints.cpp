#include "endpoints.hpp"

namespace xph::refsut {
namespace {

using nlohmann::json;

// A text field of a choice or item: a string, or null (a tool call says nothing).
std::optional<std::optional<std::string>> text_at(const json& holder, const char* field) {
  if (!holder.is_object() || !holder.contains(field)) return std::nullopt;
  const json& t = holder[field];
  if (t.is_null()) return std::optional<std::string>();
  if (!t.is_string()) return std::nullopt;
  return std::optional<std::string>(t.get<std::string>());
}

std::optional<Texts> choices(const json& body, bool chat) {
  if (!body.is_object() || !body.contains("choices") || !body["choices"].is_array()) return std::nullopt;
  Texts out;
  for (const auto& c : body["choices"]) {
    const auto t = chat ? (c.is_object() && c.contains("message") ? text_at(c["message"], "content") : std::nullopt)
                        : text_at(c, "text");
    if (!t) return std::nullopt;
    out.push_back(*t);
  }
  return out;
}

// The mock encodes each embedding's label as its character codes.
std::optional<Texts> embeddings(const json& body) {
  if (!body.is_object() || !body.contains("data") || !body["data"].is_array()) return std::nullopt;
  Texts out;
  for (const auto& d : body["data"]) {
    if (!d.is_object() || !d.contains("embedding") || !d["embedding"].is_array()) return std::nullopt;
    std::string label;
    for (const auto& v : d["embedding"])
      if (v.is_number() && v.get<double>() > 0) label += static_cast<char>(v.get<double>());
    out.push_back(label);
  }
  return out;
}

// A response's output items: a message's output_text, or null for a function call.
std::optional<Texts> responses(const json& body) {
  if (!body.is_object() || !body.contains("output") || !body["output"].is_array()) return std::nullopt;
  Texts out;
  for (const auto& item : body["output"]) {
    if (item.value("type", "") == "function_call") {
      out.emplace_back();
      continue;
    }
    if (item.value("type", "") != "message" || !item.contains("content")) return std::nullopt;
    std::string text;
    for (const auto& part : item["content"])
      if (part.value("type", "") == "output_text" && part.contains("text") && part["text"].is_string())
        text += part["text"].get<std::string>();
    out.push_back(text);
  }
  return out;
}

}  // namespace

Request request_for(const std::string& endpoint, const std::string& model, const std::string& prompt, int n) {
  if (endpoint == "completions") return {"/completions", {{"model", model}, {"n", n}, {"prompt", prompt}}};
  if (endpoint == "embeddings")
    return {"/embeddings", {{"model", model}, {"input", std::vector<std::string>(static_cast<std::size_t>(n), prompt)},
                            {"encoding_format", "float"}}};
  if (endpoint == "responses") return {"/responses", {{"model", model}, {"input", prompt}}};
  return {"/chat/completions",
          {{"model", model}, {"n", n}, {"messages", json::array({{{"role", "user"}, {"content", prompt}}})}}};
}

std::optional<Texts> outputs_of(const std::string& endpoint, const json& body) {
  if (endpoint == "embeddings") return embeddings(body);
  if (endpoint == "responses") return responses(body);
  return choices(body, endpoint != "completions");
}

}  // namespace xph::refsut
