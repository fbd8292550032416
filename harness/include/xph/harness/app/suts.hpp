// The SUTs xph knows by name (contract section 6): built in, real garak at
// a commit or in a folder, and --sut-cmd for anything else. xph finds its
// own files relative to its executable (<bin>/../share/xph), in the build
// tree and once installed alike.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "xph/harness/supervise/supervisor.hpp"

namespace xph::harness {

// <directory of the xph executable>/../share/xph
std::filesystem::path data_dir();

struct BuiltinSut {
  std::string name;
  std::string description;
  std::optional<SutCommand> command;  // empty: cannot run here
  std::string why_not;                // when empty command: exactly what is missing
};

// Every built-in name, and whether each can run here. DEEP also asks real
// garak's adapter (`--check`, a second or more each) instead of only
// looking for its files.
std::vector<BuiltinSut> builtin_suts(bool deep = false);
// A user's own SUTs, named in a SUT file (docs/harness.md, "SUT files"):
// FILE when given, else xph-suts.json in the working folder when there is
// one. Throws InputError naming the file, the field and what is wrong.
std::vector<BuiltinSut> user_suts(const std::string& file);

// A built-in name, garak@DIR, or a name from USER. Throws InputError for an
// unknown or unavailable name, saying which names exist or what is missing.
SutCommand builtin_sut(const std::string& name, const std::vector<BuiltinSut>& user = {});
// "ARGV" split as a shell would split words, with no shell and no
// expansion; argv[0] resolved on PATH. Throws InputError.
SutCommand command_sut(const std::string& text, const std::string& name, bool warm = false);

}  // namespace xph::harness
