#include "xph/mock/server.hpp"

#include <netdb.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <map>
#include <stdexcept>
#include <thread>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "admin_routes.hpp"
#include "elastic_pool.hpp"
#include "endpoints.hpp"
#include "httplib_exchange.hpp"
#include "openai.hpp"
#include "state.hpp"
#include "stop_signal.hpp"
#include "xph/mock/step_kinds.hpp"

namespace xph::mock {
namespace {

using nlohmann::json;

constexpr std::size_t kMaxThreads = 4096;
constexpr std::size_t kMaxHeaderValue = 256;

std::string bearer_token(const httplib::Request& req) {
  const std::string auth = req.get_header_value("Authorization");
  constexpr std::string_view kBearer = "Bearer ";
  return auth.rfind(kBearer, 0) == 0 ? auth.substr(kBearer.size()) : std::string();
}

std::optional<std::string> key_in(std::string_view text) {
  constexpr std::string_view kOpen = "[xph:";
  const auto open = text.rfind(kOpen);
  if (open == std::string_view::npos) return std::nullopt;
  const auto close = text.find(']', open + kOpen.size());
  if (close == std::string_view::npos || close == open + kOpen.size()) return std::nullopt;
  return std::string(text.substr(open + kOpen.size(), close - open - kOpen.size()));
}

// The headers a client library sets about itself and its retries.
bool journaled_header(const std::string& lower) {
  return lower == "x-xph-key" || lower == "user-agent" || lower == "idempotency-key" ||
         lower.rfind("x-stainless-", 0) == 0 || lower.rfind("openai-", 0) == 0;
}

std::map<std::string, std::string> client_headers(const httplib::Request& req) {
  std::map<std::string, std::string> out;
  for (const auto& [name, value] : req.headers) {
    std::string lower = name;
    for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (journaled_header(lower)) out[lower] = value.substr(0, kMaxHeaderValue);
  }
  return out;
}

// What the journal knows of a request before it is read.
JournalEntry arrival(const httplib::Request& req, const httplib::Response& res, double t_ms) {
  JournalEntry entry;
  entry.t_ms = t_ms;
  entry.tenant = bearer_token(req);
  entry.method = req.method;
  entry.path = req.path;
  entry.request_id = res.get_header_value("x-request-id");
  entry.body = req.body.substr(0, JournalEntry::kMaxBody);
  entry.headers = client_headers(req);
  return entry;
}

// The request as the endpoint reads it; the key from its text, else
// X-Xph-Key, else `_`.
Turn read_turn(const json& body, const EndpointRow& ep, const httplib::Request& req, const std::string& request_id) {
  Turn turn;
  turn.endpoint = ep.endpoint;
  turn.model = body["model"].get<std::string>();
  const std::string text = ep.read(body, turn);
  if (auto key = key_in(text))
    turn.key = *key;
  else
    turn.key = req.has_header("X-Xph-Key") ? req.get_header_value("X-Xph-Key") : "_";
  turn.id = request_id.rfind("req_", 0) == 0 ? request_id.substr(4) : request_id;
  turn.created = std::chrono::duration_cast<std::chrono::seconds>(
                     std::chrono::system_clock::now().time_since_epoch()).count();
  return turn;
}

// Why `host:port` cannot be bound, asked of the system directly: httplib
// only says that it failed.
std::string bind_failure(const std::string& host, int port) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  if (const int rc = ::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found); rc != 0)
    return ::gai_strerror(rc);
  std::string reason = "the system refused the address";
  for (const addrinfo* a = found; a; a = a->ai_next) {
    const int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) {
      reason = std::strerror(errno);
      continue;
    }
    const int on = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    if (::bind(fd, a->ai_addr, a->ai_addrlen) != 0 || ::listen(fd, 1) != 0) reason = std::strerror(errno);
    ::close(fd);
  }
  ::freeaddrinfo(found);
  return reason;
}

std::string openai_error_for(int status, const httplib::Request& req) {
  switch (status) {
    case 404:
      return openai::error_body("Unknown request URL: " + req.method + " " + req.path + ".",
                                "invalid_request_error", "unknown_url");
    case 413:
      return openai::error_body("Request body too large.", "invalid_request_error", "request_too_large");
    default:
      return openai::error_body("The server could not handle this request (HTTP " + std::to_string(status) + ").",
                                openai::error_type(status, std::nullopt), std::nullopt);
  }
}

}  // namespace

