#include "admin_routes.hpp"

#include <nlohmann/json.hpp>

namespace xph::mock {
namespace {

using nlohmann::json;

enum class AdminErrc { BadBody, BadScript, UnknownTenant };

struct AdminError {
  AdminErrc errc;
  int status;
  const char* message;
};

constexpr AdminError kAdminErrors[] = {
    {AdminErrc::BadBody, 400, "body is not JSON"},
    {AdminErrc::BadScript, 400, "bad responses"},
    {AdminErrc::UnknownTenant, 404, "no such tenant"},
};

void send_error(httplib::Response& res, AdminErrc errc, const std::string& detail = {}) {
  for (const auto& e : kAdminErrors)
    if (e.errc == errc) return send_admin_error(res, e.status, detail.empty() ? e.message : std::string(e.message) + ": " + detail);
}

// Client bytes (a path, a token, a key) need not be UTF-8; dump() would throw
// on them, and outside a handler that ends the process.
void send_json(httplib::Response& res, const json& body) {
  res.set_content(body.dump(-1, ' ', false, json::error_handler_t::replace), "application/json");
}

void put_tenant(State& state, const httplib::Request& req, httplib::Response& res) {
  const json body = json::parse(req.body, nullptr, false);
  if (body.is_discarded()) return send_error(res, AdminErrc::BadBody);
  try {
    // A bare DSL string scripts every key of the tenant.
    Responses responses = body.is_string() ? Responses{{"*", parse_script(body.get<std::string>())}}
                                           : responses_from_json(body, "");
    state.put_tenant(req.matches[1], std::move(responses));
  } catch (const ScriptError& e) {
    return send_error(res, AdminErrc::BadScript, e.what());
  }
  send_json(res, {{"tenant", req.matches[1]}, {"ok", true}});
}

void get_tenant(const State& state, const httplib::Request& req, httplib::Response& res) {
  const auto responses = state.tenant(req.matches[1]);
  if (!responses) return send_error(res, AdminErrc::UnknownTenant, req.matches[1]);
  send_json(res, responses_to_json(*responses));
}

void get_journal(const State& state, const httplib::Request& req, httplib::Response& res) {
  std::optional<std::string> tenant;
  if (req.has_param("tenant")) tenant = req.get_param_value("tenant");
  send_json(res, json(state.journal(tenant)));
}

}  // namespace

bool is_admin_path(const std::string& path) { return path.rfind("/_xph/", 0) == 0; }

void send_admin_error(httplib::Response& res, int status, const std::string& detail) {
  res.status = status;
  send_json(res, {{"error", detail}, {"status", status}});
}

void register_admin_routes(httplib::Server& http, State& state) {
  using Req = const httplib::Request&;
  using Res = httplib::Response&;
  http.Get("/_xph/health", [](Req, Res res) { send_json(res, {{"ok", true}}); });
  http.Put("/_xph/tenants/([^/]+)", [&state](Req req, Res res) { put_tenant(state, req, res); });
  http.Get("/_xph/tenants/([^/]+)", [&state](Req req, Res res) { get_tenant(state, req, res); });
  http.Delete("/_xph/tenants/([^/]+)", [&state](Req req, Res res) {
    if (!state.drop_tenant(req.matches[1])) return send_error(res, AdminErrc::UnknownTenant, req.matches[1]);
    send_json(res, {{"tenant", req.matches[1]}, {"ok", true}});
  });
  http.Get("/_xph/journal", [&state](Req req, Res res) { get_journal(state, req, res); });
  // A content-reader handler, so a bodyless `curl -X POST` (no
  // Content-Length) is not refused with 400 before it gets here.
  http.Post("/_xph/reset", [&state](Req, Res res, const httplib::ContentReader&) {
    state.reset();
    send_json(res, {{"ok", true}});
  });
}

}  // namespace xph::mock
