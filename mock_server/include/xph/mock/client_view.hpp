// What a client (an OpenAI SDK) makes of the answer a step gives: the reading
// the harness's oracle judges a SUT against, kept beside the code that sends
// the answer so the two cannot drift apart.
//
//   auto v = xph::mock::client_view(xph::mock::parse_step("slow@2"),
//                                   {.key = "p#0", .k = 1, .n = 2, .request_timeout_s = 1.0});
//   // v.kind == Seen::Timeout: the client gave up before the answer came
//   auto ok = xph::mock::client_view(xph::mock::Step{}, {.key = "p#0", .k = 1, .n = 2});
//   // ok.outputs == {"xph:p#0:r1:c0", "xph:p#0:r1:c1"}
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "xph/mock/endpoint.hpp"
#include "xph/mock/step.hpp"

namespace xph::mock {

// The contract's error kinds (section 4), and Ok.
enum class Seen { Ok, Http, Connection, Timeout, Decode };
std::string_view name(Seen);  // "ok", "http", "connection", "timeout", "decode"

// The request as the client made it: what the journal entry of that request
// holds (key, k, path, n, stream) and the client's own request timeout.
struct ViewContext {
  std::string key = "_";
  long k = 0;
  Endpoint endpoint = Endpoint::Chat;
  int n = 1;             // choices asked; for embeddings, the number of inputs
  bool stream = false;   // ignored on endpoints that do not stream (embeddings)
  double request_timeout_s = 30;
};

struct ClientView {
  Seen kind = Seen::Ok;
  std::optional<int> status;        // Http: the status; null for an error inside a 200 stream
  std::optional<std::string> code;  // Http: error.code
  // Ok only: the exact text each choice carries, in order; nullopt for a
  // choice with no text (a tool call).
  std::vector<std::optional<std::string>> outputs;

  bool operator==(const ClientView&) const = default;
};

ClientView client_view(const Step&, const ViewContext&);

}  // namespace xph::mock
