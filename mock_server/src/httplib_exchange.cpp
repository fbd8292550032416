#include "httplib_exchange.hpp"

#include <dirent.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <thread>

namespace xph::mock {
namespace {

int port_of(const sockaddr_storage& a) {
  if (a.ss_family == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in&>(a).sin_port);
  if (a.ss_family == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6&>(a).sin6_port);
  return -1;
}

// Put a fresh, unconnected socket where the connection was. Closing the old
// description sends FIN (or RST under SO_LINGER 0); httplib keeps its fd
// number, fails its writes on the fresh socket and closes it, never touching
// a number the process may have reused.
void replace_socket(int fd) {
  int fresh = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fresh < 0) throw std::runtime_error("socket() failed while cutting a connection");
  ::dup2(fresh, fd);
  ::close(fresh);
}

bool is_connection(int fd, int local_port, int remote_port) {
  sockaddr_storage local{}, peer{};
  socklen_t ll = sizeof local, pl = sizeof peer;
  return ::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &ll) == 0 && port_of(local) == local_port &&
         ::getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &pl) == 0 && port_of(peer) == remote_port;
}

// httplib hands a handler no socket; find it by the ports of this exchange.
int socket_fd(int local_port, int remote_port) {
  std::unique_ptr<DIR, int (*)(DIR*)> dir(::opendir("/proc/self/fd"), ::closedir);
  if (!dir) throw std::runtime_error("cannot list /proc/self/fd");
  while (const dirent* ent = ::readdir(dir.get())) {
    char* end = nullptr;
    const long fd = std::strtol(ent->d_name, &end, 10);
    if (end == ent->d_name || *end != '\0') continue;
    if (is_connection(static_cast<int>(fd), local_port, remote_port)) return static_cast<int>(fd);
  }
  throw std::runtime_error("connection socket not found among /proc/self/fd");
}

void abort_connection(int fd) {
  const linger abort_on_close{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &abort_on_close, sizeof abort_on_close);
  replace_socket(fd);
}

// An RST throws away what the peer has not yet acknowledged; wait (boundedly)
// until it has every byte sent, so the client sees the chunks, then the reset.
void wait_until_acknowledged(int fd) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  int unacked = 0;
  while (::ioctl(fd, SIOCOUTQ, &unacked) == 0 && unacked > 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

std::string frame(const SseEvent& e) {
  std::string out;
  if (!e.event.empty()) out += "event: " + e.event + "\n";
  out += "data: " + e.data + "\n\n";
  return out;
}

}  // namespace

void acknowledge_next_request_promptly(const httplib::Request& req) {
  // httplib serves a keep-alive connection on one thread, so one remembered
  // fd per thread finds it again with two syscalls, not a /proc scan.
  thread_local int cached = -1;
  if (cached < 0 || !is_connection(cached, req.local_port, req.remote_port)) {
    try {
      cached = socket_fd(req.local_port, req.remote_port);
    } catch (const std::runtime_error&) {
      cached = -1;  // closed already, or cut by a fault: nothing to speed up
      return;
    }
  }
  const int on = 1;
  ::setsockopt(cached, IPPROTO_TCP, TCP_QUICKACK, &on, sizeof on);
}

// httplib still writes a response after the handler; give it a harmless one
// (non-empty, so no error handler rewrites it) to fail on.
void HttplibExchange::nothing_sent() {
  res_.status = 200;
  res_.set_content("-", "text/plain");
  sent_.reset();
}

void HttplibExchange::send(int status, std::string content_type, std::string body, HeaderList headers) {
  res_.status = status;
  for (auto& [k, v] : headers) res_.set_header(k.c_str(), v);
  res_.set_content(std::move(body), content_type.c_str());
  sent_ = status;
}

void HttplibExchange::send_events(int status, std::vector<SseEvent> events, StreamEnd end) {
  res_.status = status;
  res_.set_header("cache-control", "no-cache");
  const int local = req_.local_port, remote = req_.remote_port;
  res_.set_chunked_content_provider(
      "text/event-stream", [events = std::move(events), end, local, remote](std::size_t, httplib::DataSink& sink) {
        for (const auto& e : events) {
          const std::string text = frame(e);
          if (!sink.write(text.data(), text.size())) return false;
        }
        if (end == StreamEnd::Reset) {
          try {  // this runs after the handler, where nothing would catch it
            const int fd = socket_fd(local, remote);
            wait_until_acknowledged(fd);
            abort_connection(fd);
          } catch (const std::exception&) {
            return false;  // the socket is gone already: the client saw the connection end
          }
        }
        if (end != StreamEnd::Finish) return false;  // cancel: the chunked body never ends
        sink.done();
        return true;
      });
  sent_ = status;
}

void HttplibExchange::send_truncated(int status, std::string content_type, std::string body, std::size_t declared) {
  res_.status = status;
  res_.set_content_provider(declared, content_type.c_str(),
                            [body = std::move(body)](std::size_t offset, std::size_t, httplib::DataSink& sink) {
                              if (offset >= body.size()) return false;  // cancel: fewer bytes than declared
                              return sink.write(body.data() + offset, body.size() - offset);
                            });
  sent_ = status;
}

void HttplibExchange::reset() {
  abort_connection(socket_fd(req_.local_port, req_.remote_port));
  nothing_sent();
}

void HttplibExchange::drop() {
  const int fd = socket_fd(req_.local_port, req_.remote_port);
  ::shutdown(fd, SHUT_RDWR);
  replace_socket(fd);
  nothing_sent();
}

// Both a hang and a slow answer end when their client leaves: its journal
// entry is then written at once, while the harness is still waiting for it.
void HttplibExchange::wait_while_client_stays(std::chrono::milliseconds how_long) {
  const int fd = socket_fd(req_.local_port, req_.remote_port);
  const auto deadline = std::chrono::steady_clock::now() + how_long;
  constexpr auto kSlice = std::chrono::milliseconds(50);
  while (!stop_.raised()) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) break;
    // Rounded up: a hang bounded at 600 ms must never answer at 599.
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - now);
    pollfd p{fd, POLLIN | POLLRDHUP, 0};
    const int r = ::poll(&p, 1, static_cast<int>(std::min(left, kSlice).count()));
    if (r < 0) break;
    if (r == 0) continue;
    if (p.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)) break;
    char c;
    if (::recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) == 0) break;  // client closed
    stop_.wait_for(std::min(left, kSlice));  // a pipelined request waits; it is not a goodbye
  }
}

void HttplibExchange::hold() {
  wait_while_client_stays(hang_max_);
  nothing_sent();
}

void HttplibExchange::pause(std::chrono::milliseconds d) { wait_while_client_stays(d); }

}  // namespace xph::mock
