#include "refsut.hpp"

#include <poll.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <CLI/CLI.hpp>
#include <boost/process.hpp>
#include "endpoints.hpp"
#include "http_client.hpp"
#include <nlohmann/json.hpp>

namespace xph::refsut {
namespace {

namespace bp = boost::process;
using nlohmann::json;

enum class Transport { Safe, Naive };

// A Python-style exception, so a reader of stderr sees what garak's users saw.
struct PyError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct Retry {
  std::optional<int> max_tries;
  std::vector<int> statuses;
  bool on_connection = false, on_timeout = false, on_decode = false;
  bool honor_retry_after = true;
  double max_delay_s = 0.05;
};

struct GeneratorConfig {
  std::string base_url, api_key, model, endpoint;
  int generations = 1;
  std::string mode = "n";
  double request_timeout_s = 2;
  Retry retry;
};

json to_json(const GeneratorConfig& c) {
  json on = json::array();
  for (int s : c.retry.statuses) on.push_back(s);
  if (c.retry.on_connection) on.push_back("connection");
  if (c.retry.on_timeout) on.push_back("timeout");
  if (c.retry.on_decode) on.push_back("decode");
  return {{"base_url", c.base_url},
          {"api_key", c.api_key},
          {"model", c.model},
          {"endpoint", c.endpoint},
          {"generations", c.generations},
          {"multi_generation", c.mode},
          {"request_timeout_s", c.request_timeout_s},
          {"retry",
           {{"max_tries", c.retry.max_tries ? json(*c.retry.max_tries) : json(nullptr)},
            {"retry_on", on},
            {"honor_retry_after", c.retry.honor_retry_after},
            {"max_delay_s", c.retry.max_delay_s}}}};
}

GeneratorConfig config_from_json(const json& j) {
  GeneratorConfig c;
  c.base_url = j.at("base_url");
  c.api_key = j.at("api_key");
  c.model = j.at("model");
  c.endpoint = j.at("endpoint");
  c.generations = j.at("generations");
  c.mode = j.at("multi_generation");
  c.request_timeout_s = j.at("request_timeout_s");
  const auto& r = j.at("retry");
  if (!r.at("max_tries").is_null()) c.retry.max_tries = r.at("max_tries").get<int>();
  for (const auto& v : r.at("retry_on")) {
    if (v.is_number_integer())
      c.retry.statuses.push_back(v.get<int>());
    else if (v == "connection")
      c.retry.on_connection = true;
    else if (v == "timeout")
      c.retry.on_timeout = true;
    else if (v == "decode")
      c.retry.on_decode = true;
  }
  c.retry.honor_retry_after = r.at("honor_retry_after");
  c.retry.max_delay_s = r.at("max_delay_s");
  return c;
}

struct Prompt {
  std::string probe, id, text;
};

// What one attempt ended with; `error` is the full envelope of contract §4.
struct Outcome {
  std::string probe, id;
  long pid = 0;
  std::optional<Texts> outputs;  // set when ok
  json error;                                        // set when not
};

json outcome_json(const Outcome& o) {
  json j = {{"probe", o.probe}, {"id", o.id}, {"pid", o.pid}};
  if (o.outputs) {
    j["outcome"] = "ok";
    j["outputs"] = json::array();
    for (const auto& t : *o.outputs) j["outputs"].push_back(t ? json(*t) : json(nullptr));
  } else {
    j["outcome"] = "error";
    j["error"] = o.error;
  }
  return j;
}

class Generator {
 public:
  explicit Generator(GeneratorConfig config) : config_(std::move(config)) {}

  Outcome generate(const Prompt& prompt) {
    Outcome out{prompt.probe, prompt.id, static_cast<long>(::getpid()), std::nullopt, nullptr};
    const bool loop = config_.mode == "loop";
    const int calls = loop ? config_.generations : 1;
    const int n = loop ? 1 : config_.generations;
    Texts outputs;
    for (int call = 0; call < calls; ++call) {
      json error;
      auto texts = call_with_retries(prompt, n, error);
      if (!texts) {
        out.error = error;
        return out;
      }
      outputs.insert(outputs.end(), texts->begin(), texts->end());
    }
    out.outputs = std::move(outputs);
    return out;
  }

  bool client_loaded() const { return client_loaded_; }

