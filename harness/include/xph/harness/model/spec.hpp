// The run spec a SUT reads (contract section 4) and the prompt of each attempt.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "xph/harness/model/scenario.hpp"

namespace xph::harness {

nlohmann::json make_spec(const Case&, const std::string& base_url, const std::string& api_key);
// The prompt of attempt PROBE#I: it carries `[xph:PROBE#I]`, the mock's attempt key.
std::string prompt_text(const Case&, const std::string& attempt_id);

}  // namespace xph::harness
