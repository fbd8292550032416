#include "http_client.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>

namespace xph::refsut {
namespace {

using Clock = std::chrono::steady_clock;

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

struct Url {
  std::string host, port, prefix;
};

std::optional<Url> parse_url(const std::string& url) {
  constexpr std::string_view kScheme = "http://";
  if (url.rfind(kScheme, 0) != 0) return std::nullopt;
  const auto rest = url.substr(kScheme.size());
  const auto slash = rest.find('/');
  const auto authority = rest.substr(0, slash);
  const auto colon = authority.rfind(':');
  Url u;
  u.host = colon == std::string::npos ? authority : authority.substr(0, colon);
  u.port = colon == std::string::npos ? "80" : authority.substr(colon + 1);
  if (!u.host.empty() && u.host.front() == '[') u.host = u.host.substr(1, u.host.size() - 2);
  u.prefix = slash == std::string::npos ? "" : rest.substr(slash);
  return u;
}

HttpResult fail(bool timed_out, std::string what) { return {std::nullopt, timed_out, std::move(what)}; }

int ms_left(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return static_cast<int>(std::max<long>(0, left));
}

// Waits for `events` on fd until the deadline: 1 ready, 0 timed out, -1 error.
int wait_for(int fd, short events, Clock::time_point deadline) {
  for (;;) {
    pollfd p{fd, events, 0};
    const int r = ::poll(&p, 1, ms_left(deadline));
    if (r < 0 && errno == EINTR) continue;
    return r;
  }
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

}  // namespace

namespace {

// A connected non-blocking socket, or why there is none.
std::optional<HttpResult> connect_to(const Url& url, Fd& sock, Clock::time_point deadline) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (::getaddrinfo(url.host.c_str(), url.port.c_str(), &hints, &found) != 0 || !found)
    return fail(false, "cannot resolve " + url.host);
  sock.fd = ::socket(found->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  const int rc = sock.fd < 0 ? -1 : ::connect(sock.fd, found->ai_addr, found->ai_addrlen);
  ::freeaddrinfo(found);
  if (sock.fd < 0) return fail(false, "socket() failed");
  if (rc != 0 && errno != EINPROGRESS) return fail(false, std::string("connect: ") + std::strerror(errno));
  if (rc != 0) {
    const int w = wait_for(sock.fd, POLLOUT, deadline);
    if (w == 0) return fail(true, "connect timed out");
    int err = 0;
    socklen_t len = sizeof err;
    ::getsockopt(sock.fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (w < 0 || err != 0) return fail(false, std::string("connect: ") + std::strerror(err ? err : errno));
  }
  const int one = 1;
  ::setsockopt(sock.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return std::nullopt;
}

std::optional<HttpResult> send_all(int fd, const std::string& request, Clock::time_point deadline) {
  for (std::size_t off = 0; off < request.size();) {
    const ssize_t n = ::send(fd, request.data() + off, request.size() - off, MSG_NOSIGNAL);
    if (n > 0) {
      off += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      const int w = wait_for(fd, POLLOUT, deadline);
      if (w == 0) return fail(true, "send timed out");
      if (w < 0) return fail(false, "send failed");
      continue;
    }
    return fail(false, std::string("send: ") + std::strerror(errno));
  }
  return std::nullopt;
}

// Reads until the headers and Content-Length bytes of body are in, or EOF.
std::optional<HttpResult> read_all(int fd, std::string& in, std::size_t& header_end,
                                   std::optional<std::size_t>& content_length, Clock::time_point deadline) {
  char buf[16384];
  for (;;) {
    if (header_end && content_length && in.size() >= header_end + *content_length) return std::nullopt;
    const int w = wait_for(fd, POLLIN, deadline);
    if (w == 0) return fail(true, "read timed out");
    if (w < 0) return fail(false, "poll failed");
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (n < 0) return fail(false, std::string("recv: ") + std::strerror(errno));
    if (n == 0) {
      if (!header_end) return fail(false, in.empty() ? "server closed the connection without a response"
                                                     : "server closed the connection mid-headers");
      if (content_length) return fail(false, "server closed the connection before the whole body");
      return std::nullopt;  // no Content-Length: the body ends at close
    }
    in.append(buf, static_cast<std::size_t>(n));
    if (header_end) continue;
    const auto at = in.find("\r\n\r\n");
    if (at == std::string::npos) continue;
    header_end = at + 4;
    const auto cl = lower(in.substr(0, at)).find("\r\ncontent-length:");
    if (cl != std::string::npos) content_length = std::strtoul(in.c_str() + cl + 17, nullptr, 10);
  }
}

HttpResult parse_response(const std::string& in, std::size_t header_end, std::optional<std::size_t> content_length) {
  HttpResponse res;
  if (in.size() < 12 || in.compare(0, 5, "HTTP/") != 0) return fail(false, "not an HTTP response");
  res.status = std::atoi(in.c_str() + 9);
  std::size_t line = in.find("\r\n") + 2;
  while (line < header_end - 2) {
    const auto end = in.find("\r\n", line);
    const auto colon = in.find(':', line);
    if (colon != std::string::npos && colon < end) {
      std::string value = in.substr(colon + 1, end - colon - 1);
      value.erase(0, value.find_first_not_of(' '));
      res.headers[lower(in.substr(line, colon - line))] = value;
    }
    line = end + 2;
  }
  res.body = in.substr(header_end, content_length.value_or(in.size() - header_end));
  return {std::move(res), false, ""};
}

}  // namespace

HttpResult http_post(const std::string& base_url, const std::string& path, const std::string& bearer,
                     const std::string& body, double timeout_s) {
  const auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(timeout_s));
  const auto url = parse_url(base_url);
  if (!url) return fail(false, "unsupported base URL " + base_url);
  Fd sock;
  if (auto failed = connect_to(*url, sock, deadline)) return *failed;
  const std::string request = "POST " + url->prefix + path + " HTTP/1.1\r\nHost: " + url->host + ":" + url->port +
                              "\r\nAuthorization: Bearer " + bearer +
                              "\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: " +
                              std::to_string(body.size()) + "\r\n\r\n" + body;
  if (auto failed = send_all(sock.fd, request, deadline)) return *failed;
  std::string in;
  std::size_t header_end = 0;
  std::optional<std::size_t> content_length;
  if (auto failed = read_all(sock.fd, in, header_end, content_length, deadline)) return *failed;
  return parse_response(in, header_end, content_length);
}

}  // namespace xph::refsut
