// The step DSL and its JSON forms. Every error names where it is (a column
// in DSL text, a JSON pointer in JSON) and what was expected there.
#include <charconv>
#include <cmath>
#include <string>

#include <nlohmann/json.hpp>

#include "step_kinds.hpp"
#include "xph/mock/step.hpp"

namespace xph::mock {
namespace {

constexpr int kMaxCount = 10'000;
constexpr double kMaxSeconds = 3600;

std::string valid_words() {
  std::string out;
  for (const auto& row : step_kinds()) {
    if (row.kind == StepKind::Status) continue;
    if (!out.empty()) out += ", ";
    out += row.name;
    if (row.arg == StepArg::Seconds) out += "@SECONDS";
  }
  return out;
}

bool valid_status(int s) { return (s >= 200 && s <= 299) || (s >= 400 && s <= 599); }

bool code_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
}

class Parser {
 public:
  explicit Parser(std::string_view text) : s_(text) {}

  Script parse() {
    Script script;
    skip_space();
    if (at_end()) fail("expected a step, got an empty script");
    for (;;) {
      Step step = atom();
      int count = 1;
      skip_space();
      if (peek() == '*') {
        ++i_;
        skip_space();
        count = integer("a repeat COUNT (1-" + std::to_string(kMaxCount) + ")");
        if (count < 1 || count > kMaxCount)
          fail("repeat COUNT must be 1-" + std::to_string(kMaxCount) + ", got " + std::to_string(count));
      }
      script.steps.insert(script.steps.end(), static_cast<std::size_t>(count), step);
      skip_space();
      if (at_end()) break;
      if (peek() != ',') fail("expected ',' or '*COUNT' after a step, got " + got());
      ++i_;
      skip_space();
    }
    return script;
  }

 private:
  Step atom() {
    Step step;
    if (std::isdigit(static_cast<unsigned char>(peek()))) {
      const std::size_t start = i_;
      step.status = integer("a status");
      if (i_ - start != 3 || !valid_status(step.status)) {
        i_ = start;
        fail("expected a status 200-299 or 400-599, got " + got());
      }
      if (peek() == ':') {
        ++i_;
        const std::size_t from = i_;
        while (!at_end() && code_char(peek())) ++i_;
        if (i_ == from) fail("expected an error CODE after ':', got " + got());
        step.code = std::string(s_.substr(from, i_ - from));
      }
      if (peek() == '@') {
        ++i_;
        step.retry_after_s = seconds();
      }
      return step;
    }
    const std::size_t from = i_;
    while (!at_end() && std::isalpha(static_cast<unsigned char>(peek()))) ++i_;
    const std::string_view word = s_.substr(from, i_ - from);
    const auto kind = step_kind_from_name(word);
    if (word.empty() || !kind || *kind == StepKind::Status) {
      i_ = from;
      fail("expected a status or one of " + valid_words() + ", got " + got());
    }
    step.kind = *kind;
    if (row_of(*kind).arg == StepArg::Seconds) {
      if (peek() != '@') fail("'" + std::string(word) + "' needs @SECONDS, got " + got());
      ++i_;
      step.seconds = seconds();
    } else if (peek() == '@' || peek() == ':') {
      fail("'" + std::string(word) + "' takes no argument, got " + got());
    }
    return step;
  }

  int integer(const std::string& what) {
    int value = 0;
    const char* first = s_.data() + i_;
    auto [ptr, ec] = std::from_chars(first, s_.data() + s_.size(), value);
    if (ec != std::errc() || ptr == first) fail("expected " + what + ", got " + got());
    i_ += static_cast<std::size_t>(ptr - first);
    return value;
  }

  double seconds() {
    double value = 0;
    const char* first = s_.data() + i_;
    if (at_end() || !std::isdigit(static_cast<unsigned char>(*first)))
      fail("expected SECONDS (a number like 0.25), got " + got());
    auto [ptr, ec] = std::from_chars(first, s_.data() + s_.size(), value, std::chars_format::fixed);
    if (ec != std::errc() || !std::isfinite(value) || value > kMaxSeconds)
      fail("SECONDS must be 0-" + std::to_string(static_cast<int>(kMaxSeconds)) + ", got " + got());
    i_ += static_cast<std::size_t>(ptr - first);
    return value;
  }

  [[noreturn]] void fail(const std::string& what) const {
    throw ScriptError("column " + std::to_string(i_ + 1), what);
  }
  std::string got() const {
    if (at_end()) return "end of input";
    std::string_view rest = s_.substr(i_, 12);
    return "'" + std::string(rest) + (i_ + 12 < s_.size() ? "...'" : "'");
  }
  void skip_space() {
    while (!at_end() && (peek() == ' ' || peek() == '\t')) ++i_;
  }
  bool at_end() const { return i_ >= s_.size(); }
  char peek() const { return at_end() ? '\0' : s_[i_]; }

