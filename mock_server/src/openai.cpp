#include "openai.hpp"

#include <map>

#include "endpoints.hpp"

namespace xph::fixtures {
std::string_view get(std::string_view name);
}

namespace xph::mock::openai {

const ojson& fixture(std::string_view name) {
  // Parsed once per thread on first use, then only copied from: no lock on
  // the path of every answer (server threads live as long as connections).
  thread_local std::map<std::string, ojson, std::less<>> parsed;
  auto it = parsed.find(name);
  if (it == parsed.end()) it = parsed.emplace(std::string(name), ojson::parse(fixtures::get(name))).first;
  return it->second;  // std::map never moves its nodes
}

std::string dump(const ojson& j) { return j.dump(-1, ' ', false, ojson::error_handler_t::replace); }

Reply reply_of(const Step& step, const Turn& turn) { return {turn.n, false, step.text}; }

std::string choice_text(const Turn& turn, const Reply& reply, int i) {
  if (reply.text) return *reply.text;
  return "xph:" + turn.key + ":r" + std::to_string(turn.k) + ":c" + std::to_string(i);
}

std::vector<std::string> pieces(std::string_view text) {
  std::vector<std::string> out(1);
  for (const char c : text) {
    if (c == ':' && !out.back().empty()) out.emplace_back();
    out.back() += c;
    if (c == ' ') out.emplace_back();
  }
  if (out.size() > 1 && out.back().empty()) out.pop_back();
  return out;
}

int tokens_of(std::string_view text) { return static_cast<int>(text.size() + 3) / 4; }

std::string tool_name(const Turn& turn) { return turn.tool.value_or("xph_tool"); }

std::string call_id(const Turn& turn, int i) { return "call_" + turn.id + "_" + std::to_string(i); }

std::string answer(const Turn& turn, const Reply& reply) { return endpoint_row(turn.endpoint).body(turn, reply); }

std::vector<SseEvent> answer_events(const Turn& turn, const Reply& reply) {
  return endpoint_row(turn.endpoint).events(turn, reply);
}

std::vector<SseEvent> error_events(const Turn& turn, std::size_t sequence, std::string_view message) {
  return endpoint_row(turn.endpoint).error_events(turn, sequence, message);
}

std::vector<SseEvent> first_chunks(std::vector<SseEvent> events, int k) {
  std::size_t cut = 0;
  int seen = 0;
  for (std::size_t i = 0; i < events.size(); ++i) {
    if (!events[i].content) continue;
    if (seen == k) {
      cut = i;
      break;
    }
    ++seen;
    cut = i + 1;
  }
  events.resize(cut);
  return events;
}

Turn turn_of(const ViewContext& ctx) {
  const EndpointRow& row = endpoint_row(ctx.endpoint);
  Turn turn;
  turn.key = ctx.key;
  turn.k = ctx.k;
  turn.endpoint = ctx.endpoint;
  turn.n = row.one_answer ? 1 : ctx.n;
  turn.stream = row.streams && ctx.stream;
  return turn;
}

ClientView answered(const ViewContext& ctx, const Reply& reply) {
  if (reply.tool_call && !endpoint_row(ctx.endpoint).tools) return unsupported_tool_call();
  const Turn turn = turn_of(ctx);
  ClientView view;
  for (int i = 0; i < reply.choices; ++i)
    view.outputs.push_back(reply.tool_call ? std::nullopt : std::optional(choice_text(turn, reply, i)));
  return view;
}

ClientView unsupported_tool_call() { return {Seen::Http, 400, "unsupported_step"}; }

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
  ojson body = fixture("error.json");
  auto& e = body["error"];
  e["message"] = message;
  e["type"] = type;
  e["code"] = code ? ojson(*code) : ojson(nullptr);
  e["param"] = param ? ojson(*param) : ojson(nullptr);
  return dump(body);
}

std::string models() { return dump(fixture("models.json")); }

std::string_view malformed_body() { return fixtures::get("malformed.txt"); }

}  // namespace xph::mock::openai
