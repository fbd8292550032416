// Tenants, per-key counters and the journal: everything the server remembers,
// behind one mutex, with no HTTP in sight (so it is testable without sockets).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <thread>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "xph/mock/journal.hpp"
#include "xph/mock/step.hpp"

namespace xph::mock {

class State {
 public:
  State(Responses defaults, const std::optional<std::string>& journal_path);
  ~State();

  struct Turn {
    Step step;
    long k;
  };
  // The step for the next request of KEY under TENANT, and its index k.
  Turn next(const std::string& tenant, const std::string& key);

  void put_tenant(const std::string& token, Responses responses);
  std::optional<Responses> tenant(const std::string& token) const;  // its own script, if put
  bool drop_tenant(const std::string& token);
  void record(JournalEntry entry);  // assigns seq; appends to the file too
  std::pair<std::uint64_t, std::uint64_t> activity(const std::string& tenant) const;  // begun, finished
  // Until every request TENANT has begun is journaled, or the timeout: true
  // when none is left in flight.
  bool wait_settled(const std::string& tenant, std::chrono::milliseconds timeout) const;
  std::vector<JournalEntry> journal(const std::optional<std::string>& tenant) const;
  void reset();
  void forget_journal(const std::string& tenant);
  void flush();
  double elapsed_ms() const;

 private:
  struct Tenant {
    std::shared_ptr<const Responses> responses;  // null: the start-up script
    std::unordered_map<std::string, long> counters;
    std::uint64_t begun = 0, finished = 0;
  };

  const std::shared_ptr<const Responses> defaults_;
  const std::chrono::steady_clock::time_point t0_ = std::chrono::steady_clock::now();
  mutable std::mutex mu_;
  std::unordered_map<std::string, Tenant> tenants_;
  std::deque<JournalEntry> journal_;  // a vector would copy it all under the lock as it grows
  std::uint64_t next_seq_ = 0;

  // The journal file is written by its own thread, which serialises batches
  // of entries taken from journal_ every few milliseconds: no request waits
  // on JSON or write(2), and lines keep seq order.
  void write_file();
  std::size_t handed_ = 0;                   // journal_[0, handed_) went to the writer
  std::vector<JournalEntry> orphans_;         // unwritten entries a reset() took out
  std::FILE* file_ = nullptr;
  std::condition_variable writer_cv_;         // with mu_
  std::condition_variable written_cv_;        // with mu_
  mutable std::condition_variable settled_cv_;  // with mu_: a keyed entry was recorded
  std::uint64_t flush_asked_ = 0, flush_done_ = 0;
  bool closing_ = false;
  std::thread writer_;
};

}  // namespace xph::mock
