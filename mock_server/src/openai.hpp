// OpenAI response shapes, filled from the canned bodies in fixtures/openai.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "exchange.hpp"

namespace xph::mock::openai {

// Choice i of request k for KEY says `xph:KEY:r<k>:c<i>`.
std::string choice_text(const Turn&, int i);
// A whole completion with `choices` choices (n, or 0 for the `empty` step).
std::string completion(const Turn&, int choices);
// The SSE events of a streamed completion, without the final [DONE].
std::vector<std::string> completion_events(const Turn&, int choices);
std::string_view error_type(int status, const std::optional<std::string>& code);
std::string error_body(std::string_view message, std::string_view type,
                       const std::optional<std::string>& code,
                       const std::optional<std::string>& param = std::nullopt);
std::string models();
std::string_view malformed_body();

}  // namespace xph::mock::openai
