// SIGINT, SIGTERM and SIGHUP, taken by one thread of ours through a
// signalfd: blocked in every thread started after us, so no thread but this
// one sees them, and a signal ignored when xph started (nohup, a background
// job) stays ignored.
#pragma once

#include <functional>
#include <thread>

namespace xph::harness::supervise {

class SignalWatch {
 public:
  // Construct before any other thread starts (they inherit the mask).
  explicit SignalWatch(std::function<void(int signal)> on_signal);
  ~SignalWatch();
  SignalWatch(const SignalWatch&) = delete;
  SignalWatch& operator=(const SignalWatch&) = delete;

 private:
  std::function<void(int)> on_signal_;
  int signal_fd_ = -1, stop_fd_ = -1;
  std::thread thread_;
};

const char* signal_name(int);

}  // namespace xph::harness::supervise
