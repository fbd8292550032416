// What a step may do to one HTTP exchange. Steps see only this interface;
// httplib_exchange.cpp is the one file that touches sockets and httplib.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

namespace xph::mock {

enum class Endpoint { Chat, Completions };

// The request as a step sees it.
struct Turn {
  std::string key;
  long k = 0;
  Endpoint endpoint = Endpoint::Chat;
  std::string model;
  int n = 1;
  bool stream = false;
};

using HeaderList = std::vector<std::pair<std::string, std::string>>;

class Exchange {
 public:
  virtual ~Exchange() = default;
  virtual void send(int status, std::string content_type, std::string body, HeaderList headers = {}) = 0;
  // Server-sent events, each `data: EVENT`. With finish, a `data: [DONE]`
  // and a proper end; without, the stream is cut after the last event.
  virtual void send_events(int status, std::vector<std::string> events, bool finish) = 0;
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
