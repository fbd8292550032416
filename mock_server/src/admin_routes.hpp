#pragma once

#include <httplib.h>

#include "state.hpp"

namespace xph::mock {

// Every route under /_xph/, one line each.
void register_admin_routes(httplib::Server&, State&);
// Admin errors render as {"error": MESSAGE, "status": N}; nowhere else.
bool is_admin_path(const std::string& path);
void send_admin_error(httplib::Response&, int status, const std::string& detail);

}  // namespace xph::mock