bool is_loopback(const std::string& host) {
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

struct Server::Impl {
  explicit Impl(ServerOptions o) : options(std::move(o)), state(options.responses, options.journal_path) {}

  void handle_scripted(const httplib::Request& req, httplib::Response& res, const EndpointRow& ep);
  std::string next_request_id();
  void configure();

  ServerOptions options;
  State state;
  StopSignal stop_signal;
  httplib::Server http;
  std::thread thread;
  int port = -1;
  std::atomic<bool> stopped{false};
  int listen_fd = -1;
  std::atomic<std::uint64_t> request_counter{0};
  const std::uint64_t nonce =
      (static_cast<std::uint64_t>(std::chrono::system_clock::now().time_since_epoch().count()) ^
       (static_cast<std::uint64_t>(::getpid()) << 32)) & 0xffffffffffffULL;
};

std::string Server::Impl::next_request_id() {
  char buf[40];
  std::snprintf(buf, sizeof buf, "req_%012llx%08llx", static_cast<unsigned long long>(nonce),
                static_cast<unsigned long long>(request_counter++));
  return buf;
}

void Server::Impl::handle_scripted(const httplib::Request& req, httplib::Response& res, const EndpointRow& ep) {
  const auto began = std::chrono::steady_clock::now();
  JournalEntry entry = arrival(req, res, state.elapsed_ms());
  auto finish = [&] {
    entry.duration_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - began).count();
    state.record(std::move(entry));
  };

  const json body = json::parse(req.body, nullptr, false);
  if (auto bad = validate(body, ep)) {
    res.status = 400;
    res.set_content(openai::error_body(bad->message, "invalid_request_error", std::nullopt, bad->param),
                    "application/json");
    entry.status = 400;
    if (body.is_object() && body.contains("model") && body["model"].is_string()) entry.model = body["model"];
    return finish();
  }

  Turn turn = read_turn(body, ep, req, entry.request_id);
  const auto [step, k] = state.next(entry.tenant, turn.key);
  turn.k = k;

  entry.key = turn.key;
  entry.k = k;
  entry.model = turn.model;
  entry.n = turn.n;
  entry.stream = turn.stream;
  entry.step = step;
  if (step.kind != StepKind::Status) entry.fault = std::string(name(step.kind));

  HttplibExchange ex(req, res, stop_signal, options.hang_max);
  try {
    row_of(step.kind).serve(step, turn, ex);
  } catch (...) {
    // Journaled all the same: a begun request never journaled would keep a
    // harness waiting for it (wait_settled) and look like a client in flight.
    entry.status = 500;
    finish();
    throw;
  }
  entry.status = ex.sent_status();
  finish();
}

void Server::Impl::configure() {
  http.new_task_queue = [] { return new ElasticPool(kMaxThreads); };
  http.set_tcp_nodelay(true);
  // httplib closes a keep-alive connection after 5 requests by default; a
  // benchmark client then pays a reconnect every fifth request.
  http.set_keep_alive_max_count(1'000'000);
  http.set_payload_max_length(options.max_body_bytes);
  http.set_logger([](const httplib::Request& req, const httplib::Response&) { acknowledge_next_request_promptly(req); });
  // httplib's default adds SO_REUSEPORT, which lets a second server share a
  // port already in use; we want "port in use" to be an error instead.
  http.set_socket_options([this](int fd) {
    const int on = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    listen_fd = fd;
  });
  http.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    res.set_header("x-request-id", next_request_id());
    if (options.admin_token && is_admin_path(req.path) &&
        req.get_header_value("X-Xph-Admin-Token") != *options.admin_token) {
      send_admin_error(res, 401, "admin API: missing or wrong X-Xph-Admin-Token");
      return httplib::Server::HandlerResponse::Handled;
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });
  for (const EndpointRow& ep : endpoints())
    http.Post(std::string(ep.path),
              [this, &ep](const httplib::Request& q, httplib::Response& s) { handle_scripted(q, s, ep); });
  http.Get("/v1/models", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(openai::models(), "application/json");
  });
  register_admin_routes(http, state);
  // Anything httplib refuses itself (unknown path, body too large, a request
  // line it cannot parse) still gets the body its client expects.
  http.set_error_handler(httplib::Server::HandlerWithResponse([this](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
    if (!res.has_header("x-request-id")) res.set_header("x-request-id", next_request_id());
    if (is_admin_path(req.path))
      send_admin_error(res, res.status,
                       res.status == 404 ? "no admin route " + req.method + " " + req.path
                                         : "request refused (HTTP " + std::to_string(res.status) + ")");
    else
      res.set_content(openai_error_for(res.status, req), "application/json");
    return httplib::Server::HandlerResponse::Handled;
  }));
  http.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
    std::string what = "unknown error";
    try {
      std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    res.status = 500;
    res.set_content(openai::error_body("xph mock internal error: " + what, "server_error", std::nullopt),
                    "application/json");
  });
}

