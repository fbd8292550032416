// POST /v1/embeddings: one embedding per input. Embedding i of request k for
// KEY is the label `xph:KEY:r<k>:c<i>` as its characters' code points, so a
// client decodes it exactly: ''.join(map(chr, map(int, v))). With
// `encoding_format: "base64"` (the SDKs' default) the same floats go as
// little-endian float32, base64-encoded.
#include <bit>
#include <cstdint>
#include <cstring>

#include "../endpoints.hpp"

namespace xph::mock {
namespace {

using nlohmann::json;
using openai::ojson;

constexpr std::size_t kMaxInputs = 2048;

bool all_of(const json& a, bool (json::*is)() const noexcept) {
  for (const auto& v : a)
    if (!(v.*is)()) return false;
  return true;
}

bool token_array(const json& a) { return a.is_array() && !a.empty() && all_of(a, &json::is_number_integer); }

bool all_token_arrays(const json& a) {
  for (const auto& v : a)
    if (!token_array(v)) return false;
  return true;
}

// UTF-8 to code points; a byte that starts no valid sequence is U+FFFD.
std::vector<std::uint32_t> code_points(std::string_view s) {
  std::vector<std::uint32_t> out;
  for (std::size_t i = 0; i < s.size();) {
    const auto b = static_cast<unsigned char>(s[i]);
    const int len = b < 0x80 ? 1 : (b >> 5) == 0x6 ? 2 : (b >> 4) == 0xE ? 3 : (b >> 3) == 0x1E ? 4 : 0;
    std::uint32_t cp = len == 1 ? b : len == 2 ? (b & 0x1Fu) : len == 3 ? (b & 0x0Fu) : (b & 0x07u);
    bool ok = len > 0 && i + static_cast<std::size_t>(len) <= s.size();
    for (int j = 1; ok && j < len; ++j) {
      const auto c = static_cast<unsigned char>(s[i + static_cast<std::size_t>(j)]);
      ok = (c >> 6) == 0x2;
      cp = (cp << 6) | (c & 0x3Fu);
    }
    ok = ok && cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF) &&
         !(len == 2 && cp < 0x80) && !(len == 3 && cp < 0x800) && !(len == 4 && cp < 0x10000);
    out.push_back(ok ? cp : 0xFFFD);
    i += ok ? static_cast<std::size_t>(len) : 1;
  }
  return out;
}

std::string base64(const std::string& bytes) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (std::size_t i = 0; i < bytes.size(); i += 3) {
    std::uint32_t v = static_cast<unsigned char>(bytes[i]) << 16;
    if (i + 1 < bytes.size()) v |= static_cast<unsigned char>(bytes[i + 1]) << 8;
    if (i + 2 < bytes.size()) v |= static_cast<unsigned char>(bytes[i + 2]);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += i + 1 < bytes.size() ? kAlphabet[(v >> 6) & 63] : '=';
    out += i + 2 < bytes.size() ? kAlphabet[v & 63] : '=';
  }
  return out;
}

ojson embedding_of(const std::string& text, bool as_base64) {
  const auto cps = code_points(text);
  if (!as_base64) {
    ojson v = ojson::array();
    for (const auto cp : cps) v.push_back(static_cast<double>(static_cast<float>(cp)));
    return v;
  }
  static_assert(std::endian::native == std::endian::little, "float32 bytes are sent little-endian");
  std::string bytes(cps.size() * 4, '\0');
  for (std::size_t i = 0; i < cps.size(); ++i) {
    const float f = static_cast<float>(cps[i]);
    std::memcpy(bytes.data() + i * 4, &f, 4);
  }
  return base64(bytes);
}

}  // namespace

std::optional<BadRequest> validate_embeddings(const json& body) {
  const json input = body.value("input", json());
  const bool shaped = input.is_string() ||
                      (input.is_array() && (all_of(input, &json::is_string) || token_array(input) ||
                                            all_token_arrays(input)));
  if (!shaped)
    return BadRequest{"'input' is a required property and must be a string, an array of strings or an array "
                      "of token arrays", "input"};
  if ((input.is_string() && input.get<std::string>().empty()) || (input.is_array() && input.empty()))
    return BadRequest{"'input' cannot be an empty string or array", "input"};
  if (input.is_array() && input.size() > kMaxInputs)
    return BadRequest{"'input' must have at most " + std::to_string(kMaxInputs) + " items", "input"};
  const json format = body.value("encoding_format", json());
  if (!format.is_null() && format != "float" && format != "base64")
    return BadRequest{"'encoding_format' must be 'float' or 'base64'", "encoding_format"};
  return std::nullopt;
}

// The key is in the last input string; token arrays carry none.
std::string read_embeddings(const json& body, Turn& turn) {
  const json& input = body["input"];
  turn.base64 = body.value("encoding_format", json()) == "base64";
  turn.stream = false;
  if (input.is_string()) {
    turn.n = 1;
    return input.get<std::string>();
  }
  turn.n = token_array(input) ? 1 : static_cast<int>(input.size());
  return input.back().is_string() ? input.back().get<std::string>() : std::string();
}

std::string embeddings_body(const Turn& turn, const openai::Reply& reply) {
  ojson body = openai::fixture("embedding.list.json");
  for (int i = 0; i < reply.choices; ++i) {
    ojson item = openai::fixture("embedding.json");
    item["index"] = i;
    item["embedding"] = embedding_of(openai::choice_text(turn, reply, i), turn.base64);
    body["data"].push_back(std::move(item));
  }
  body["model"] = turn.model;
  const int prompt_tokens = 8 + openai::tokens_of(turn.key);
  body["usage"] = {{"prompt_tokens", prompt_tokens}, {"total_tokens", prompt_tokens}};
  return openai::dump(body);
}

}  // namespace xph::mock
