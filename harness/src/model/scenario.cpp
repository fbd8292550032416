#include "xph/harness/model/scenario.hpp"

#include <fnmatch.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>


namespace xph::harness {
namespace {

using nlohmann::json;

// Reads one JSON object's fields; every complaint names file and pointer.
class Reader {
 public:
  Reader(const json& j, std::string file, std::string pointer)
      : j_(j), file_(std::move(file)), pointer_(std::move(pointer)) {
    if (!j_.is_object()) fail("", "expected an object, got " + kind(j_));
  }

  [[noreturn]] void fail(const std::string& field, const std::string& what) const {
    const std::string at = pointer_ + (field.empty() ? "" : "/" + field);
    throw InputError(file_ + ": " + (at.empty() ? "/" : at) + ": " + what);
  }

  bool has(const char* field) const { return j_.contains(field); }
  const json& at(const char* field) const { return j_.at(field); }

  std::string string(const char* field, bool required) const {
    if (!has(field)) {
      if (required) fail(field, "missing; expected a string");
      return {};
    }
    if (!at(field).is_string()) fail(field, "expected a string, got " + kind(at(field)));
    return at(field).get<std::string>();
  }

  int integer(const char* field, int lo, int hi, int fallback) const {
    if (!has(field)) return fallback;
    const auto& v = at(field);
    if (!v.is_number_integer() || v.get<long>() < lo || v.get<long>() > hi)
      fail(field, "expected an integer " + std::to_string(lo) + "-" + std::to_string(hi) + ", got " + v.dump());
    return v.get<int>();
  }

  double number(const char* field, double lo, double hi, double fallback) const {
    if (!has(field)) return fallback;
    const auto& v = at(field);
    if (!v.is_number() || v.get<double>() < lo || v.get<double>() > hi)
      fail(field, "expected a number " + trim(lo) + "-" + trim(hi) + ", got " + v.dump());
    return v.get<double>();
  }

  bool boolean(const char* field, bool fallback) const {
    if (!has(field)) return fallback;
    if (!at(field).is_boolean()) fail(field, "expected true or false, got " + at(field).dump());
    return at(field).get<bool>();
  }

  void only(std::initializer_list<const char*> known) const {
    for (const auto& item : j_.items()) {
      const std::string& k = item.key();  // not a structured binding: clang 14 cannot capture one
      if (std::none_of(known.begin(), known.end(), [&](const char* f) { return k == f; })) {
        std::string list;
        for (const char* f : known) list += std::string(list.empty() ? "" : ", ") + f;
        fail(k, "unknown field; expected one of " + list);
      }
    }
  }

  const std::string& file() const { return file_; }
  const std::string& pointer() const { return pointer_; }

  static std::string kind(const json& v) { return std::string(v.type_name()) + " " + v.dump().substr(0, 40); }
  static std::string trim(double d) {
    std::ostringstream o;
    o << d;
    return o.str();
  }

 private:
  const json& j_;
  std::string file_, pointer_;
};

bool valid_name(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
  });
}

RetryPolicy parse_retry(const Reader& top) {
  RetryPolicy p;
  if (!top.has("retry")) return p;
  Reader r(top.at("retry"), top.file(), "/retry");
  r.only({"max_tries", "retry_on", "honor_retry_after", "max_delay_s"});
  if (r.has("max_tries")) {
    if (r.at("max_tries").is_null())
      p.max_tries.reset();
    else
      p.max_tries = r.integer("max_tries", 1, 1000, 3);
  }
  if (r.has("retry_on")) {
    const auto& list = r.at("retry_on");
    if (!list.is_array()) r.fail("retry_on", "expected an array of statuses and words, got " + Reader::kind(list));
    p.statuses.clear();
    p.on_connection = p.on_timeout = p.on_decode = false;
    for (std::size_t i = 0; i < list.size(); ++i) {
      const auto& v = list[i];
      const std::string field = "retry_on/" + std::to_string(i);
      if (v.is_number_integer() && v.get<int>() >= 400 && v.get<int>() <= 599) {
        p.statuses.push_back(v.get<int>());
      } else if (v == "connection") {
        p.on_connection = true;
      } else if (v == "timeout") {
        p.on_timeout = true;
      } else if (v == "decode") {
        p.on_decode = true;
      } else {
        r.fail(field, "expected a status 400-599 or one of connection, timeout, decode, got " + v.dump());
      }
    }
  }
  p.honor_retry_after = r.boolean("honor_retry_after", p.honor_retry_after);
  p.max_delay_s = r.number("max_delay_s", 0, 60, p.max_delay_s);
  return p;
}

