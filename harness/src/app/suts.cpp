#include "xph/harness/app/suts.hpp"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <algorithm>
#include <fstream>
#include <future>

#include <nlohmann/json.hpp>

#include <boost/process/search_path.hpp>

#include "xph/harness/model/errors.hpp"
#include "xph/harness/model/shell.hpp"

namespace xph::harness {
namespace {

namespace fs = std::filesystem;

fs::path own_dir() {
  char buf[4096];
  const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  return n > 0 ? fs::path(std::string(buf, static_cast<std::size_t>(n))).parent_path() : fs::current_path();
}

// Python SUTs run on Debian's python3, which has python3-httpx and
// python3-backoff; a pyenv python3 earlier on PATH would not see them.
constexpr const char* kPython = "/usr/bin/python3";
// Our Python SUTs speak the warm-start protocol through xph_sut.serve().
constexpr bool kWarmPython = true;

std::string python_missing() {
  static const std::string why = [] {
    if (::access(kPython, X_OK) != 0) return std::string(kPython) + " not found";
    // Whether they are installed, not an import of them: that took 0.3 s of
    // CPU (httpx brings its command line, rich and pygments) from every xph
    // run, `--sut ref` too. A broken install still shows, as the SUT's own
    // traceback.
    const std::string probe = std::string(kPython) +
                              " -c 'import importlib.util as u, sys; "
                              "sys.exit(0 if u.find_spec(\"httpx\") and u.find_spec(\"backoff\") else 1)'"
                              " >/dev/null 2>&1";
    if (std::system(probe.c_str()) != 0)  // a fixed string of ours, no user input
      return std::string("python3-httpx or python3-backoff is missing (apt-get install python3-httpx python3-backoff)");
    return std::string();
  }();
  return why;
}

std::optional<SutCommand> refsut(const std::string& name, const char* transport, std::string& why) {
  const fs::path exe = own_dir() / "xph-refsut";
  if (!fs::exists(exe)) {
    why = exe.string() + " not found";
    return std::nullopt;
  }
  return SutCommand{name, {exe.string(), "--transport", transport}, false, {}};
}

// A Python SUT of ours under <data>/sut/, with the xph_sut package on its path.
std::optional<SutCommand> python_sut(const std::string& name, const std::string& folder,
                                     std::vector<std::string> args, std::string& why) {
  const fs::path dir = data_dir() / "sut" / folder;
  if (!fs::exists(dir / "__main__.py")) why = (dir / "__main__.py").string() + " not found";
  if (why.empty()) why = python_missing();
  if (!why.empty()) return std::nullopt;
  std::vector<std::string> argv{kPython, dir.string()};
  argv.insert(argv.end(), args.begin(), args.end());
  return SutCommand{name, argv, kWarmPython, {{"PYTHONPATH", (data_dir() / "python").string()}}};
}

// Real garak at a commit: the tree and the SDK it ran with, unpacked from
// ../shared/third_party by the build (cmake/third_party.cmake).
struct GarakCommit {
  const char* commit;
  const char* description;
  std::vector<const char*> sdk;  // folders under third_party/ for --pythonpath
};

const std::vector<GarakCommit>& garak_commits() {
  static const std::vector<GarakCommit> commits = {
      {"60675d25", "real garak before PR #689 (garak #659: the RLock pickled with the pool's tasks)",
       {"typing_extensions-4.11.0/src", "openai-python-1.30.1/src"}},
      {"e1167451", "real garak at PR #689 (__getstate__ drops the client; raw API errors cross)",
       {"typing_extensions-4.11.0/src", "openai-python-1.30.1/src"}},
      {"481717e3", "real garak at PR #744 (a 400 becomes [None])",
       {"typing_extensions-4.11.0/src", "openai-python-1.30.1/src"}},
      {"cafbe992", "real garak main, 2026-08 (a pooled 404/409/422 hangs it: live)",
       {"typing_extensions-4.16.0rc2/src", "openai-python-2.54.0/src", "xdg-base-dirs-6.0.2/src"}},
  };
  return commits;
}

fs::path third_party_dir() {
  if (const char* dir = std::getenv("XPH_THIRD_PARTY")) return dir;
  return data_dir() / "third_party";
}

std::optional<SutCommand> garak(const GarakCommit& g, std::string& why) {
  const fs::path tp = third_party_dir();
  const fs::path tree = tp / ("garak-" + std::string(g.commit));
  std::vector<std::string> args{"--garak", tree.string()};
  for (const char* sdk : g.sdk) {
    if (!fs::exists(tp / sdk)) why = (tp / sdk).string() + " not unpacked (cmake/third_party.cmake unpacks it from XPH_THIRD_PARTY_DIR)";
    args.insert(args.end(), {"--pythonpath", (tp / sdk).string()});
  }
  if (!fs::exists(tree)) why = tree.string() + " not unpacked (cmake/third_party.cmake unpacks it from XPH_THIRD_PARTY_DIR)";
  if (!why.empty()) return std::nullopt;
  return python_sut("garak@" + std::string(g.commit), "garak_adapter", args, why);
}

// The adapter's own account of what is missing: one line.
void deep_check(std::vector<BuiltinSut>& suts) {
  std::vector<std::pair<BuiltinSut*, std::future<std::pair<int, std::string>>>> checks;
  for (auto& s : suts)
    if (s.command && s.name.rfind("garak@", 0) == 0) {
      std::string cmd;
      for (const auto& w : s.command->argv) cmd += shell_quote(w) + " ";
      checks.emplace_back(&s, std::async(std::launch::async, [cmd] {
                            std::string out;
                            std::FILE* p = ::popen((cmd + "--check 2>&1").c_str(), "r");  // our own argv, quoted
                            char buf[512];
                            while (p && std::fgets(buf, sizeof buf, p)) out += buf;
                            const int rc = p ? ::pclose(p) : -1;
                            while (!out.empty() && out.back() == '\n') out.pop_back();
                            return std::pair{rc, out};
                          }));
    }
  for (auto& [s, f] : checks) {
    auto [rc, line] = f.get();
    if (rc == 0) continue;
    s->why_not = line.empty() ? "the adapter's --check failed" : line;
    s->command.reset();
  }
}

// One entry of a SUT file: {"name", "cmd", "warm"?, "env"?, "description"?}.
// Words of cmd that start with ./ or ../ are relative to the file's folder
// (the SUT runs in its case folder, so a relative path would find nothing).
BuiltinSut user_sut(const nlohmann::json& e, const fs::path& file, const std::string& at,
                    const std::vector<std::string>& builtin, const std::vector<BuiltinSut>& earlier) {
  auto fail = [&](const std::string& field, const std::string& what) {
    throw InputError(file.string() + ": " + at + (field.empty() ? "" : "/" + field) + ": " + what);
  };
  if (!e.is_object()) fail("", "expected an object with name and cmd");
  for (const auto& [k, _] : e.items())
    if (k != "name" && k != "cmd" && k != "warm" && k != "env" && k != "description")
      fail(k, "unknown field; expected name, cmd, warm, env or description");
  if (!e.contains("name") || !e["name"].is_string() || e["name"].get<std::string>().empty())
    fail("name", "expected a name");
  const std::string name = e["name"];
  if (name.rfind("garak@", 0) == 0 || std::find(builtin.begin(), builtin.end(), name) != builtin.end())
    fail("name", "\"" + name + "\" is a built-in SUT's name");
  for (const auto& other : earlier)
    if (other.name == name) fail("name", "\"" + name + "\" appears twice");
  if (!e.contains("cmd") || !e["cmd"].is_string()) fail("cmd", "expected the command as one string");
  std::string cmd;
  for (auto word : split_words(e["cmd"].get<std::string>())) {
    if (word.rfind("./", 0) == 0 || word.rfind("../", 0) == 0) word = (fs::absolute(file).parent_path() / word).lexically_normal().string();
    cmd += shell_quote(word) + " ";
  }
  if (e.contains("warm") && !e["warm"].is_boolean()) fail("warm", "expected true or false");
  SutCommand command = command_sut(cmd, name, e.value("warm", false));
  if (e.contains("env")) {
    if (!e["env"].is_object()) fail("env", "expected an object of variables to strings");
    for (const auto& [k, v] : e["env"].items()) {
      if (!v.is_string()) fail("env/" + k, "expected a string");
      command.env[k] = v.get<std::string>();
    }
  }
  return {name, e.value("description", "from " + file.string()), command, ""};
}

}  // namespace

fs::path data_dir() { return (own_dir() / ".." / "share" / "xph").lexically_normal(); }

std::vector<BuiltinSut> builtin_suts(bool deep) {
  std::vector<BuiltinSut> out;
  auto add = [&](std::string name, std::string description, auto make) {
    BuiltinSut s{name, std::move(description), std::nullopt, ""};
    s.command = make(name, s.why_not);
    out.push_back(std::move(s));
  };
  using W = std::string&;
  add("ref", "C++ reference SUT, safe transport: plain data and whole error envelopes cross the pool",
      [](const std::string& n, W why) { return refsut(n, "safe", why); });
  add("ref-naive", "C++ reference SUT, naive transport: garak's #659 ordering bug and unpicklable API errors",
      [](const std::string& n, W why) { return refsut(n, "naive", why); });
  const std::pair<const char*, const char*> variants[] = {
      {"fixed", "Python, garak with every fix: errors cross as plain-data envelopes"},
      {"leaky-client", "Python, garak before PR #689: the parent's client is pickled with the next pool"},
      {"raw-errors", "Python, garak after #689: API exceptions cross the pool as they are"},
      {"partial-catch", "Python, garak after #744: a chat 400 becomes an attempt with no output ([None]); other errors cross raw"}};
  for (const auto& [variant, text] : variants) {
    const std::string v = variant;
    add(v == "fixed" ? "garaklike" : "garaklike-" + v, text,
        [v](const std::string& n, W why) { return python_sut(n, "garaklike", {"--variant", v}, why); });
  }
  add("forkstate", "Python, a configuration global set at run time and read in the pool worker: passes under fork only",
      [](const std::string& n, W why) { return python_sut(n, "forkstate", {}, why); });
  for (const auto& g : garak_commits())
    add("garak@" + std::string(g.commit), g.description, [&g](const std::string&, W why) { return garak(g, why); });
  if (deep) deep_check(out);
  return out;
}

std::vector<BuiltinSut> user_suts(const std::string& file) {
  const fs::path path = file.empty() ? fs::path("xph-suts.json") : fs::path(file);
  if (file.empty() && !fs::exists(path)) return {};
  std::ifstream in(path);
  if (!in) throw InputError(path.string() + ": cannot read the SUT file");
  const nlohmann::json j = nlohmann::json::parse(in, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("suts") || !j["suts"].is_array())
    throw InputError(path.string() + ": /: expected {\"suts\": [{\"name\", \"cmd\", ...}]}");
  std::vector<std::string> builtin;
  for (const auto& b : builtin_suts()) builtin.push_back(b.name);
  std::vector<BuiltinSut> out;
  for (std::size_t i = 0; i < j["suts"].size(); ++i)
    out.push_back(user_sut(j["suts"][i], path, "/suts/" + std::to_string(i), builtin, out));
  return out;
}

SutCommand builtin_sut(const std::string& name, const std::vector<BuiltinSut>& user) {
  for (const auto& u : user)
    if (u.name == name) return *u.command;
  if (name.rfind("garak@", 0) == 0 && name.find('/') != std::string::npos) {
    // garak@DIR: the user's own garak checkout, its SDK on their Python path.
    std::string why;
    const fs::path dir = fs::absolute(name.substr(6));
    if (!fs::exists(dir / "garak" / "__init__.py"))
      throw InputError("--sut " + name + ": " + (dir / "garak" / "__init__.py").string() + " not found: not a garak checkout");
    auto cmd = python_sut(name, "garak_adapter", {"--garak", dir.string()}, why);
    if (!cmd) throw InputError("--sut " + name + ": cannot run here: " + why);
    return *cmd;
  }
  std::string known;
  for (const auto& s : builtin_suts()) {
    if (s.name == name) {
      if (!s.command) throw InputError("--sut " + name + ": cannot run here: " + s.why_not);
      return *s.command;
    }
    known += (known.empty() ? "" : ", ") + s.name;
  }
  for (const auto& u : user) known += ", " + u.name;
  throw InputError("--sut " + name + ": unknown SUT; built-in SUTs are " + known + ", and garak@DIR");
}

SutCommand command_sut(const std::string& text, const std::string& name, bool warm) {
  auto argv = split_words(text);
  if (argv.empty()) throw InputError("--sut-cmd: empty command");
  if (argv[0].find('/') == std::string::npos) {
    const auto found = boost::process::search_path(argv[0]);
    if (found.empty()) throw InputError("--sut-cmd: program '" + argv[0] + "' not found on PATH");
    argv[0] = found.string();
  } else if (::access(argv[0].c_str(), X_OK) != 0) {
    throw InputError("--sut-cmd: '" + argv[0] + "' is not an executable file");
  }
  return SutCommand{name, argv, warm, {}};
}

}  // namespace xph::harness
