#include "xph/harness/model/result.hpp"

#include <nlohmann/json.hpp>

namespace xph::harness {
namespace {

using nlohmann::json;

[[noreturn]] void fail(const std::string& pointer, const std::string& what) {
  throw ProtocolError(pointer + ": " + what);
}

const json& field(const json& obj, const char* name, const std::string& pointer) {
  if (!obj.is_object()) fail(pointer, "expected an object");
  if (!obj.contains(name)) fail(pointer + "/" + name, "missing");
  return obj.at(name);
}

std::string str(const json& obj, const char* name, const std::string& pointer) {
  const auto& v = field(obj, name, pointer);
  if (!v.is_string()) fail(pointer + "/" + name, "expected a string, got " + v.dump().substr(0, 40));
  return v.get<std::string>();
}

std::optional<std::string> opt_str(const json& obj, const char* name, const std::string& pointer) {
  if (!obj.contains(name) || obj.at(name).is_null()) return std::nullopt;
  if (!obj.at(name).is_string()) fail(pointer + "/" + name, "expected a string or null");
  return obj.at(name).get<std::string>();
}

struct StageRow {
  Stage stage;
  std::string_view name;
};
constexpr StageRow kStages[] = {
    {Stage::Dispatch, "dispatch"}, {Stage::Result, "result"}, {Stage::Worker, "worker"}, {Stage::Other, "other"}};

std::optional<mock::Seen> error_kind(std::string_view text) {
  for (mock::Seen k : {mock::Seen::Http, mock::Seen::Connection, mock::Seen::Timeout, mock::Seen::Decode})
    if (mock::name(k) == text) return k;
  return std::nullopt;
}

ErrorEnvelope parse_error(const json& e, const std::string& p) {
  ErrorEnvelope env;
  const std::string kind = str(e, "kind", p);
  const auto parsed = error_kind(kind);
  if (!parsed) fail(p + "/kind", "expected http, connection, timeout or decode, got \"" + kind + "\"");
  env.kind = *parsed;
  if (e.contains("status") && !e.at("status").is_null()) {
    if (!e.at("status").is_number_integer()) fail(p + "/status", "expected an integer or null");
    env.status = e.at("status").get<int>();
  }
  env.type = opt_str(e, "type", p);
  env.code = opt_str(e, "code", p);
  env.message = opt_str(e, "message", p);
  env.request_id = opt_str(e, "request_id", p);
  env.exception = opt_str(e, "exception", p);
  return env;
}

json opt(const std::optional<std::string>& v) { return v ? json(*v) : json(nullptr); }

json attempt_json(const AttemptOutcome& o) {
  json j = {{"probe", o.probe}, {"id", o.id}, {"pid", o.pid}, {"outcome", o.ok ? "ok" : "error"}};
  if (o.ok) {
    j["outputs"] = json::array();
    for (const auto& t : o.outputs) j["outputs"].push_back(opt(t));
    return j;
  }
  const auto& e = o.error;
  j["error"] = {{"kind", mock::name(e.kind)}, {"status", e.status ? json(*e.status) : json(nullptr)},
                {"type", opt(e.type)}, {"code", opt(e.code)}, {"message", opt(e.message)},
                {"request_id", opt(e.request_id)}, {"exception", opt(e.exception)}};
  return j;
}

}  // namespace

std::string_view name(Stage s) {
  for (const auto& row : kStages)
    if (row.stage == s) return row.name;
  return "?";
}

std::optional<Stage> stage_from_name(std::string_view text) {
  for (const auto& row : kStages)
    if (row.name == text) return row.stage;
  return std::nullopt;
}

json to_json(const SutResult& r) {
  json attempts = json::array(), failures = json::array();
  for (const auto& a : r.attempts) attempts.push_back(attempt_json(a));
  for (const auto& f : r.failures)
    failures.push_back({{"stage", name(f.stage)}, {"probe", f.probe}, {"message", f.message}, {"traceback", f.traceback}});
  json out = {{"xph", 1}, {"sut", r.sut}, {"attempts", attempts}, {"failures", failures}};
  if (r.pid) out["pid"] = *r.pid;
  return out;
}

SutResult parse_result(const json& j) {
  SutResult r;
  if (!j.is_object()) fail("", "expected a JSON object");
  const auto& version = field(j, "xph", "");
  if (version != 1) fail("/xph", "expected 1, got " + version.dump());
  r.sut = str(j, "sut", "");
  if (j.contains("pid")) {
    const auto& pid = j.at("pid");
    if (!pid.is_number_integer() || pid.get<long>() <= 0) fail("/pid", "expected a positive integer");
    r.pid = pid.get<long>();
  }
  const auto& attempts = field(j, "attempts", "");
  if (!attempts.is_array()) fail("/attempts", "expected an array");
  for (std::size_t i = 0; i < attempts.size(); ++i) {
    const std::string p = "/attempts/" + std::to_string(i);
    const auto& a = attempts[i];
    AttemptOutcome o;
    o.probe = str(a, "probe", p);
    o.id = str(a, "id", p);
    const auto& pid = field(a, "pid", p);
    if (!pid.is_number_integer() || pid.get<long>() <= 0) fail(p + "/pid", "expected a positive integer");
    o.pid = pid.get<long>();
    const std::string outcome = str(a, "outcome", p);
    if (outcome == "ok") {
      o.ok = true;
      const auto& outs = field(a, "outputs", p);
      if (!outs.is_array()) fail(p + "/outputs", "expected an array of strings and nulls");
      for (std::size_t k = 0; k < outs.size(); ++k) {
        if (outs[k].is_null()) {
          o.outputs.emplace_back();
          continue;
        }
        if (!outs[k].is_string()) fail(p + "/outputs/" + std::to_string(k), "expected a string or null");
        o.outputs.push_back(outs[k].get<std::string>());
      }
    } else if (outcome == "error") {
      o.error = parse_error(field(a, "error", p), p + "/error");
    } else {
      fail(p + "/outcome", "expected \"ok\" or \"error\", got \"" + outcome + "\"");
    }
    r.attempts.push_back(std::move(o));
  }
  if (j.contains("failures")) {
    const auto& failures = j.at("failures");
    if (!failures.is_array()) fail("/failures", "expected an array");
    for (std::size_t i = 0; i < failures.size(); ++i) {
      const std::string p = "/failures/" + std::to_string(i);
      SutFailure f;
      const std::string stage = str(failures[i], "stage", p);
      const auto parsed = stage_from_name(stage);
      if (!parsed) fail(p + "/stage", "expected dispatch, result, worker or other, got \"" + stage + "\"");
      f.stage = *parsed;
      f.probe = opt_str(failures[i], "probe", p).value_or("");
      f.message = str(failures[i], "message", p);
      f.traceback = opt_str(failures[i], "traceback", p).value_or("");
      r.failures.push_back(std::move(f));
    }
  }
  return r;
}

}  // namespace xph::harness
