#include "xph/harness/model/spec.hpp"

namespace xph::harness {

using nlohmann::json;

std::string prompt_text(const Case& c, const std::string& attempt_id) {
  return "xph probe attempt " + attempt_id + " of " + c.id + ". Say anything. [xph:" + attempt_id + "]";
}

json make_spec(const Case& c, const std::string& base_url, const std::string& api_key) {
  const Scenario& s = *c.scenario;
  json probes = json::array();
  for (const auto& p : c.probes) {
    json prompts = json::array();
    for (int i = 0; i < p.attempts; ++i) {
      const std::string id = p.name + "#" + std::to_string(i);
      prompts.push_back({{"id", id}, {"text", prompt_text(c, id)}});
    }
    probes.push_back({{"name", p.name}, {"prompts", prompts}});
  }
  return {{"xph", 1},
          {"base_url", base_url + "/v1"},
          {"api_key", api_key},
          {"model", "xph-mock"},
          {"endpoint", mock::name(s.endpoint)},
          {"generations", c.generations},
          {"multi_generation", name(c.mode)},
          {"start_method", name(c.start_method)},
          {"parallel_attempts", s.parallel_attempts},
          {"retry", to_json(s.retry)},
          {"request_timeout_s", s.request_timeout_s},
          {"probes", probes}};
}

}  // namespace xph::harness