// A `responses` key must be able to match an attempt of the scenario: a typo
// (`b#*` with no probe b, `a#7` for a 3-attempt probe) would silently script
// nothing and let the case pass.
void check_response_keys(const Reader& r, const std::vector<ProbeSpec>& probes) {
  std::string names;
  for (const auto& p : probes) names += (names.empty() ? "" : ", ") + p.name;
  for (const auto& item : r.at("responses").items()) {
    const std::string& key = item.key();
    if (key == "*") continue;
    const std::string at = "responses/" + key;
    const auto hash = key.rfind('#');
    if (hash == std::string::npos)
      r.fail(at, "can match no attempt: expected PROBE#INDEX, PROBE#* or *");
    const std::string probe = key.substr(0, hash), index = key.substr(hash + 1);
    const auto it = std::find_if(probes.begin(), probes.end(), [&](const ProbeSpec& p) { return p.name == probe; });
    if (it == probes.end()) r.fail(at, "can match no attempt: there is no probe \"" + probe + "\" (probes: " + names + ")");
    if (index == "*") continue;
    const bool digits = !index.empty() && index.size() < 6 &&
                        std::all_of(index.begin(), index.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (!digits) r.fail(at, "can match no attempt: expected an attempt index or * after '#', got \"" + index + "\"");
    if (std::stoi(index) >= it->attempts)
      r.fail(at, "can match no attempt: probe \"" + probe + "\" has " + std::to_string(it->attempts) +
                     " attempt(s), " + probe + "#0 to " + probe + "#" + std::to_string(it->attempts - 1));
  }
}

}  // namespace

bool RetryPolicy::retries_status(int status) const {
  return std::find(statuses.begin(), statuses.end(), status) != statuses.end();
}

nlohmann::json to_json(const RetryPolicy& p) {
  json on = json::array();
  for (int s : p.statuses) on.push_back(s);
  if (p.on_connection) on.push_back("connection");
  if (p.on_timeout) on.push_back("timeout");
  if (p.on_decode) on.push_back("decode");
  return {{"max_tries", p.max_tries ? json(*p.max_tries) : json(nullptr)},
          {"retry_on", on},
          {"honor_retry_after", p.honor_retry_after},
          {"max_delay_s", p.max_delay_s}};
}

std::string_view name(Mode m) { return m == Mode::N ? "n" : "loop"; }

namespace {
struct StartMethodRow {
  StartMethod method;
  std::string_view name;
};
constexpr StartMethodRow kStartMethods[] = {
    {StartMethod::Fork, "fork"}, {StartMethod::Spawn, "spawn"}, {StartMethod::Forkserver, "forkserver"}};
}  // namespace

std::string_view name(StartMethod m) {
  for (const auto& row : kStartMethods)
    if (row.method == m) return row.name;
  return "?";
}

std::optional<StartMethod> start_method_from_name(std::string_view text) {
  for (const auto& row : kStartMethods)
    if (row.name == text) return row.method;
  return std::nullopt;
}

Verdict Scenario::expected_for(const std::string& sut, const std::string& case_id) const {
  const std::string tail = case_id.size() > name.size() + 1 ? case_id.substr(name.size() + 1) : case_id;
  for (const std::string& who : {sut, std::string("default")}) {
    const auto it = expect.find(who);
    if (it == expect.end()) continue;
    const std::pair<const std::string, Verdict>* best = nullptr;
    for (const auto& entry : it->second)
      if (::fnmatch(entry.first.c_str(), tail.c_str(), 0) == 0 && (!best || entry.first.size() > best->first.size()))
        best = &entry;
    if (best) return best->second;
  }
  return Verdict::Pass;
}

