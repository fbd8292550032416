#include "xph/mock/cli.hpp"

#include <pthread.h>
#include <signal.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "xph/mock/server.hpp"

namespace xph::mock {
namespace {

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// A scenario file (its `responses`, default {"*": "200"}) or a bare responses object.
Responses load_script(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw UsageError(path + ": cannot read file");
  std::stringstream text;
  text << in.rdbuf();
  const auto j = nlohmann::json::parse(text.str(), nullptr, false);
  if (j.is_discarded()) throw UsageError(path + ": not valid JSON");
  if (!j.is_object()) throw UsageError(path + ": /: expected a scenario or a responses object");
  const bool scenario = j.contains("responses") || j.contains("probes") || j.contains("name");
  try {
    if (!scenario) return responses_from_json(j, "");
    if (!j.contains("responses")) return {{"*", Script{{Step{}}}}};
    return responses_from_json(j.at("responses"), "/responses");
  } catch (const ScriptError& e) {
    throw UsageError(path + ": " + e.what());
  }
}

// Whole or not at all: readers poll for the file and read it at once.
void write_port_file(const std::string& path, int port) {
  const std::string tmp = path + ".tmp";
  std::FILE* f = std::fopen(tmp.c_str(), "w");
  if (!f) throw EnvironmentError(path + ": cannot write port file: " + std::strerror(errno));
  const bool written = std::fprintf(f, "%d\n", port) > 0;
  const int write_errno = errno;
  if (std::fclose(f) != 0 || !written) {
    std::remove(tmp.c_str());
    throw EnvironmentError(path + ": cannot write port file: " + std::strerror(written ? errno : write_errno));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int rename_errno = errno;
    std::remove(tmp.c_str());
    throw EnvironmentError(path + ": cannot write port file: " + std::strerror(rename_errno));
  }
}

// Serves until SIGINT or SIGTERM, then stops: in-flight answers finish and
// the journal is flushed.
void serve_until_signalled(ServerOptions options, const std::string& port_file) {
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  // Blocked before any thread starts, so only sigwait below sees them.
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  Server server(std::move(options));
  server.start();
  std::cout << "listening on " << server.base_url() << std::endl;
  if (!port_file.empty()) write_port_file(port_file, server.port());  // ~Server stops it on a throw
  int sig = 0;
  sigwait(&stop_signals, &sig);
  server.stop();
}

}  // namespace

int oaimock_main(int argc, char** argv) {
  CLI::App app{"oaimock: an OpenAI-compatible mock server, scripted per attempt key.", "oaimock"};
  ServerOptions options;
  std::string script_file, responses_dsl, port_file, journal;
  double hang_max_s = 60;
  app.add_option("--host", options.host, "address to listen on")->capture_default_str();
  app.add_option("--port", options.port, "port; 0 picks a free one")->capture_default_str()->check(CLI::Range(0, 65535));
  auto* script = app.add_option("--script", script_file, "scenario file or bare responses object (JSON)");
  app.add_option("--responses", responses_dsl, "step DSL for every key, e.g. '429@0.2,200'")->excludes(script);
  app.add_option("--journal", journal, "append each request's journal entry to FILE as a JSON line");
  app.add_option("--port-file", port_file, "write the bound port to FILE once accepting");
  std::string admin_token;
  app.add_option("--admin-token", admin_token,
                 "require header X-Xph-Admin-Token: TOKEN on /_xph/ routes (needed off loopback)");
  app.add_option("--hang-max", hang_max_s, "seconds a `hang` step holds a connection at most")
      ->capture_default_str()->check(CLI::Range(0.0, 86400.0));
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    std::cout << app.help();
    return 0;
  } catch (const CLI::ParseError& e) {
    std::cerr << "oaimock: " << e.what() << "\n";
    return 2;
  }

  try {
    if (!script_file.empty()) options.responses = load_script(script_file);
    if (!responses_dsl.empty()) {
      try {
        options.responses = {{"*", parse_script(responses_dsl)}};
      } catch (const ScriptError& e) {
        throw UsageError("--responses: " + std::string(e.what()));
      }
    }
    if (!journal.empty()) options.journal_path = journal;
    if (!admin_token.empty()) options.admin_token = admin_token;
    if (!is_loopback(options.host) && !options.admin_token)
      throw UsageError("--host " + options.host +
                       " is not loopback: give --admin-token so the admin API is not open to the network");
    options.hang_max = std::chrono::milliseconds(static_cast<long>(hang_max_s * 1000));
    serve_until_signalled(std::move(options), port_file);
    return 0;
  } catch (const EnvironmentError& e) {
    std::cerr << "oaimock: " << e.what() << "\n";
    return 3;
  } catch (const std::exception& e) {
    std::cerr << "oaimock: " << e.what() << "\n";
    return 2;
  }
}

}  // namespace xph::mock
