#include "targets.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "xph/harness/judge/judge.hpp"
#include "xph/harness/model/result.hpp"
#include "xph/harness/model/scenario.hpp"
#include "xph/harness/model/spec.hpp"
#include "xph/mock/server.hpp"
#include "xph/mock/step.hpp"

namespace xph::fuzz {
namespace {

// A property that does not hold is a crash: libFuzzer keeps the input.
void require(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "property violated: %s\n", what);
    std::abort();
  }
}

}  // namespace

void step_dsl(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  mock::Script script;
  try {
    script = mock::parse_script(text);
  } catch (const mock::ScriptError& e) {
    require(std::string(e.what()).rfind("column ", 0) == 0, "DSL errors name a column");
    return;
  }
  require(!script.steps.empty(), "a parsed script has steps");
  // The canonical form parses back to the same script.
  require(mock::parse_script(mock::to_string(script)) == script, "to_string round-trips");
}

void scenario(const std::uint8_t* data, std::size_t size) {
  const auto j = nlohmann::json::parse(data, data + size, nullptr, false);
  if (j.is_discarded()) return;
  try {
    const harness::Scenario s = harness::parse_scenario(j, "fuzz.json");
    const auto cases = harness::expand(s);
    require(cases.size() == s.generations.size() * s.modes.size(), "one case per generations x mode");
    for (const auto& c : cases) harness::make_spec(c, "http://127.0.0.1:1", "t").dump();
  } catch (const harness::InputError& e) {
    require(std::string(e.what()).rfind("fuzz.json: /", 0) == 0, "scenario errors name file and field");
  }
}

void result(const std::uint8_t* data, std::size_t size) {
  const auto j = nlohmann::json::parse(data, data + size, nullptr, false);
  if (j.is_discarded()) return;
  harness::CaseRun run;
  try {
    run.result = harness::parse_result(j);
  } catch (const harness::ProtocolError&) {
    run.result_problem = "protocol";
  }
  // The oracle judges whatever came back without crashing.
  static const harness::Scenario s = harness::parse_scenario(
      nlohmann::json::parse(R"({"name":"f","probes":[{"name":"p","attempts":3}],"parallel_attempts":2})"), "f.json");
  const auto c = harness::expand(s).at(0);
  run.exit_code = 0;
  run.stderr_text = std::string(reinterpret_cast<const char*>(data), std::min<std::size_t>(size, 4096));
  harness::judge(c, run);
}

void request(const std::uint8_t* data, std::size_t size) {
  static const auto server = [] {
    auto s = std::make_unique<mock::Server>(mock::ServerOptions{.hang_max = std::chrono::milliseconds(50)});
    s->start();
    return s;
  }();
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(server->port()));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  require(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0, "the server accepts connections");
  if (size) ::send(fd, data, size, MSG_NOSIGNAL);
  ::shutdown(fd, SHUT_WR);
  char buf[4096];
  for (;;) {  // read what comes back, briefly
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) break;
    if (::recv(fd, buf, sizeof buf, 0) <= 0) break;
  }
  ::close(fd);
}

}  // namespace xph::fuzz
