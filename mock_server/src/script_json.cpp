// The JSON forms of a script: a DSL string, a step object, an array of both,
// and `{"cycle": SCRIPT}` as an array's last element. Errors name the JSON
// pointer of what is wrong.
#include <nlohmann/json.hpp>

#include "xph/mock/step.hpp"
#include "script_limits.hpp"
#include "xph/mock/step_kinds.hpp"

namespace xph::mock {
namespace {

using nlohmann::json;



[[noreturn]] void json_fail(const std::string& pointer, const std::string& what) {
  throw ScriptError(pointer.empty() ? "/" : pointer, what);
}

double json_seconds(const json& j, const std::string& pointer) {
  if (!j.is_number() || j.get<double>() < 0 || j.get<double>() > limits::kMaxSeconds)
    json_fail(pointer, "expected seconds 0-" + std::to_string(static_cast<int>(limits::kMaxSeconds)) + ", got " + j.dump());
  return j.get<double>();
}

int json_int(const json& j, int lo, int hi, const char* what, const std::string& pointer) {
  if (!j.is_number_integer() || j.get<long>() < lo || j.get<long>() > hi)
    json_fail(pointer, std::string("expected ") + what + " " + std::to_string(lo) + "-" + std::to_string(hi) +
                           ", got " + j.dump());
  return j.get<int>();
}

// One field of a step object into the step (or the repeat count).
void step_field(const std::string& field, const json& value, const std::string& at, Step& step, int& count) {
  if (field == "status") {
    if (!value.is_number_integer() || !limits::valid_status(value.get<int>()))
      json_fail(at, "expected a status 200-299 or 400-599, got " + value.dump());
    step.status = value.get<int>();
  } else if (field == "code" || field == "text") {
    if (!value.is_string() && !value.is_null()) json_fail(at, "expected a string, got " + value.dump());
    if (value.is_string()) (field == "code" ? step.code : step.text) = value.get<std::string>();
  } else if (field == "retry_after") {
    step.retry_after_s = json_seconds(value, at);
  } else if (field == "fault") {
    const auto kind = value.is_string() ? step_kind_from_name(value.get<std::string>()) : std::nullopt;
    if (!kind || *kind == StepKind::Status) json_fail(at, "expected one of " + limits::step_words() + ", got " + value.dump());
    step.kind = *kind;
  } else if (field == "seconds") {
    step.seconds = json_seconds(value, at);
  } else if (field == "chunks") {
    step.chunks = json_int(value, 0, limits::kMaxChunks, "chunks", at);
  } else if (field == "count") {
    count = json_int(value, 1, limits::kMaxCount, "a count", at);
  } else {
    json_fail(at, "unknown field; expected status, code, retry_after, text, fault, seconds, chunks or count");
  }
}

// {"status":429,"code":"x","retry_after":0.25,"count":2}, {"status":200,"text":"hi"},
// {"fault":"slow","seconds":1} or {"fault":"stream_error","chunks":2}
Script step_object(const json& j, const std::string& pointer) {
  Step step;
  int count = 1;
  if (j.contains("status") == j.contains("fault"))
    json_fail(pointer, "a step object needs exactly one of \"status\" or \"fault\"");
  for (const auto& [field, value] : j.items()) step_field(field, value, pointer + "/" + field, step, count);
  const StepArg arg = row_of(step.kind).arg;
  if (step.kind != StepKind::Status && (step.code || step.retry_after_s || step.text))
    json_fail(pointer, "\"code\", \"retry_after\" and \"text\" go with \"status\" only");
  if (step.text && step.status >= 300) json_fail(pointer + "/text", "only a 2xx status carries text");
  if (arg != StepArg::Seconds && j.contains("seconds"))
    json_fail(pointer + "/seconds", "only the slow fault takes seconds");
  if (arg != StepArg::Chunks && j.contains("chunks"))
    json_fail(pointer + "/chunks", "only stream_error and stream_reset take chunks");
  if (arg == StepArg::Seconds && !j.contains("seconds"))
    json_fail(pointer, "the " + std::string(name(step.kind)) + " fault needs \"seconds\"");
  if (arg == StepArg::Chunks && !j.contains("chunks"))
    json_fail(pointer, "the " + std::string(name(step.kind)) + " fault needs \"chunks\"");
  return Script{std::vector<Step>(static_cast<std::size_t>(count), step)};
}

Script dsl_at(const std::string& text, const std::string& pointer) {
  try {
    return parse_script(text);
  } catch (const ScriptError& e) {
    throw ScriptError(pointer.empty() ? "/" : pointer, e.what());
  }
}

// Where a script's final cycle starts (its last step when it has none).
std::size_t cycle_start(const Script& s) { return s.cycle.value_or(s.steps.size() - 1); }

Script canonical(Script s) {
  if (s.cycle && *s.cycle + 1 == s.steps.size()) s.cycle.reset();
  return s;
}

// {"cycle": SCRIPT}: SCRIPT repeated for ever.
Script cycle_object(const json& j, const std::string& pointer) {
  if (j.size() != 1) json_fail(pointer, "a cycle object has only the field \"cycle\"");
  Script part = script_from_json(j.at("cycle"), pointer + "/cycle");
  if (part.cycle) json_fail(pointer + "/cycle", "a cycle cannot hold another cycle");
  part.cycle = 0;
  return canonical(std::move(part));
}

Script array_script(const json& j, const std::string& pointer) {
  if (j.empty()) json_fail(pointer, "expected at least one step");
  Script script;
  for (std::size_t i = 0; i < j.size(); ++i) {
    const std::string at = pointer + "/" + std::to_string(i);
    const bool is_cycle = j[i].is_object() && j[i].contains("cycle");
    const Script part = is_cycle ? cycle_object(j[i], at) : script_from_json(j[i], at);
    const bool forever = is_cycle || part.cycle;
    if (forever && i + 1 < j.size()) json_fail(at, "a cycle must be the script's last element");
    if (forever) script.cycle = script.steps.size() + cycle_start(part);
    script.steps.insert(script.steps.end(), part.steps.begin(), part.steps.end());
  }
  return canonical(std::move(script));
}

}  // namespace

Script script_from_json(const json& j, const std::string& pointer) {
  if (j.is_string()) return dsl_at(j.get<std::string>(), pointer);
  if (j.is_object() && j.contains("cycle")) return cycle_object(j, pointer);
  if (j.is_object()) return step_object(j, pointer);
  if (j.is_array()) return array_script(j, pointer);
  json_fail(pointer, "expected a step DSL string, a step object or an array of steps, got " + j.dump());
}

Responses responses_from_json(const json& j, const std::string& pointer) {
  if (!j.is_object()) json_fail(pointer, "expected an object of attempt key patterns to scripts");
  Responses out;
  for (const auto& [key, value] : j.items()) {
    if (key.empty()) json_fail(pointer + "/", "an attempt key pattern cannot be empty");
    out.emplace(key, script_from_json(value, pointer + "/" + key));
  }
  return out;
}

}  // namespace xph::mock
