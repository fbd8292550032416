#include "xph/mock/journal.hpp"

#include <nlohmann/json.hpp>

namespace xph::mock {
namespace {

template <class T>
nlohmann::json opt(const std::optional<T>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

template <class T>
void get_opt(const nlohmann::json& j, const char* field, std::optional<T>& out) {
  const auto& v = j.at(field);
  if (v.is_null())
    out.reset();
  else
    out = v.get<T>();
}

}  // namespace

void to_json(nlohmann::json& j, const JournalEntry& e) {
  j = {{"seq", e.seq},   {"t_ms", e.t_ms},       {"tenant", e.tenant},         {"key", opt(e.key)},
       {"k", opt(e.k)},  {"method", e.method},   {"path", e.path},             {"model", opt(e.model)},
       {"n", e.n},       {"stream", e.stream},   {"status", opt(e.status)},    {"fault", opt(e.fault)},
       {"request_id", e.request_id},             {"duration_ms", e.duration_ms}, {"body", e.body},
       {"headers", e.headers}};
  j["step"] = e.step ? nlohmann::json(to_string(*e.step)) : nlohmann::json(nullptr);
}

void from_json(const nlohmann::json& j, JournalEntry& e) {
  j.at("seq").get_to(e.seq);
  j.at("t_ms").get_to(e.t_ms);
  j.at("tenant").get_to(e.tenant);
  get_opt(j, "key", e.key);
  get_opt(j, "k", e.k);
  j.at("method").get_to(e.method);
  j.at("path").get_to(e.path);
  get_opt(j, "model", e.model);
  j.at("n").get_to(e.n);
  j.at("stream").get_to(e.stream);
  std::optional<std::string> step;
  get_opt(j, "step", step);
  e.step = step ? std::optional<Step>(parse_step(*step)) : std::nullopt;
  get_opt(j, "status", e.status);
  get_opt(j, "fault", e.fault);
  j.at("request_id").get_to(e.request_id);
  j.at("duration_ms").get_to(e.duration_ms);
  e.body = j.value("body", std::string());
  e.headers = j.value("headers", std::map<std::string, std::string>());
}

}  // namespace xph::mock
