#include "xph/harness/result.hpp"

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

ErrorEnvelope parse_error(const json& e, const std::string& p) {
  ErrorEnvelope env;
  env.kind = str(e, "kind", p);
  if (env.kind != "http" && env.kind != "connection" && env.kind != "timeout" && env.kind != "decode")
    fail(p + "/kind", "expected http, connection, timeout or decode, got \"" + env.kind + "\"");
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

}  // namespace

SutResult parse_result(const json& j) {
  SutResult r;
  if (!j.is_object()) fail("", "expected a JSON object");
  const auto& version = field(j, "xph", "");
  if (version != 1) fail("/xph", "expected 1, got " + version.dump());
  r.sut = str(j, "sut", "");
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
      f.stage = str(failures[i], "stage", p);
      if (f.stage != "dispatch" && f.stage != "result" && f.stage != "worker" && f.stage != "other")
        fail(p + "/stage", "expected dispatch, result, worker or other, got \"" + f.stage + "\"");
      f.probe = opt_str(failures[i], "probe", p).value_or("");
      f.message = str(failures[i], "message", p);
      f.traceback = opt_str(failures[i], "traceback", p).value_or("");
      r.failures.push_back(std::move(f));
    }
  }
  return r;
}

}  // namespace xph::harness
