// One entry per request the server answered (or refused to answer): what
// came in, which step it met, what went out.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "xph/mock/step.hpp"

namespace xph::mock {

struct JournalEntry {
  static constexpr std::size_t kMaxBody = 4096;  // bytes of the request body kept

  std::uint64_t seq = 0;
  double t_ms = 0;                       // arrival, since the server started
  std::string tenant;                    // bearer token, "" when none
  std::optional<std::string> key;        // attempt key; null for unscripted routes
  std::optional<long> k;                 // index of this request for its key
  std::string method;
  std::string path;
  std::optional<std::string> model;
  int n = 1;                             // choices asked; embeddings: inputs
  bool stream = false;
  std::optional<Step> step;              // the step served; JSON: its canonical DSL
  std::optional<int> status;             // null when a fault sent none
  std::optional<std::string> fault;      // step kind name for non-status steps
  std::string request_id;
  double duration_ms = 0;
  std::string body;                      // the request body's first kMaxBody bytes
  // The request headers a client library sets (lower-case names):
  // x-xph-key, user-agent, idempotency-key, x-stainless-*, openai-*.
  std::map<std::string, std::string> headers;

  bool operator==(const JournalEntry&) const = default;
};

void to_json(nlohmann::json&, const JournalEntry&);
// Throws nlohmann::json::exception for a missing field, ScriptError for a
// "step" that does not parse. "body" and "headers" may be absent (older files).
void from_json(const nlohmann::json&, JournalEntry&);

}  // namespace xph::mock
