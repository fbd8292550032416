// The built-in SUTs by name (contract section 6), and --sut-cmd parsing.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "xph/harness/runner.hpp"

namespace xph::harness {

struct BuiltinSut {
  std::string name;
  std::string description;
  std::optional<SutCommand> command;  // empty: cannot run here
  std::string why_not;                // when empty command
};

std::vector<BuiltinSut> builtin_suts();
// Throws InputError for an unknown or unavailable name.
SutCommand builtin_sut(const std::string& name);
// "ARGV" split as a shell would split words (quotes, backslashes), with no
// shell and no expansion; argv[0] resolved on PATH. Throws InputError.
SutCommand command_sut(const std::string& text, const std::string& name);
std::vector<std::string> split_words(const std::string& text);

}  // namespace xph::harness
