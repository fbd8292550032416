#include "zygote.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "families.hpp"
#include "watch.hpp"
#include "xph/harness/model/boundary.hpp"
#include "xph/harness/model/errors.hpp"

namespace xph::harness::supervise {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr std::size_t kMaxLine = 1 << 20;

bool is_our_child(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(in, line)) return false;
  const auto close = line.rfind(')');
  std::istringstream rest(line.substr(close == std::string::npos ? 0 : close + 2));
  std::string state;
  long ppid = 0;
  rest >> state >> ppid;
  return ppid == ::getpid();
}

std::string exit_text(int status) {
  if (WIFSIGNALED(status)) return "killed by signal " + std::to_string(WTERMSIG(status));
  return "exit code " + std::to_string(WEXITSTATUS(status));
}

}  // namespace

Zygote::Zygote(SutCommand command, std::string folder_name)
    : command_(std::move(command)), folder_name_(std::move(folder_name)) {}

Zygote::~Zygote() {
  std::lock_guard lock(mu_);
  stop();
}

void Zygote::stop() {
  if (fd_ >= 0) ::close(fd_);  // EOF: a healthy zygote exits by itself
  fd_ = -1;
  buffer_.clear();
  if (pid_ > 0) {
    int status = 0;
    const auto deadline = Clock::now() + std::chrono::seconds(1);
    while (::waitpid(pid_, &status, WNOHANG) == 0 && Clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    end_family({pid_, "", ""});
  }
  pid_ = 0;
  std::error_code ec;
  if (!dir_.empty()) fs::remove_all(dir_, ec);
}

void Zygote::kill_now() {
  const pid_t pid = pid_;
  if (pid > 0) kill_family({pid, "", ""});
  std::error_code ec;
  if (!dir_.empty()) fs::remove_all(dir_, ec);
}

// One line from the zygote, or nullopt at EOF or when TIMEOUT_S passes.
std::optional<std::string> Zygote::read_line(double timeout_s) {
  const auto deadline = Clock::now() + std::chrono::duration<double>(timeout_s);
  for (;;) {
    if (const auto nl = buffer_.find('\n'); nl != std::string::npos) {
      std::string line = buffer_.substr(0, nl);
      buffer_.erase(0, nl + 1);
      return line;
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0 || buffer_.size() > kMaxLine) return std::nullopt;
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(std::min<long>(left, 50))) <= 0) continue;
    char chunk[4096];
    const ssize_t n = ::read(fd_, chunk, sizeof chunk);
    if (n <= 0) return std::nullopt;
    buffer_.append(chunk, static_cast<std::size_t>(n));
  }
}

namespace {

// What a warm SUT printed while importing (xph_sut's warning of threads
// alive at import, a library's deprecation notice) goes to a folder that
// is removed with the zygote: say it on xph's stderr, once a start.
void tell_what_it_said(const std::string& name, const std::string& text) {
  std::istringstream in(text);
  int shown = 0;
  for (std::string line; std::getline(in, line) && shown < 20;) {
    line = printable_line(line);
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    if (line.size() > 300) line = line.substr(0, 300) + "...";
    std::cerr << "xph: the warm SUT " << name << " said while importing: " << line << "\n";
    ++shown;
  }
}

}  // namespace

