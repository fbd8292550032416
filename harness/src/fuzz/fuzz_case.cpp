#include <sstream>

#include "xph/harness/fuzz/fuzz_case.hpp"

namespace xph::harness {

int FuzzCase::total_attempts() const {
  int n = 0;
  for (const auto& p : probes) n += p.attempts;
  return n;
}

nlohmann::json FuzzCase::to_json(const std::string& name, const std::string& description,
                                 const std::map<std::string, std::string>& expect) const {
  nlohmann::json probes_json = nlohmann::json::array();
  for (const auto& p : probes) probes_json.push_back({{"name", p.name}, {"attempts", p.attempts}});
  nlohmann::json responses = {{"*", "200"}};
  for (const auto& [k, script] : scripts) responses[k] = mock::to_string(script);
  nlohmann::json j = {{"name", name},
                      {"description", description},
                      {"probes", probes_json},
                      {"parallel_attempts", parallel_attempts},
                      {"generations", {generations}},
                      {"multi_generation", {std::string(xph::harness::name(mode))}},
                      {"retry", harness::to_json(retry)},
                      // Of the SUT's own time (a busy machine stretches it):
                      // a correct SUT ends a case in a second or two, and
                      // garak, retrying without end, is HANG after 10 s as
                      // surely as after 30.
                      {"timeout_s", 10},
                      {"request_timeout_s", request_timeout_s},
                      {"responses", responses}};
  if (start_method != StartMethod::Fork) j["start_methods"] = {std::string(xph::harness::name(start_method))};
  if (!expect.empty()) j["expect"] = expect;
  return j;
}

std::string FuzzCase::summary() const {
  std::ostringstream s;
  s << probes.size() << " probe(s) (";
  for (std::size_t i = 0; i < probes.size(); ++i) s << (i ? ", " : "") << probes[i].name << " x" << probes[i].attempts;
  s << "), parallel_attempts " << parallel_attempts << ", g" << generations << "/" << name(mode);
  if (start_method != StartMethod::Fork) s << "/" << name(start_method);
  s << ", max_tries " << retry.max_tries.value_or(0) << ", responses";
  if (scripts.empty()) s << " all 200";
  for (const auto& [k, script] : scripts) s << " " << k << "=" << mock::to_string(script);
  return s.str();
}

}  // namespace xph::harness
