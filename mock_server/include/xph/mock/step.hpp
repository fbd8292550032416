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
// src/steps/ (see docs/adding-a-step.md).
enum class StepKind { Status, Reset, Drop, Hang, Malformed, Truncate, Empty, Slow };

struct Step {
  StepKind kind = StepKind::Status;
  int status = 200;                      // Status only
  std::optional<std::string> code;       // Status only: error.code
  std::optional<double> retry_after_s;   // Status only: the @SECONDS part
  double seconds = 0;                    // Slow only

  bool operator==(const Step&) const = default;
};

// After the last step, the last step repeats.
struct Script {
  std::vector<Step> steps;
  const Step& at(std::size_t k) const { return steps.at(k < steps.size() ? k : steps.size() - 1); }
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
std::string to_string(const Script&);    // comma-joined, no repetition folding

// sequence := step ("," step)* ; step := atom ("*" COUNT)?
Script parse_script(std::string_view dsl);
// A DSL string, one step object, or an array of strings and step objects.
Script script_from_json(const nlohmann::json&, const std::string& pointer = "");
// A `responses` object. Throws ScriptError naming the JSON pointer.
Responses responses_from_json(const nlohmann::json&, const std::string& pointer = "/responses");
nlohmann::json to_json(const Step&);
// The script for KEY: exact key, then `PROBE#*` for `PROBE#I`, then `*`.
const Script* find_script(const Responses&, std::string_view key);

}  // namespace xph::mock
