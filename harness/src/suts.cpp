#include "xph/harness/suts.hpp"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include <boost/process/search_path.hpp>

namespace xph::harness {
namespace {

namespace fs = std::filesystem;

fs::path own_dir() {
  char buf[4096];
  const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  return n > 0 ? fs::path(std::string(buf, static_cast<std::size_t>(n))).parent_path() : fs::current_path();
}

// xph-refsut is installed beside xph (the build tree puts both in harness/).
std::optional<SutCommand> refsut(const std::string& name, const char* transport, std::string& why) {
  const fs::path exe = own_dir() / "xph-refsut";
  if (!fs::exists(exe)) {
    why = exe.string() + " not found";
    return std::nullopt;
  }
  return SutCommand{name, {exe.string(), "--transport", transport}};
}

// Python SUTs run on Debian's python3, which has python3-httpx and
// python3-backoff; a pyenv python3 earlier on PATH would not see them.
constexpr const char* kPython = "/usr/bin/python3";

std::string python_missing() {
  static const std::string why = [] {
    if (::access(kPython, X_OK) != 0) return std::string(kPython) + " not found";
    const fs::path dir = fs::path(XPH_SOURCE_DIR) / "fixtures/sut/garaklike";
    if (!fs::exists(dir / "__main__.py")) return dir.string() + " not found";
    const std::string probe = std::string(kPython) + " -c 'import httpx, backoff' >/dev/null 2>&1";
    if (std::system(probe.c_str()) != 0)  // a fixed string of ours, no user input
      return std::string("python3-httpx or python3-backoff is missing (apt-get install python3-httpx python3-backoff)");
    return std::string();
  }();
  return why;
}

std::optional<SutCommand> garaklike(const std::string& name, const char* variant, std::string& why) {
  why = python_missing();
  if (!why.empty()) return std::nullopt;
  return SutCommand{name, {kPython, (fs::path(XPH_SOURCE_DIR) / "fixtures/sut/garaklike").string(), "--variant", variant}};
}

}  // namespace

std::vector<BuiltinSut> builtin_suts() {
  std::vector<BuiltinSut> out;
  auto add = [&](std::string name, std::string description, auto make) {
    BuiltinSut s{name, std::move(description), std::nullopt, ""};
    s.command = make(name, s.why_not);
    out.push_back(std::move(s));
  };
  add("ref", "C++ reference SUT, safe transport: plain data and whole error envelopes cross the pool",
      [](const std::string& n, std::string& why) { return refsut(n, "safe", why); });
  add("ref-naive", "C++ reference SUT, naive transport: garak's #659 ordering bug and unpicklable API errors",
      [](const std::string& n, std::string& why) { return refsut(n, "naive", why); });
  add("garaklike", "Python, garak with every fix: errors cross as plain-data envelopes",
      [](const std::string& n, std::string& why) { return garaklike(n, "fixed", why); });
  add("garaklike-leaky-client", "Python, garak before PR #689: the parent's client is pickled with the next pool",
      [](const std::string& n, std::string& why) { return garaklike(n, "leaky-client", why); });
  add("garaklike-raw-errors", "Python, garak after #689: API exceptions cross the pool as they are",
      [](const std::string& n, std::string& why) { return garaklike(n, "raw-errors", why); });
  add("garaklike-partial-catch", "Python, garak after #744: a chat 400 becomes an attempt with no output ([None]); other errors cross raw",
      [](const std::string& n, std::string& why) { return garaklike(n, "partial-catch", why); });
  return out;
}

SutCommand builtin_sut(const std::string& name) {
  std::string known;
  for (const auto& s : builtin_suts()) {
    if (s.name == name) {
      if (!s.command) throw InputError("--sut " + name + ": cannot run here: " + s.why_not);
      return *s.command;
    }
    known += (known.empty() ? "" : ", ") + s.name;
  }
  throw InputError("--sut " + name + ": unknown SUT; built-in SUTs are " + known);
}

std::vector<std::string> split_words(const std::string& text) {
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == ' ' || c == '\t' || c == '\n') {
      if (in_word) words.push_back(std::move(word));
      word.clear();
      in_word = false;
    } else if (c == '\'') {
      const auto end = text.find('\'', i + 1);
      if (end == std::string::npos) throw InputError("--sut-cmd: unterminated ' in \"" + text + "\"");
      word += text.substr(i + 1, end - i - 1);
      i = end;
      in_word = true;
    } else if (c == '"') {
      std::size_t j = i + 1;
      for (; j < text.size() && text[j] != '"'; ++j) {
        if (text[j] == '\\' && j + 1 < text.size() && std::string("\"\\$`").find(text[j + 1]) != std::string::npos) ++j;
        word += text[j];
      }
      if (j >= text.size()) throw InputError("--sut-cmd: unterminated \" in \"" + text + "\"");
      i = j;
      in_word = true;
    } else if (c == '\\' && i + 1 < text.size()) {
      word += text[++i];
      in_word = true;
    } else {
      word += c;
      in_word = true;
    }
  }
  if (in_word) words.push_back(std::move(word));
  return words;
}

SutCommand command_sut(const std::string& text, const std::string& name) {
  auto argv = split_words(text);
  if (argv.empty()) throw InputError("--sut-cmd: empty command");
  if (argv[0].find('/') == std::string::npos) {
    const auto found = boost::process::search_path(argv[0]);
    if (found.empty()) throw InputError("--sut-cmd: program '" + argv[0] + "' not found on PATH");
    argv[0] = found.string();
  } else if (::access(argv[0].c_str(), X_OK) != 0) {
    throw InputError("--sut-cmd: '" + argv[0] + "' is not an executable file");
  }
  return SutCommand{name, argv};
}

}  // namespace xph::harness
