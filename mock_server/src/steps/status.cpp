// STATUS[:CODE][@SECONDS]: a completion for 2xx, an OpenAI error otherwise.
#include <cmath>

#include "../openai.hpp"
#include "../step_kinds.hpp"

namespace xph::mock {

void serve_status(const Step& step, const Turn& turn, Exchange& ex) {
  if (step.status < 300) {
    if (turn.stream)
      ex.send_events(step.status, openai::completion_events(turn, turn.n), true);
    else
      ex.send(step.status, "application/json", openai::completion(turn, turn.n));
    return;
  }
  HeaderList headers;
  if (step.retry_after_s) {
    const double s = *step.retry_after_s;
    headers.emplace_back("retry-after", std::to_string(static_cast<long>(std::ceil(s))));
    headers.emplace_back("retry-after-ms", std::to_string(static_cast<long>(std::llround(s * 1000))));
  }
  if (step.status == 429) {
    const double reset = step.retry_after_s.value_or(1.0);
    headers.emplace_back("x-ratelimit-limit-requests", "60");
    headers.emplace_back("x-ratelimit-remaining-requests", "0");
    headers.emplace_back("x-ratelimit-reset-requests", std::to_string(static_cast<long>(std::llround(reset * 1000))) + "ms");
  }
  const std::string message = "xph: scripted " + std::to_string(step.status) +
                              (step.code ? " " + *step.code : std::string()) + " for " + turn.key +
                              " (request " + std::to_string(turn.k) + ")";
  // OpenAI answers errors as JSON even when the request asked for a stream.
  ex.send(step.status, "application/json",
          openai::error_body(message, openai::error_type(step.status, step.code), step.code), std::move(headers));
}

}  // namespace xph::mock
