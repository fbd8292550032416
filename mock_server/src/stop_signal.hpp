// Raised once when the server stops, so waiting steps (hang, slow) end early
// instead of holding shutdown hostage.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>

namespace xph::mock {

class StopSignal {
 public:
  void raise() {
    { std::lock_guard lock(mu_); raised_ = true; }
    cv_.notify_all();
  }
  bool raised() const {
    std::lock_guard lock(mu_);
    return raised_;
  }
  // True when raised before the time is up.
  bool wait_for(std::chrono::milliseconds d) const {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, d, [&] { return raised_; });
  }

 private:
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  bool raised_ = false;
};

}  // namespace xph::mock
