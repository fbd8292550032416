// A step is what the server does with one request: answer with a status, or
// break the exchange in one of a few scripted ways. A script is the sequence
// of steps one attempt key walks through.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace xph::mock {

// Adding a kind: a value here, a row in src/step_kinds.cpp, a file in
// src/steps/ (see docs/adding-a-step.md). Values stay contiguous from 0.
enum class StepKind { Status, Reset, Drop, Hang, Malformed, Truncate, Empty, Slow, ToolCall, StreamError, StreamReset };

struct Step {
  StepKind kind = StepKind::Status;
  int status = 200;                      // Status only
  std::optional<std::string> code;       // Status only: error.code
  std::optional<double> retry_after_s;   // Status only: the @SECONDS part
  double seconds = 0;                    // Slow only
  int chunks = 0;                        // StreamError, StreamReset: content chunks sent before the break
  std::optional<std::string> text;       // Status 2xx only: what each choice says instead of the label

  bool operator==(const Step&) const = default;
};

// The steps one key walks through. Request k gets steps[k]; past the end the
// final cycle repeats: steps[cycle], ..., steps.back(), steps[cycle], ...
// With no cycle the last step alone repeats (the DSL `200*4,400` means every
// request from the 5th on is a 400; `(200*4,400)*` means every 5th is).
struct Script {
  std::vector<Step> steps;
  // Index where the final cycle starts. nullopt: the last step alone, which
  // is also how the parser writes a cycle of one step (canonical form).
  std::optional<std::size_t> cycle;

  const Step& at(std::size_t k) const {
    if (k < steps.size()) return steps[k];
    const std::size_t from = cycle && *cycle < steps.size() ? *cycle : steps.size() - 1;
    return steps.at(from + (k - from) % (steps.size() - from));
  }
  bool operator==(const Script&) const = default;
};

// Patterns `PROBE#I`, `PROBE#*`, `*` (or any exact key) to scripts.
using Responses = std::map<std::string, Script, std::less<>>;

// Thrown for a script that does not parse. `where` locates it: a character
// position in DSL text, or a JSON pointer in a JSON form.
class ScriptError : public std::runtime_error {
 public:
  ScriptError(std::string where, const std::string& what)
      : std::runtime_error(where + ": " + what), where_(std::move(where)) {}
  const std::string& where() const { return where_; }

 private:
  std::string where_;
};

std::string_view name(StepKind);
std::optional<StepKind> step_kind_from_name(std::string_view);
std::string to_string(const Step&);      // canonical DSL of one step
// Comma-joined, no repetition folding; a cycle as `(...)*` at the end.
// parse_script(to_string(s)) == s for every script the parser makes.
std::string to_string(const Script&);

// sequence := item ("," item)*
// item     := atom ("*" COUNT)? | "(" sequence ")" ("*" COUNT?)?
// `(SEQ)*N` repeats SEQ N times; `(SEQ)*` repeats it for ever and comes last.
Script parse_script(std::string_view dsl);
// Exactly one atom, e.g. a journal entry's "step".
Step parse_step(std::string_view dsl);
// A DSL string, one step object, or an array of strings and step objects; a
// `{"cycle": SCRIPT}` object, last in an array, repeats SCRIPT for ever.
Script script_from_json(const nlohmann::json&, const std::string& pointer = "");
// A `responses` object. Throws ScriptError naming the JSON pointer.
Responses responses_from_json(const nlohmann::json&, const std::string& pointer = "/responses");
nlohmann::json to_json(const Step&);
// {KEY: canonical DSL}: what responses_from_json reads back as the same value.
nlohmann::json responses_to_json(const Responses&);
// The script for KEY: exact key, then `PROBE#*` for `PROBE#I`, then `*`.
const Script* find_script(const Responses&, std::string_view key);

}  // namespace xph::mock
