// STATUS[:CODE][@SECONDS][="TEXT"]: the endpoint's answer for 2xx (carrying
// TEXT instead of the label when given), OpenAI's error otherwise.
#include <cmath>

#include "steps.hpp"

namespace xph::mock {
namespace {

HeaderList error_headers(const Step& step) {
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
  return headers;
}

}  // namespace

void send_answer(int status, const Turn& turn, const openai::Reply& reply, Exchange& ex) {
  if (turn.stream)
    ex.send_events(status, openai::answer_events(turn, reply), StreamEnd::Finish);
  else
    ex.send(status, "application/json", openai::answer(turn, reply));
}

void serve_status(const Step& step, const Turn& turn, Exchange& ex) {
  if (step.status < 300) return send_answer(step.status, turn, openai::reply_of(step, turn), ex);
  const std::string message = "xph: scripted " + std::to_string(step.status) +
                              (step.code ? " " + *step.code : std::string()) + " for " + turn.key +
                              " (request " + std::to_string(turn.k) + ")";
  // OpenAI answers errors as JSON even when the request asked for a stream.
  ex.send(step.status, "application/json",
          openai::error_body(message, openai::error_type(step.status, step.code), step.code), error_headers(step));
}

ClientView view_status(const Step& step, const ViewContext& ctx) {
  if (step.status >= 300) return {Seen::Http, step.status, step.code, {}};
  return openai::answered(ctx, openai::reply_of(step, openai::turn_of(ctx)));
}

}  // namespace xph::mock
