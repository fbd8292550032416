// Tenants, per-key counters and the journal: everything the server remembers,
// behind one mutex, with no HTTP in sight (so it is testable without sockets).
#pragma once

#include <chrono>
#include <cstdio>
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
  bool drop_tenant(const std::string& token);
  void record(JournalEntry entry);  // assigns seq; appends to the file too
  std::vector<JournalEntry> journal(const std::optional<std::string>& tenant) const;
  void reset();
  void flush();
  double elapsed_ms() const;

 private:
  struct Tenant {
    std::shared_ptr<const Responses> responses;  // null: the start-up script
    std::unordered_map<std::string, long> counters;
  };

  const std::shared_ptr<const Responses> defaults_;
  const std::chrono::steady_clock::time_point t0_ = std::chrono::steady_clock::now();
  mutable std::mutex mu_;
  std::unordered_map<std::string, Tenant> tenants_;
  std::vector<JournalEntry> journal_;
  std::uint64_t next_seq_ = 0;
  std::FILE* file_ = nullptr;
};

}  // namespace xph::mock
