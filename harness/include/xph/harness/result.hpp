// The SUT's result file (contract section 4), read strictly: anything that
// breaks the protocol is an error with a JSON pointer.
#pragma once

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace xph::harness {

struct ErrorEnvelope {
  std::string kind;  // http | connection | timeout | decode
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

struct SutFailure {
  std::string stage;  // dispatch | result | worker | other
  std::string probe, message, traceback;
};

struct SutResult {
  std::string sut;
  std::vector<AttemptOutcome> attempts;
  std::vector<SutFailure> failures;
};

class ProtocolError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

SutResult parse_result(const nlohmann::json&);  // throws ProtocolError "/attempts/2/pid: ..."

}  // namespace xph::harness