std::optional<Forked> Zygote::start(double timeout_s, double idle_bound_s) {
  std::error_code ec;
  dir_ = fs::temp_directory_path(ec) / folder_name_;
  if (ec || (!fs::create_directories(dir_ / "tmp", ec) && ec))
    throw EnvError(dir_.string() + ": cannot make the warm SUT's folder: " + ec.message());
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0)
    throw EnvError("cannot make a socket for the warm SUT " + command_.name + ": " + std::strerror(errno));
  Launch l{command_.argv, dir_, dir_ / "stdout.txt", dir_ / "stderr.txt", own_environment(), fds[1]};
  for (const auto& [k, v] : command_.env) l.env[k] = v;
  l.env["XPH_WARM"] = "fd:" + std::to_string(fds[1]);
  l.env["PYTHONUNBUFFERED"] = "1";
  for (const char* var : {"TMPDIR", "TMP", "TEMP"}) l.env[var] = (dir_ / "tmp").string();
  try {
    pid_ = launch(l, command_.name);
  } catch (...) {
    ::close(fds[0]);
    ::close(fds[1]);
    throw;
  }
  ::close(fds[1]);
  fd_ = fds[0];
  // Importing is work (CPU, disk): a zygote idle before its hello is stuck.
  IdleWatch idle(nullptr, pid_, dir_, dir_ / "stderr.txt", "");
  const auto started = Clock::now();
  auto quiet_since = started;
  for (;;) {
    if (const auto line = read_line(0.05)) {
      const json hello = json::parse(*line, nullptr, false);
      if (!hello.is_discarded() && hello.is_object() && hello.value("xph_warm", 0) == 1) {
        tell_what_it_said(command_.name, read_tail(dir_ / "stderr.txt", 16 * 1024));
        return std::nullopt;
      }
      Forked f{0, "the warm SUT's first line was not the protocol's hello: " + line->substr(0, 200)};
      f.stderr_text = read_tail(dir_ / "stderr.txt", 256 * 1024);
      stop();
      return f;
    }
    int status = 0;
    const bool exited = ::waitpid(pid_, &status, WNOHANG) == pid_;
    const auto now = Clock::now();
    const bool stuck = !exited && idle.stuck();
    if (idle.busy()) quiet_since = now;
    const bool timed_out = idle.core_wait().past(started, timeout_s);
    const bool idle_now =
        stuck || (now - quiet_since > std::chrono::duration<double>(idle_bound_s) && idle.still_idle());
    if (!exited && !timed_out && !idle_now) continue;
    Forked f;
    f.stderr_text = read_tail(dir_ / "stderr.txt", 256 * 1024);
    if (exited) {
      f.status = status;
      f.problem = "the warm SUT " + exit_text(status) + " while importing, before its handshake";
      pid_ = 0;  // reaped
    } else {
      f.end = timed_out ? RunEnd::TimedOut : stuck ? RunEnd::Stuck : RunEnd::Idle;
      f.waited_for_cores_s = idle.core_wait().counted_s(timeout_s);
      if (stuck) f.stuck_what = idle.stuck_what();
      std::ostringstream bound;
      bound << timeout_s << " s of its own time passed";
      f.problem = std::string("the warm SUT never completed its handshake (") +
                  (timed_out ? bound.str() : stuck ? "stuck" : "idle") + " while importing)";
    }
    stop();
    return f;
  }
}

Forked Zygote::fork_case(const ForkRequest& r, double timeout_s, double idle_bound_s) {
  std::lock_guard lock(mu_);
  json env = json::object();
  for (const auto& [k, v] : r.env) env[k] = v;
  const std::string line = json{{"case", r.id}, {"dir", r.dir.string()}, {"env", env}, {"stdout", r.out.string()},
                                {"stderr", r.err.string()}, {"comm", r.comm}}
                               .dump(-1, ' ', false, json::error_handler_t::replace) +
                           "\n";
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (pid_ == 0)
      if (auto failed = start(std::max(timeout_s, kImportBoundS), idle_bound_s)) return *failed;
    // A zygote that died since its last case: start another, once.
    if (::send(fd_, line.data(), line.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(line.size())) {
      stop();
      continue;
    }
    // A dead zygote closes the socket at once; a live one on a starved
    // machine may take seconds to fork, which is slow, not broken.
    const auto reply_line = read_line(std::max(kImportBoundS, timeout_s));
    const json reply = reply_line ? json::parse(*reply_line, nullptr, false) : json();
    if (!reply.is_object()) {
      Forked f{0, reply_line ? "the warm SUT's reply was not JSON: " + reply_line->substr(0, 200)
                             : "the warm SUT died or went silent while forking the case"};
      f.stderr_text = read_tail(dir_ / "stderr.txt", 256 * 1024);
      stop();
      return f;
    }
    if (reply.contains("error") || !reply.value("pid", json()).is_number_integer())
      return Forked{0, "the warm SUT could not fork the case: " + reply.value("error", reply.dump())};
    const pid_t pid = reply["pid"].get<pid_t>();
    // Only a process we supervise may be killed in its name.
    if (pid <= 0 || !is_our_child(pid))
      return Forked{0, "the warm SUT answered pid " + std::to_string(pid) + ", which is no child of xph"};
    return Forked{pid};
  }
  return Forked{0, "the warm SUT " + command_.name + " died twice before it could fork the case"};
}

}  // namespace xph::harness::supervise
