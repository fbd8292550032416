#include "sut_choices.hpp"

#include <optional>
#include <string>

#include "xph/harness/app/suts.hpp"
#include "xph/harness/model/errors.hpp"
#include "xph/harness/model/shell.hpp"

namespace xph::harness {
namespace {

struct Pending {
  std::string text, name;
  bool warm = false;
};

}  // namespace

std::vector<SutChoice> sut_choices(int argc, char** argv, const std::vector<BuiltinSut>& user) {
  std::vector<SutChoice> out;
  std::vector<Pending> cmds;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&](const std::string& flag) -> std::optional<std::string> {
      if (a == flag) {
        if (i + 1 >= argc) throw InputError(flag + ": needs a value");
        return std::string(argv[++i]);
      }
      if (a.rfind(flag + "=", 0) == 0) return a.substr(flag.size() + 1);
      return std::nullopt;
    };
    if (auto v = value("--sut")) {
      out.push_back({builtin_sut(*v, user), "--sut " + shell_quote(*v)});
    } else if (auto cmd = value("--sut-cmd")) {
      cmds.push_back({*cmd, "", false});
      out.push_back({SutCommand{}, ""});
    } else if (auto label = value("--sut-name")) {
      if (cmds.empty() || !cmds.back().name.empty())
        throw InputError("--sut-name " + *label + ": must follow a --sut-cmd");
      cmds.back().name = *label;
    } else if (a == "--warm") {
      if (cmds.empty()) throw InputError("--warm: must follow a --sut-cmd");
      cmds.back().warm = true;
    }
  }
  std::size_t k = 0;
  int unnamed = 0;
  for (auto& choice : out) {
    if (!choice.replay_args.empty()) continue;
    Pending& p = cmds[k++];
    if (p.name.empty()) p.name = "cmd" + std::to_string(++unnamed);
    choice.command = command_sut(p.text, p.name, p.warm);
    choice.replay_args = "--sut-cmd " + shell_quote(p.text) + " --sut-name " + shell_quote(p.name) +
                         (p.warm ? " --warm" : "");
  }
  return out;
}

}  // namespace xph::harness
