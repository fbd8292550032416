// Scenario files (contract section 3): loaded, validated, expanded to cases.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "xph/harness/model/errors.hpp"
#include "xph/harness/model/verdict.hpp"
#include "xph/mock/endpoint.hpp"
#include "xph/mock/step.hpp"

namespace xph::harness {

struct ProbeSpec {
  std::string name;
  int attempts = 1;
  bool operator==(const ProbeSpec&) const = default;
};

struct RetryPolicy {
  std::optional<int> max_tries = 3;  // requests per generation call; null: no limit
  std::vector<int> statuses = {408, 409, 429, 500, 502, 503, 504};
  bool on_connection = true, on_timeout = true, on_decode = false;
  bool honor_retry_after = true;
  double max_delay_s = 0.05;

  bool retries_status(int status) const;
  bool operator==(const RetryPolicy&) const = default;
};
nlohmann::json to_json(const RetryPolicy&);

enum class Mode { N, Loop };
std::string_view name(Mode);

// How a Python SUT starts its pool workers (multiprocessing's start method).
enum class StartMethod { Fork, Spawn, Forkserver };
std::string_view name(StartMethod);
std::optional<StartMethod> start_method_from_name(std::string_view);

struct Scenario {
  std::string file;  // where it came from, for messages and replay lines
  std::string name;
  std::string description;
  std::vector<ProbeSpec> probes;
  int parallel_attempts = 1;
  std::vector<int> generations = {1};
  std::vector<Mode> modes = {Mode::N};
  std::vector<StartMethod> start_methods = {StartMethod::Fork};
  mock::Endpoint endpoint = mock::Endpoint::Chat;
  RetryPolicy retry;
  double timeout_s = 30;
  double request_timeout_s = 2;  // extension: per-request client timeout in the spec
  mock::Responses responses = {{"*", mock::Script{{mock::Step{}}}}};
  nlohmann::json responses_json = {{"*", "200"}};
  bool differential = false;
  // SUT name (or "default") -> case-id globs (over the id after "NAME/", as
  // "g1/*" or "*/spawn"; a plain verdict is "*") -> the verdict expected.
  std::map<std::string, std::map<std::string, Verdict>> expect;

  // The most specific expectation: the SUT's own before "default", and of
  // its globs the longest that matches the case; PASS when none.
  Verdict expected_for(const std::string& sut, const std::string& case_id) const;
};

// One run of a SUT: a scenario at one generations value and mode. A
// differential rerun keeps the id's scenario but runs one probe alone.
struct Case {
  const Scenario* scenario = nullptr;
  int generations = 1;
  Mode mode = Mode::N;
  std::vector<ProbeSpec> probes;
  std::string id;  // NAME/g<G>/<mode>, plus /<start method> when the scenario has several
  StartMethod start_method = StartMethod::Fork;
  std::string keep_name;  // what --keep names its folder after, when not the id (fuzz: its seed and index)
};

Scenario parse_scenario(const nlohmann::json&, const std::string& file);
Scenario load_scenario(const std::filesystem::path&);
// Files given, or every *.json under folders given, in name order.
std::vector<std::filesystem::path> scenario_files(const std::vector<std::string>& paths);
std::vector<Case> expand(const Scenario&);
// The case run with one probe alone (for `differential`).
Case alone(const Case&, const ProbeSpec&);

}  // namespace xph::harness
