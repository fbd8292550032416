// A client that sees what a real peer sees on the wire: bytes, a clean close,
// or a reset. httplib's client would hide the difference.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <stdexcept>
#include <string>

namespace xph::test {

enum class Ending { Closed, Reset, TimedOut };

inline const char* to_string(Ending e) {
  switch (e) {
    case Ending::Closed: return "closed";
    case Ending::Reset: return "reset";
    case Ending::TimedOut: return "timed out";
  }
  return "?";
}

struct RawReply {
  std::string bytes;
  Ending ending = Ending::Closed;
  std::chrono::milliseconds elapsed{};
};

class RawClient {
 public:
  explicit RawClient(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
      throw std::runtime_error("connect failed");
  }
  ~RawClient() { close(); }
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;

  void send(const std::string& data) {
    std::size_t off = 0;
    while (off < data.size()) {
      const ssize_t n = ::send(fd_, data.data() + off, data.size() - off, MSG_NOSIGNAL);
      if (n <= 0) throw std::runtime_error("send failed");
      off += static_cast<std::size_t>(n);
    }
  }

  // Reads until the server closes, resets, or `limit` passes.
  RawReply read_all(std::chrono::milliseconds limit) {
    RawReply reply;
    const auto start = std::chrono::steady_clock::now();
    const auto deadline = start + limit;
    char buf[65536];
    for (;;) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) {
        reply.ending = Ending::TimedOut;
        break;
      }
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) == 0) continue;
      const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n > 0) {
        reply.bytes.append(buf, static_cast<std::size_t>(n));
        continue;
      }
      reply.ending = (n < 0 && errno == ECONNRESET) ? Ending::Reset : Ending::Closed;
      break;
    }
    reply.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
    return reply;
  }

  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

// A POST of a chat completion whose last user message carries [xph:KEY].
inline std::string chat_request(const std::string& key, const std::string& token = "t",
                                const std::string& extra = "", bool close = true) {
  const std::string body = R"({"model":"m",)" + extra + R"("messages":[{"role":"user","content":"hi [xph:)" + key + R"(]"}]})";
  return "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + token +
         "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" +
         (close ? "Connection: close\r\n" : "") + "\r\n" + body;
}

}  // namespace xph::test
