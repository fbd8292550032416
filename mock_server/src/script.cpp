// The step DSL and its JSON forms. Every error names where it is (a column
// in DSL text, a JSON pointer in JSON) and what was expected there.
#include <charconv>
#include <cmath>
#include <string>

#include <nlohmann/json.hpp>

#include "xph/mock/step.hpp"
#include "script_limits.hpp"
#include "xph/mock/step_kinds.hpp"

namespace xph::mock {
namespace {

constexpr std::size_t kMaxSteps = 100'000;  // after expansion: `(200*10000)*10000` is refused
constexpr int kMaxDepth = 16;               // nested groups

bool code_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
}

bool word_char(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }

std::string quoted(const std::string& text) {
  return nlohmann::json(text).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

class Parser {
 public:
  explicit Parser(std::string_view text) : s_(text) {}

  Script parse() {
    skip_space();
    if (at_end()) fail("expected a step, got an empty script");
    Script script;
    sequence(script, 0);
    if (script.cycle && *script.cycle + 1 == script.steps.size()) script.cycle.reset();  // canonical
    return script;
  }

  Step parse_one() {
    skip_space();
    Step step = atom();
    skip_space();
    if (!at_end()) fail("expected one step, got " + got());
    return step;
  }

 private:
  // item ("," item)* up to the end, or up to the ')' of the group at `depth`.
  void sequence(Script& out, int depth) {
    for (;;) {
      item(out, depth);
      skip_space();
      if (at_end() || (depth > 0 && peek() == ')')) return;
      if (out.cycle) fail("a group repeated for ever, '(...)*', must be the script's last item, got " + got());
      if (peek() == ')') fail("')' closes no '('");
      if (peek() != ',') fail("expected ',' or '*COUNT' after a step, got " + got());
      ++i_;
      skip_space();
    }
  }

  void item(Script& out, int depth) {
    if (peek() == '(') return group(out, depth);
    const Step step = atom();
    skip_space();
    append(out, {step}, peek() == '*' ? count() : 1);
  }

  void group(Script& out, int depth) {
    if (depth + 1 > kMaxDepth) fail("groups nest deeper than " + std::to_string(kMaxDepth));
    const std::size_t open = i_++;
    skip_space();
    if (at_end()) unclosed(open);
    if (peek() == ')') fail("expected a step in the group, got " + got());
    Script inner;
    sequence(inner, depth + 1);
    if (at_end()) unclosed(open);
    ++i_;  // ')'
    skip_space();
    if (peek() != '*') return append(out, inner.steps, 1);
    ++i_;
    skip_space();
    if (std::isdigit(static_cast<unsigned char>(peek()))) return append(out, inner.steps, bounded_count());
    if (depth > 0) fail("a group repeated for ever, '(...)*', must be the script's last item, got " + got());
    out.cycle = out.steps.size();
    append(out, inner.steps, 1);
  }

  [[noreturn]] void unclosed(std::size_t open) {
    i_ = open;
    fail("this '(' is never closed");
  }

  int count() {
    ++i_;  // '*'
    skip_space();
    return bounded_count();
  }

  int bounded_count() {
    const int n = integer("a repeat COUNT (1-" + std::to_string(limits::kMaxCount) + ")");
    if (n < 1 || n > limits::kMaxCount) fail("repeat COUNT must be 1-" + std::to_string(limits::kMaxCount) + ", got " + std::to_string(n));
    return n;
  }

  void append(Script& out, const std::vector<Step>& steps, int times) {
    if (out.steps.size() + steps.size() * static_cast<std::size_t>(times) > kMaxSteps)
      fail("the script expands to more than " + std::to_string(kMaxSteps) + " steps");
    for (int t = 0; t < times; ++t) out.steps.insert(out.steps.end(), steps.begin(), steps.end());
  }

  Step atom() {
    if (std::isdigit(static_cast<unsigned char>(peek()))) return status_atom();
    const std::size_t from = i_;
    while (!at_end() && word_char(peek())) ++i_;
    const std::string_view word = s_.substr(from, i_ - from);
    const auto kind = step_kind_from_name(word);
    if (word.empty() || !kind || *kind == StepKind::Status) {
      i_ = from;
      fail("expected a status or one of " + limits::step_words() + ", got " + got());
    }
    Step step{.kind = *kind};
    switch (row_of(*kind).arg) {
      case StepArg::Seconds:
        if (peek() != '@') fail("'" + std::string(word) + "' needs @SECONDS, got " + got());
        ++i_;
        step.seconds = seconds();
        break;
      case StepArg::Chunks:
        if (peek() != ':') fail("'" + std::string(word) + "' needs :CHUNKS, got " + got());
        ++i_;
        step.chunks = chunks();
        break;
      case StepArg::None:
        if (peek() == '@' || peek() == ':') fail("'" + std::string(word) + "' takes no argument, got " + got());
        break;
    }
    return step;
  }

  Step status_atom() {
    Step step;
    const std::size_t start = i_;
    step.status = integer("a status");
    if (i_ - start != 3 || !limits::valid_status(step.status)) {
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
    if (peek() == '=') {
      if (step.status >= 300) fail("only a 2xx status carries =\"TEXT\", got " + got());
      ++i_;
      step.text = text();
    }
    return step;
  }

  // A JSON string literal: "hello, \"world\"".
  std::string text() {
    const std::size_t from = i_;
    if (peek() != '"') fail("expected TEXT as a JSON string like \"hello\", got " + got());
    std::size_t end = from + 1;
    while (end < s_.size() && s_[end] != '"') end += s_[end] == '\\' ? 2 : 1;
    if (end >= s_.size()) fail("this TEXT string is never closed");
    const auto j = nlohmann::json::parse(s_.substr(from, end + 1 - from), nullptr, false);
    if (j.is_discarded() || !j.is_string()) fail("TEXT is not a valid JSON string: " + got());
    i_ = end + 1;
    return j.get<std::string>();
  }

  int chunks() {
    const std::size_t from = i_;
    const int n = integer("CHUNKS (0-" + std::to_string(limits::kMaxChunks) + ")");
    if (n < 0 || n > limits::kMaxChunks) {
      i_ = from;
      fail("CHUNKS must be 0-" + std::to_string(limits::kMaxChunks) + ", got " + got());
    }
    return n;
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
    if (ec != std::errc() || !std::isfinite(value) || value > limits::kMaxSeconds)
      fail("SECONDS must be 0-" + std::to_string(static_cast<int>(limits::kMaxSeconds)) + ", got " + got());
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

std::string joined(std::vector<Step>::const_iterator from, std::vector<Step>::const_iterator to) {
  std::string out;
  for (auto it = from; it != to; ++it) {
    if (!out.empty()) out += ",";
    out += to_string(*it);
  }
  return out;
}

}  // namespace

Script parse_script(std::string_view dsl) { return Parser(dsl).parse(); }

Step parse_step(std::string_view dsl) { return Parser(dsl).parse_one(); }

std::string to_string(const Step& step) {
  if (step.kind != StepKind::Status) {
    std::string out(name(step.kind));
    if (row_of(step.kind).arg == StepArg::Seconds) out += "@" + format_seconds(step.seconds);
    if (row_of(step.kind).arg == StepArg::Chunks) out += ":" + std::to_string(step.chunks);
    return out;
  }
  std::string out = std::to_string(step.status);
  if (step.code) out += ":" + *step.code;
  if (step.retry_after_s) out += "@" + format_seconds(*step.retry_after_s);
  if (step.text) out += "=" + quoted(*step.text);
  return out;
}

std::string to_string(const Script& script) {
  const auto& s = script.steps;
  if (!script.cycle || *script.cycle + 1 >= s.size()) return joined(s.begin(), s.end());
  const auto cycle = s.begin() + static_cast<std::ptrdiff_t>(*script.cycle);
  const std::string head = joined(s.begin(), cycle);
  return (head.empty() ? "" : head + ",") + "(" + joined(cycle, s.end()) + ")*";
}

nlohmann::json to_json(const Step& step) { return to_string(step); }

nlohmann::json responses_to_json(const Responses& responses) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [key, script] : responses) out[key] = to_string(script);
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