  std::string_view s_;
  std::size_t i_ = 0;
};

// Shortest *fixed* text that reads back as the same double: the parser takes
// no exponent, and plain to_chars writes 7.6769895e-09 (found by libFuzzer).
std::string format_seconds(double s) {
  char buf[512];  // fixed notation of the smallest positive double needs ~330
  auto [ptr, ec] = std::to_chars(buf, buf + sizeof buf, s, std::chars_format::fixed);
  return ec == std::errc() ? std::string(buf, ptr) : "0";
}

[[noreturn]] void json_fail(const std::string& pointer, const std::string& what) {
  throw ScriptError(pointer.empty() ? "/" : pointer, what);
}

double json_seconds(const nlohmann::json& j, const std::string& pointer) {
  if (!j.is_number() || j.get<double>() < 0 || j.get<double>() > kMaxSeconds)
    json_fail(pointer, "expected seconds 0-" + std::to_string(static_cast<int>(kMaxSeconds)) + ", got " + j.dump());
  return j.get<double>();
}

// {"status":429,"code":"x","retry_after":0.25,"count":2} or {"fault":"slow","seconds":1}
Script step_object(const nlohmann::json& j, const std::string& pointer) {
  Step step;
  int count = 1;
  const bool has_status = j.contains("status"), has_fault = j.contains("fault");
  if (has_status == has_fault) json_fail(pointer, "a step object needs exactly one of \"status\" or \"fault\"");
  for (const auto& [field, value] : j.items()) {
    const std::string at = pointer + "/" + field;
    if (field == "status") {
      if (!value.is_number_integer() || !valid_status(value.get<int>()))
        json_fail(at, "expected a status 200-299 or 400-599, got " + value.dump());
      step.status = value.get<int>();
    } else if (field == "code") {
      if (!value.is_string() && !value.is_null()) json_fail(at, "expected a string, got " + value.dump());
      if (value.is_string()) step.code = value.get<std::string>();
    } else if (field == "retry_after") {
      step.retry_after_s = json_seconds(value, at);
    } else if (field == "fault") {
      const auto kind = value.is_string() ? step_kind_from_name(value.get<std::string>()) : std::nullopt;
      if (!kind || *kind == StepKind::Status)
        json_fail(at, "expected one of " + valid_words() + ", got " + value.dump());
      step.kind = *kind;
    } else if (field == "seconds") {
      step.seconds = json_seconds(value, at);
    } else if (field == "count") {
      if (!value.is_number_integer() || value.get<int>() < 1 || value.get<int>() > kMaxCount)
        json_fail(at, "expected a count 1-" + std::to_string(kMaxCount) + ", got " + value.dump());
      count = value.get<int>();
    } else {
      json_fail(at, "unknown field; expected status, code, retry_after, fault, seconds or count");
    }
  }
  if (step.kind != StepKind::Status && (step.code || step.retry_after_s))
    json_fail(pointer, "\"code\" and \"retry_after\" go with \"status\" only");
  if (step.kind != StepKind::Slow && j.contains("seconds"))
    json_fail(pointer + "/seconds", "only the slow fault takes seconds");
  if (step.kind == StepKind::Slow && !j.contains("seconds"))
    json_fail(pointer, "the slow fault needs \"seconds\"");
  return Script{std::vector<Step>(static_cast<std::size_t>(count), step)};
}

Script dsl_at(const std::string& text, const std::string& pointer) {
  try {
    return parse_script(text);
  } catch (const ScriptError& e) {
    throw ScriptError(pointer.empty() ? "/" : pointer, e.what());
  }
}

}  // namespace

Script parse_script(std::string_view dsl) { return Parser(dsl).parse(); }

std::string to_string(const Step& step) {
  if (step.kind != StepKind::Status) {
    std::string out(name(step.kind));
    if (row_of(step.kind).arg == StepArg::Seconds) out += "@" + format_seconds(step.seconds);
    return out;
  }
  std::string out = std::to_string(step.status);
  if (step.code) out += ":" + *step.code;
  if (step.retry_after_s) out += "@" + format_seconds(*step.retry_after_s);
  return out;
}

std::string to_string(const Script& script) {
  std::string out;
  for (const auto& step : script.steps) {
    if (!out.empty()) out += ",";
    out += to_string(step);
  }
  return out;
}

nlohmann::json to_json(const Step& step) { return to_string(step); }

Script script_from_json(const nlohmann::json& j, const std::string& pointer) {
  if (j.is_string()) return dsl_at(j.get<std::string>(), pointer);
  if (j.is_object()) return step_object(j, pointer);
  if (j.is_array()) {
    if (j.empty()) json_fail(pointer, "expected at least one step");
    Script script;
    for (std::size_t i = 0; i < j.size(); ++i) {
      Script part = script_from_json(j[i], pointer + "/" + std::to_string(i));
      script.steps.insert(script.steps.end(), part.steps.begin(), part.steps.end());
    }
    return script;
  }
  json_fail(pointer, "expected a step DSL string, a step object or an array of steps, got " + j.dump());
}

Responses responses_from_json(const nlohmann::json& j, const std::string& pointer) {
  if (!j.is_object()) json_fail(pointer, "expected an object of attempt key patterns to scripts");
  Responses out;
  for (const auto& [key, value] : j.items()) {
    if (key.empty()) json_fail(pointer + "/", "an attempt key pattern cannot be empty");
    out.emplace(key, script_from_json(value, pointer + "/" + key));
  }
  return out;
}

const Script* find_script(const Responses& responses, std::string_view key) {
  if (auto it = responses.find(key); it != responses.end()) return &it->second;
  if (auto hash = key.rfind('#'); hash != std::string_view::npos) {
    std::string any(key.substr(0, hash + 1));
    any += '*';
    if (auto it = responses.find(any); it != responses.end()) return &it->second;
  }
  if (auto it = responses.find("*"); it != responses.end()) return &it->second;
  return nullptr;
}

}  // namespace xph::mock