namespace {

// A non-empty array FIELD (ALL says what it holds), each element read by
// READ (nullopt: not ONE); with UNIQUE, no element twice.
template <class T, class Read>
std::vector<T> list_field(const Reader& r, const char* field, const std::string& all, const std::string& one, Read read,
                          bool unique = false) {
  const auto& list = r.at(field);
  if (!list.is_array() || list.empty()) r.fail(field, "expected a non-empty array of " + all);
  std::vector<T> out;
  for (std::size_t i = 0; i < list.size(); ++i) {
    const std::string at = std::string(field) + "/" + std::to_string(i);
    const std::optional<T> v = read(list[i]);
    if (!v) r.fail(at, "expected " + one + ", got " + list[i].dump());
    if (unique && std::find(out.begin(), out.end(), *v) != out.end()) r.fail(at, list[i].dump() + " appears twice");
    out.push_back(*v);
  }
  return out;
}

std::vector<ProbeSpec> parse_probes(const Reader& r) {
  if (!r.has("probes")) r.fail("probes", "missing; expected an array of {\"name\", \"attempts\"}");
  const auto& probes = r.at("probes");
  if (!probes.is_array() || probes.empty()) r.fail("probes", "expected a non-empty array of probes");
  std::vector<ProbeSpec> out;
  std::set<std::string> seen;
  for (std::size_t i = 0; i < probes.size(); ++i) {
    Reader p(probes[i], r.file(), "/probes/" + std::to_string(i));
    p.only({"name", "attempts"});
    ProbeSpec probe{p.string("name", true), p.integer("attempts", 1, 1000, 1)};
    if (!valid_name(probe.name)) p.fail("name", "expected letters, digits, '_', '-' or '.', got \"" + probe.name + "\"");
    if (!seen.insert(probe.name).second) p.fail("name", "probe \"" + probe.name + "\" appears twice");
    out.push_back(probe);
  }
  return out;
}

// generations x multi_generation x start_methods: the cases.
void parse_dimensions(const Reader& r, Scenario& s) {
  if (r.has("generations"))
    s.generations = list_field<int>(r, "generations", "integers 1-128", "an integer 1-128", [](const json& v) {
      return v.is_number_integer() && v.get<int>() >= 1 && v.get<int>() <= 128 ? std::optional(v.get<int>())
                                                                               : std::nullopt;
    });
  if (r.has("multi_generation"))
    s.modes = list_field<Mode>(r, "multi_generation", "\"n\" and \"loop\"", "\"n\" or \"loop\"", [](const json& v) {
      return v == "n" ? std::optional(Mode::N) : v == "loop" ? std::optional(Mode::Loop) : std::nullopt;
    });
  if (r.has("start_methods"))
    s.start_methods = list_field<StartMethod>(
        r, "start_methods", "\"fork\", \"spawn\" and \"forkserver\"", "\"fork\", \"spawn\" or \"forkserver\"",
        [](const json& v) { return v.is_string() ? start_method_from_name(v.get<std::string>()) : std::nullopt; },
        true);
}

void parse_responses(const Reader& r, Scenario& s) {
  if (!r.has("responses")) return;
  try {
    s.responses = mock::responses_from_json(r.at("responses"), "/responses");
  } catch (const mock::ScriptError& e) {
    throw InputError(r.file() + ": " + e.what());
  }
  s.responses_json = r.at("responses");
  check_response_keys(r, s.probes);
}

// {"SUT": "VERDICT"} or {"SUT": {"CASE GLOB": "VERDICT", ...}}.
void parse_expect(const Reader& r, Scenario& s) {
  if (!r.has("expect")) return;
  Reader e(r.at("expect"), r.file(), "/expect");
  auto verdict = [&](const json& v, const std::string& field) {
    const auto parsed = v.is_string() ? verdict_from_name(v.get<std::string>()) : std::nullopt;
    if (!parsed) e.fail(field, "expected a verdict (" + verdict_names() + "), got " + v.dump());
    return *parsed;
  };
  for (const auto& item : r.at("expect").items()) {
    const std::string& sut = item.key();
    if (!item.value().is_object()) {
      s.expect[sut]["*"] = verdict(item.value(), sut);
      continue;
    }
    if (item.value().empty()) e.fail(sut, "expected a verdict, or an object of case-id globs to verdicts");
    for (const auto& [glob, v] : item.value().items()) s.expect[sut][glob] = verdict(v, sut + "/" + glob);
  }
}

}  // namespace

