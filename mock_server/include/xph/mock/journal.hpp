// One entry per request the server answered (or refused to answer): what
// came in, which step it met, what went out.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json_fwd.hpp>

namespace xph::mock {

struct JournalEntry {
  std::uint64_t seq = 0;
  double t_ms = 0;                       // arrival, since the server started
  std::string tenant;                    // bearer token, "" when none
  std::optional<std::string> key;        // attempt key; null for unscripted routes
  std::optional<long> k;                 // index of this request for its key
  std::string method;
  std::string path;
  std::optional<std::string> model;
  int n = 1;
  bool stream = false;
  std::optional<std::string> step;       // DSL of the step served
  std::optional<int> status;             // null when a fault sent none
  std::optional<std::string> fault;      // step kind name for non-status steps
  std::string request_id;
  double duration_ms = 0;

  bool operator==(const JournalEntry&) const = default;
};

void to_json(nlohmann::json&, const JournalEntry&);
void from_json(const nlohmann::json&, JournalEntry&);

}  // namespace xph::mock