  // What crosses to a pool worker with each task.
  json serialise(Transport t) const {
    json j = {{"config", to_json(config_)}};
    if (t == Transport::Naive && client_loaded_) {
      // A live client holds sockets and a lock: nothing a worker could
      // rebuild. garak #659 pickled exactly this and died.
      throw PyError("TypeError: cannot pickle 'HttpClient' object (the generator carries the live HTTP "
                    "client an in-process probe loaded; its connections and lock cannot cross to a worker)");
    }
    return j;
  }

 private:
  // The client is "created" lazily, on the first call, as garak's is: from
  // then on this generator holds live connection state.
  void load_client() { client_loaded_ = true; }

  bool retryable(const json& error) const {
    const std::string kind = error.at("kind");
    if (kind == "http") {
      const int s = error.at("status");
      return std::find(config_.retry.statuses.begin(), config_.retry.statuses.end(), s) != config_.retry.statuses.end();
    }
    if (kind == "connection") return config_.retry.on_connection;
    if (kind == "timeout") return config_.retry.on_timeout;
    return config_.retry.on_decode;
  }

  std::optional<Texts> call_with_retries(const Prompt& p, int n, json& error) {
    for (int tries = 1;; ++tries) {
      double retry_after_s = 0;
      auto texts = call_once(p, n, error, retry_after_s);
      if (texts) return texts;
      const bool again = retryable(error) && (!config_.retry.max_tries || tries < *config_.retry.max_tries);
      if (!again) return std::nullopt;
      double delay = std::min(config_.retry.max_delay_s, 0.005 * std::pow(2.0, tries - 1));
      if (config_.retry.honor_retry_after) delay = std::max(delay, retry_after_s);
      std::this_thread::sleep_for(std::chrono::duration<double>(delay));
    }
  }

  std::optional<Texts> call_once(const Prompt& p, int n, json& error, double& retry_after_s) {
    const Request request = request_for(config_.endpoint, config_.model, p.text, n);
    load_client();
    const HttpResult r =
        http_post(config_.base_url, request.path, config_.api_key, request.body.dump(), config_.request_timeout_s);
    if (!r.response) {
      error = envelope(r.timed_out ? "timeout" : "connection", nullptr, json::object(), "",
                       r.timed_out ? "Request timed out." : "Connection error: " + r.error,
                       r.timed_out ? "APITimeoutError" : "APIConnectionError");
      return std::nullopt;
    }
    const HttpResponse& res = *r.response;
    auto header = [&](const char* name) {
      const auto it = res.headers.find(name);
      return it == res.headers.end() ? std::string() : it->second;
    };
    const json parsed = json::parse(res.body, nullptr, false);
    if (res.status >= 200 && res.status < 300) {
      if (auto texts = outputs_of(config_.endpoint, parsed)) return texts;
      error = envelope("decode", res.status, json::object(), header("x-request-id"), "response body is not a completion",
                       "APIResponseValidationError");
      return std::nullopt;
    }
    const json e = parsed.is_object() && parsed.contains("error") && parsed["error"].is_object() ? parsed["error"]
                                                                                                 : json::object();
    error = envelope("http", res.status, e, header("x-request-id"), "",
                     res.status == 429 ? "RateLimitError" : "APIStatusError");
    if (!header("retry-after-ms").empty())
      retry_after_s = std::atof(header("retry-after-ms").c_str()) / 1000;
    else if (!header("retry-after").empty())
      retry_after_s = std::atof(header("retry-after").c_str());
    return std::nullopt;
  }

  // The protocol's error envelope; type, code and message from OpenAI's
  // error body when there is one.
  static json envelope(const char* kind, json status, const json& error, const std::string& request_id,
                       const std::string& message, const char* exception) {
    auto field = [&](const char* k) { return error.contains(k) && error[k].is_string() ? error[k] : json(nullptr); };
    return {{"kind", kind},
            {"status", status},
            {"type", field("type")},
            {"code", field("code")},
            {"message", message.empty() ? field("message") : json(message)},
            {"request_id", request_id.empty() ? json(nullptr) : json(request_id)},
            {"exception", exception}};
  }