Scenario parse_scenario(const json& j, const std::string& file) {
  Reader r(j, file, "");
  r.only({"name", "description", "probes", "parallel_attempts", "generations", "multi_generation", "start_methods",
          "endpoint", "retry", "timeout_s", "request_timeout_s", "responses", "differential", "expect", "finding"});
  Scenario s;
  s.file = file;
  s.name = r.string("name", true);
  if (!valid_name(s.name)) r.fail("name", "expected letters, digits, '_', '-' or '.', got \"" + s.name + "\"");
  s.description = r.string("description", false);
  s.probes = parse_probes(r);
  s.parallel_attempts = r.integer("parallel_attempts", 1, 256, 1);
  parse_dimensions(r, s);
  if (r.has("endpoint")) {
    const std::string endpoint = r.string("endpoint", false);
    const auto parsed = mock::endpoint_from_name(endpoint);
    if (!parsed)
      r.fail("endpoint", "expected \"chat\", \"completions\", \"embeddings\" or \"responses\", got \"" + endpoint + "\"");
    s.endpoint = *parsed;
  }
  s.retry = parse_retry(r);
  s.timeout_s = r.number("timeout_s", 0.1, 3600, 30);
  s.request_timeout_s = r.number("request_timeout_s", 0.05, 600, std::clamp(s.timeout_s / 10, 0.2, 2.0));
  parse_responses(r, s);
  s.differential = r.boolean("differential", false);
  parse_expect(r, s);
  // Where a fuzz finding came from (xph merge reads it; a run ignores it).
  if (r.has("finding") && !r.at("finding").is_object()) r.fail("finding", "expected an object");
  return s;
}

Scenario load_scenario(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw InputError(path.string() + ": cannot read file");
  std::stringstream text;
  text << in.rdbuf();
  json j;
  try {
    j = json::parse(text.str());
  } catch (const json::parse_error& e) {
    // nlohmann says "[json.exception.parse_error.101] parse error at line 3, column 5: ..."
    std::string what = e.what();
    const auto at = what.find("parse error");
    throw InputError(path.string() + ": not valid JSON: " + (at == std::string::npos ? what : what.substr(at)));
  }
  return parse_scenario(j, path.string());
}

std::vector<std::filesystem::path> scenario_files(const std::vector<std::string>& paths) {
  std::vector<std::filesystem::path> out;
  for (const auto& p : paths) {
    const std::filesystem::path path(p);
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) {
      std::vector<std::filesystem::path> found;
      for (const auto& entry : std::filesystem::recursive_directory_iterator(path))
        if (entry.is_regular_file() && entry.path().extension() == ".json") found.push_back(entry.path());
      std::sort(found.begin(), found.end());
      if (found.empty()) throw InputError(p + ": no scenario files (*.json) in this folder");
      out.insert(out.end(), found.begin(), found.end());
    } else if (std::filesystem::exists(path, ec)) {
      out.push_back(path);
    } else {
      throw InputError(p + ": no such file or folder");
    }
  }
  return out;
}

std::vector<Case> expand(const Scenario& s) {
  std::vector<Case> cases;
  for (int g : s.generations)
    for (Mode m : s.modes)
      for (StartMethod method : s.start_methods) {
        std::string id = s.name + "/g" + std::to_string(g) + "/" + std::string(name(m));
        if (s.start_methods.size() > 1) id += "/" + std::string(name(method));
        cases.push_back({&s, g, m, s.probes, id, method});
      }
  return cases;
}

Case alone(const Case& c, const ProbeSpec& probe) {
  Case out = c;
  out.probes = {probe};
  out.id = c.id + "~alone:" + probe.name;
  return out;
}

}  // namespace xph::harness
