// What a step may do to one HTTP exchange. Steps see only this interface;
// httplib_exchange.cpp is the one file that touches sockets and httplib.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "xph/mock/endpoint.hpp"

namespace xph::mock {

// The request as a step sees it.
struct Turn {
  std::string key;
  long k = 0;
  Endpoint endpoint = Endpoint::Chat;
  std::string model;
  int n = 1;                        // choices; embeddings: inputs; responses: 1
  bool stream = false;              // false on endpoints that do not stream
  std::string id;                   // unique per request: completion, response and call ids
  std::int64_t created = 0;         // unix seconds
  std::optional<std::string> tool;  // the first tool the request offers
  bool base64 = false;              // embeddings: encoding_format "base64"
};

using HeaderList = std::vector<std::pair<std::string, std::string>>;

// One server-sent event: `event: NAME` (when named) and `data: DATA`.
struct SseEvent {
  std::string event;
  std::string data;
  bool content = false;  // carries a piece of the answer: what `stream_error:K` counts
};

// How a stream ends after its last event.
enum class StreamEnd {
  Finish,  // the chunked body ends properly
  Cut,     // the connection closes with the body unfinished
  Reset,   // TCP RST once the events are delivered
};

class Exchange {
 public:
  virtual ~Exchange() = default;
  virtual void send(int status, std::string content_type, std::string body, HeaderList headers = {}) = 0;
  virtual void send_events(int status, std::vector<SseEvent> events, StreamEnd end) = 0;
  // Announces `declared` bytes, sends `body` (shorter), then closes.
  virtual void send_truncated(int status, std::string content_type, std::string body,
                              std::size_t declared) = 0;
  virtual void reset() = 0;  // TCP RST, nothing sent
  virtual void drop() = 0;   // FIN, nothing sent
  // Holds the exchange until the client goes away, the server's hang bound
  // passes, or the server stops; sends nothing.
  virtual void hold() = 0;
  // Waits, or returns early when the client goes away or the server stops.
  virtual void pause(std::chrono::milliseconds) = 0;
};

}  // namespace xph::mock
