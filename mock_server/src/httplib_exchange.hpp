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

}  // namespace xph::mock
