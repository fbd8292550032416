// The SUT's result file (contract section 4), read strictly: anything that
// breaks the protocol is an error with a JSON pointer.
#pragma once

#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "xph/mock/client_view.hpp"

namespace xph::harness {

// An error as the SUT reports it. `kind` is the client view's: http,
// connection, timeout or decode (never ok).
struct ErrorEnvelope {
  mock::Seen kind = mock::Seen::Http;
  std::optional<int> status;
  std::optional<std::string> type, code, message, request_id, exception;
};

struct AttemptOutcome {
  std::string probe, id;
  long pid = 0;
  bool ok = false;
  // A generation that produced nothing is null (garak's `[None]`).
  std::vector<std::optional<std::string>> outputs;
  ErrorEnvelope error;  // when !ok
};

// Where the SUT's own machinery broke: dispatch (a task could not be sent
// to a worker), result (a result could not be received), worker, other.
enum class Stage { Dispatch, Result, Worker, Other };
std::string_view name(Stage);
std::optional<Stage> stage_from_name(std::string_view);

struct SutFailure {
  Stage stage = Stage::Other;
  std::string probe, message, traceback;
};

struct SutResult {
  std::string sut;
  std::vector<AttemptOutcome> attempts;
  std::vector<SutFailure> failures;
  // The process that wrote the result (optional, an extension of contract
  // section 4): the SUT's own, which VACUOUS compares attempts' pids with.
  std::optional<long> pid;
};

class ProtocolError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

SutResult parse_result(const nlohmann::json&);  // throws ProtocolError "/attempts/2/pid: ..."
nlohmann::json to_json(const SutResult&);       // as the SUT wrote it (for reports)

}  // namespace xph::harness