  GeneratorConfig config_;
  bool client_loaded_ = false;
};

// ---- what crosses the pool boundary -------------------------------------

json encode_reply(const Outcome& o, Transport t) {
  json j = outcome_json(o);
  if (t == Transport::Naive && !o.outputs && o.error.at("kind") == "http") {
    // Like pickling openai's APIStatusError: only `args` (the message) goes
    // along; `response` and `body`, keyword-only in __init__, do not.
    j.erase("error");
    j["exception"] = {{"class", o.error.at("exception")}, {"args", json::array({o.error.at("message")})}};
  }
  return j;
}

Outcome decode_reply(const json& j) {
  Outcome o;
  o.probe = j.at("probe");
  o.id = j.at("id");
  o.pid = j.at("pid");
  if (j.contains("exception")) {
    // The parent rebuilds the exception by calling its constructor with args.
    const std::string cls = j["exception"].at("class");
    throw PyError("TypeError: " + cls +
                  ".__init__() missing 2 required keyword-only arguments: 'response' and 'body'");
  }
  if (j.at("outcome") != "ok") {
    o.error = j.at("error");
    return o;
  }
  o.outputs.emplace();
  for (const auto& t : j.at("outputs"))
    o.outputs->push_back(t.is_null() ? std::nullopt : std::optional(t.get<std::string>()));
  return o;
}

// ---- the worker side -----------------------------------------------------

int worker_main(Transport t) {
  for (std::string line; std::getline(std::cin, line);) {
    const json task = json::parse(line);
    Generator g(config_from_json(task.at("generator").at("config")));
    const auto& p = task.at("prompt");
    const Outcome o = g.generate({p.at("probe"), p.at("id"), p.at("text")});
    std::cout << encode_reply(o, t).dump() << std::endl;
  }
  return 0;
}

// ---- the pool, parent side -----------------------------------------------

class Pool {
 public:
  Pool(std::size_t workers, Transport t, const std::string& self) {
    for (std::size_t i = 0; i < workers; ++i) {
      auto w = std::make_unique<Worker>();
      w->proc = bp::child(self, "--worker", "--transport", t == Transport::Safe ? "safe" : "naive",
                          bp::std_in < w->in, bp::std_out > w->out);
      workers_.push_back(std::move(w));
    }
  }

  ~Pool() {
    for (auto& w : workers_) {
      w->in.flush();
      w->in.pipe().close();  // EOF on its stdin: the worker exits
    }
    if (reader_.joinable()) reader_.join();
    for (auto& w : workers_) {
      std::error_code ec;
      w->proc.wait(ec);
    }
  }

  // imap_unordered: every task out, every outcome back, in any order.
  std::vector<Outcome> map(const std::vector<json>& tasks) {
    tasks_ = tasks;
    for (auto& w : workers_) send_next(*w);
    reader_ = std::thread([this] { handle_results(); });
    std::unique_lock lock(mu_);
    // No timeout, as in multiprocessing: if the result handler dies, this
    // waits for ever. That is the failure being reproduced.
    done_.wait(lock, [&] { return results_.size() == tasks_.size(); });
    return results_;
  }

 private:
  struct Worker {
    bp::opstream in;
    bp::ipstream out;
    bp::child proc;
    bool busy = false;
  };

  void send_next(Worker& w) {
    if (next_ >= tasks_.size()) {
      w.busy = false;
      return;
    }
    w.in << tasks_[next_++].dump() << std::endl;
    w.busy = true;
  }

  void handle_results() {
    try {
      std::size_t received = 0;
      while (received < tasks_.size()) {
        std::vector<pollfd> fds;
        std::vector<Worker*> who;
        for (auto& w : workers_) {
          if (!w->busy) continue;
          fds.push_back({w->out.pipe().native_source(), POLLIN, 0});
          who.push_back(w.get());
        }
        if (fds.empty()) return;
        if (::poll(fds.data(), fds.size(), -1) < 0) continue;
        for (std::size_t i = 0; i < fds.size(); ++i) {
          if (!(fds[i].revents & (POLLIN | POLLHUP))) continue;
          std::string line;
          if (!std::getline(who[i]->out, line)) throw PyError("EOFError: a pool worker died");
          Outcome o = decode_reply(json::parse(line));
          ++received;
          {
            std::lock_guard lock(mu_);
            results_.push_back(std::move(o));
          }
          done_.notify_all();
          send_next(*who[i]);
        }
      }
    } catch (const std::exception& e) {
      // What Python prints when a thread dies: then nothing, for ever.
      std::cerr << "Exception in thread Thread-3 (_handle_results):\nTraceback (most recent call last):\n"
                << "  File \"xph-refsut\", in _handle_results\n"
                << e.what() << std::endl;
    }
  }

