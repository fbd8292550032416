#pragma once

#include <optional>

#include <httplib.h>

#include "exchange.hpp"
#include "stop_signal.hpp"

namespace xph::mock {

// The only place that touches httplib responses and raw sockets.
class HttplibExchange final : public Exchange {
 public:
  HttplibExchange(const httplib::Request& req, httplib::Response& res, const StopSignal& stop,
                  std::chrono::milliseconds hang_max)
      : req_(req), res_(res), stop_(stop), hang_max_(hang_max) {}

  void send(int status, std::string content_type, std::string body, HeaderList headers) override;
  void send_events(int status, std::vector<SseEvent> events, StreamEnd end) override;
  void send_truncated(int status, std::string content_type, std::string body, std::size_t declared) override;
  void reset() override;
  void drop() override;
  void hold() override;
  void pause(std::chrono::milliseconds d) override;

  std::optional<int> sent_status() const { return sent_; }

 private:
  void nothing_sent();
  void wait_while_client_stays(std::chrono::milliseconds);

  const httplib::Request& req_;
  httplib::Response& res_;
  const StopSignal& stop_;
  std::chrono::milliseconds hang_max_;
  std::optional<int> sent_;
};

// Called once a response is written. A client that writes a request's
// headers and body in two sends (httpx, so both OpenAI SDKs) without
// TCP_NODELAY waits for our ACK of the headers before sending the body; after
// a reply Linux delays that ACK up to 40 ms (delayed-ACK ping-pong mode), so
// every request after the first on a keep-alive connection would stall ~44 ms.
// Leaving ping-pong mode (TCP_QUICKACK) lets the kernel ACK the headers as we
// read them.
void acknowledge_next_request_promptly(const httplib::Request& req);

}  // namespace xph::mock