Server::Server(ServerOptions options) : impl_(std::make_unique<Impl>(std::move(options))) { impl_->configure(); }

Server::~Server() { stop(); }

void Server::start() {
  if (impl_->thread.joinable()) throw std::logic_error("server already started");
  auto& http = impl_->http;
  if (impl_->options.port == 0)
    impl_->port = http.bind_to_any_port(impl_->options.host);
  else
    impl_->port = http.bind_to_port(impl_->options.host, impl_->options.port) ? impl_->options.port : -1;
  if (impl_->port <= 0)
    throw EnvironmentError("cannot listen on " + impl_->options.host + ":" + std::to_string(impl_->options.port) +
                           ": " + bind_failure(impl_->options.host, impl_->options.port));
  // httplib listens with a backlog of 5: 64 clients connecting at once
  // overflow it and some lose their first request. Listening again on the
  // same socket only raises the backlog.
  ::listen(impl_->listen_fd, SOMAXCONN);
  auto ended = std::make_shared<std::atomic<bool>>(false);
  impl_->thread = std::thread([&http, ended] {
    http.listen_after_bind();
    *ended = true;
  });
  // bind + listen already happened: connections queue from here. Wait until
  // the accept loop runs so a caller's "ready" means ready.
  while (!http.is_running() && !*ended) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  if (*ended) {
    impl_->thread.join();
    throw std::runtime_error("server on port " + std::to_string(impl_->port) + " stopped as it started");
  }
}

int Server::port() const { return impl_->port; }
double Server::now_ms() const { return impl_->state.elapsed_ms(); }

std::string Server::base_url() const {
  const auto& host = impl_->options.host;
  return "http://" + (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + std::to_string(impl_->port);
}

void Server::put_tenant(const std::string& token, Responses responses) {
  impl_->state.put_tenant(token, std::move(responses));
}
std::optional<Responses> Server::tenant(const std::string& token) const { return impl_->state.tenant(token); }
bool Server::drop_tenant(const std::string& token) { return impl_->state.drop_tenant(token); }
std::vector<JournalEntry> Server::journal(const std::optional<std::string>& tenant) const {
  return impl_->state.journal(tenant);
}
void Server::reset() { impl_->state.reset(); }
bool Server::wait_settled(const std::string& tenant, std::chrono::milliseconds timeout) const {
  return impl_->state.wait_settled(tenant, timeout);
}

TenantLease::TenantLease(Server& server, std::string token, Responses responses)
    : server_(server), token_(std::move(token)) {
  server_.put_tenant(token_, std::move(responses));
}

TenantLease::~TenantLease() {
  server_.drop_tenant(token_);
  server_.impl_->state.forget_journal(token_);
}

TenantLease::Activity TenantLease::activity() const {
  const auto [begun, finished] = server_.impl_->state.activity(token_);
  return {begun, finished};
}
bool Server::running() const { return impl_->thread.joinable() && !impl_->stopped; }

void Server::stop() {
  if (!impl_->thread.joinable() || impl_->stopped.exchange(true)) return;
  impl_->stop_signal.raise();
  impl_->http.stop();
  impl_->thread.join();  // listen_after_bind returns once in-flight tasks end
  impl_->state.flush();
}

}  // namespace xph::mock