  std::vector<std::unique_ptr<Worker>> workers_;
  std::vector<json> tasks_;
  std::size_t next_ = 0;
  std::thread reader_;
  std::mutex mu_;
  std::condition_variable done_;
  std::vector<Outcome> results_;
};

std::string self_exe() {
  char buf[4096];
  const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : "xph-refsut";
}

int parent_main(Transport t, const std::string& name) {
  const char* spec_path = std::getenv("XPH_SPEC");
  const char* result_path = std::getenv("XPH_RESULT");
  if (!spec_path || !result_path) {
    std::cerr << "xph-refsut: XPH_SPEC and XPH_RESULT must be set (see contract section 4)\n";
    return 2;
  }
  std::ifstream in(spec_path);
  const json spec = json::parse(in);
  GeneratorConfig config = config_from_json(spec);
  const int parallel = spec.at("parallel_attempts");
  Generator generator(config);  // one per run, as garak's harness holds one

  json attempts = json::array(), failures = json::array();
  for (const auto& probe : spec.at("probes")) {
    const std::string probe_name = probe.at("name");
    std::vector<Prompt> prompts;
    for (const auto& p : probe.at("prompts")) prompts.push_back({probe_name, p.at("id"), p.at("text")});
    if (prompts.size() > 1 && parallel > 1) {
      std::vector<json> tasks;
      try {
        // garak pickles the bound method, and with it the generator.
        const json gen = generator.serialise(t);
        for (const auto& p : prompts)
          tasks.push_back({{"generator", gen}, {"prompt", {{"probe", p.probe}, {"id", p.id}, {"text", p.text}}}});
      } catch (const PyError& e) {
        std::cerr << "Traceback (most recent call last):\n  File \"xph-refsut\", in _execute_all\n"
                  << e.what() << std::endl;
        failures.push_back({{"stage", "dispatch"}, {"probe", probe_name}, {"message", e.what()},
                            {"traceback", "in _execute_all: pool.imap_unordered(self._execute_attempt, attempts)"}});
        continue;
      }
      Pool pool(std::min<std::size_t>(static_cast<std::size_t>(parallel), prompts.size()), t, self_exe());
      for (const auto& o : pool.map(tasks)) attempts.push_back(outcome_json(o));
    } else {
      for (const auto& p : prompts) attempts.push_back(outcome_json(generator.generate(p)));
    }
  }
  // Python's start methods do not apply: a pool worker here is always a
  // new process (fork + exec), so the spec's method changes nothing.
  std::string version = name + " 1.0";
  const std::string method = spec.value("start_method", "fork");
  if (method != "fork") version += " (start_method " + method + " does not apply: workers are always new processes)";
  const json result = {{"xph", 1}, {"sut", version}, {"attempts", attempts}, {"failures", failures}};
  const std::string tmp = std::string(result_path) + ".tmp";
  std::ofstream(tmp) << result.dump();
  std::rename(tmp.c_str(), result_path);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"xph-refsut: reference SUT with garak's execution model (contract section 4).", "xph-refsut"};
  std::string transport = "safe";
  bool worker = false;
  app.add_option("--transport", transport, "safe: plain data crosses the pool; naive: garak's two bugs")
      ->check(CLI::IsMember({"safe", "naive"}))
      ->capture_default_str();
  app.add_flag("--worker", worker, "internal: run as a pool worker on stdin/stdout");
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    std::cout << app.help();
    return 0;
  } catch (const CLI::ParseError& e) {
    std::cerr << "xph-refsut: " << e.what() << "\n";
    return 2;
  }
  const Transport t = transport == "safe" ? Transport::Safe : Transport::Naive;
  try {
    return worker ? worker_main(t) : parent_main(t, t == Transport::Safe ? "xph-refsut-safe" : "xph-refsut-naive");
  } catch (const std::exception& e) {
    std::cerr << "xph-refsut: " << e.what() << "\n";
    return 3;
  }
}

}  // namespace xph::refsut
