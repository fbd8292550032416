// The reference SUT's HTTP client: one POST per connection over a plain
// socket, with a deadline. A pool starts one xph-refsut per worker, so its
// start-up is on every case's path; cpp-httplib would bring OpenSSL, zlib
// and brotli into each of those processes (~70% of a fuzz run's CPU).
#pragma once

#include <map>
#include <optional>
#include <string>

namespace xph::refsut {

struct HttpResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;
};

struct HttpResult {
  std::optional<HttpResponse> response;
  bool timed_out = false;  // when no response: the deadline passed (else the connection failed)
  std::string error;
};

// base_url: "http://HOST:PORT/PREFIX"; path is appended to it.
HttpResult http_post(const std::string& base_url, const std::string& path, const std::string& bearer,
                     const std::string& body, double timeout_s);

}  // namespace xph::refsut
