#include "state.hpp"

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "xph/mock/server.hpp"

namespace xph::mock {

State::State(Responses defaults, const std::optional<std::string>& journal_path)
    : defaults_(std::make_shared<const Responses>(std::move(defaults))) {
  if (journal_path) {
    file_ = std::fopen(journal_path->c_str(), "a");
    if (!file_) throw EnvironmentError(*journal_path + ": cannot open journal: " + std::strerror(errno));
    writer_ = std::thread([this] { write_file(); });
  }
}

State::~State() {
  if (!file_) return;
  {
    std::lock_guard lock(mu_);
    closing_ = true;
  }
  writer_cv_.notify_one();
  writer_.join();
  std::fclose(file_);
}

void State::write_file() {
  std::unique_lock lock(mu_);
  for (;;) {
    // Wake on a timer, not per entry: at 20k requests/s a wake-up per line
    // costs the server more than the line itself.
    writer_cv_.wait_for(lock, std::chrono::milliseconds(5), [&] { return closing_ || flush_asked_ > flush_done_; });
    const bool last = closing_;
    const std::uint64_t asked = flush_asked_;
    std::vector<JournalEntry> batch = std::move(orphans_);
    orphans_.clear();
    batch.insert(batch.end(), journal_.begin() + static_cast<std::ptrdiff_t>(handed_), journal_.end());
    handed_ = journal_.size();
    lock.unlock();
    if (!batch.empty()) {
      std::string text;
      for (const auto& e : batch) {
        text += nlohmann::json(e).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);  // client bytes
        text += '\n';
      }
      std::fwrite(text.data(), 1, text.size(), file_);
      std::fflush(file_);  // readers tail the file while the server runs
    }
    lock.lock();
    flush_done_ = asked;
    written_cv_.notify_all();
    if (last) return;
  }
}

State::Turn State::next(const std::string& tenant, const std::string& key) {
  std::lock_guard lock(mu_);
  Tenant& t = tenants_[tenant];
  const Responses& responses = t.responses ? *t.responses : *defaults_;
  const long k = t.counters[key]++;
  ++t.begun;
  const Script* script = find_script(responses, key);
  // No pattern matched and no `*`: the plain 200 a bare server would give.
  return {script ? script->at(static_cast<std::size_t>(k)) : Step{}, k};
}

void State::put_tenant(const std::string& token, Responses responses) {
  std::lock_guard lock(mu_);
  tenants_[token] = Tenant{std::make_shared<const Responses>(std::move(responses)), {}};
}

std::optional<Responses> State::tenant(const std::string& token) const {
  std::lock_guard lock(mu_);
  const auto it = tenants_.find(token);
  if (it == tenants_.end() || !it->second.responses) return std::nullopt;
  return *it->second.responses;
}

bool State::drop_tenant(const std::string& token) {
  std::lock_guard lock(mu_);
  return tenants_.erase(token) > 0;
}

void State::record(JournalEntry entry) {
  std::lock_guard lock(mu_);
  entry.seq = next_seq_++;
  const bool keyed = entry.key.has_value();
  if (keyed) ++tenants_[entry.tenant].finished;
  journal_.push_back(std::move(entry));
  if (keyed) settled_cv_.notify_all();
}

bool State::wait_settled(const std::string& tenant, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mu_);
  return settled_cv_.wait_for(lock, timeout, [&] {
    const auto it = tenants_.find(tenant);
    return it == tenants_.end() || it->second.begun == it->second.finished;
  });
}

std::vector<JournalEntry> State::journal(const std::optional<std::string>& tenant) const {
  std::lock_guard lock(mu_);
  if (!tenant) return {journal_.begin(), journal_.end()};
  std::vector<JournalEntry> out;
  for (const auto& e : journal_)
    if (e.tenant == *tenant) out.push_back(e);
  return out;
}

std::pair<std::uint64_t, std::uint64_t> State::activity(const std::string& tenant) const {
  std::lock_guard lock(mu_);
  const auto it = tenants_.find(tenant);
  return it == tenants_.end() ? std::pair<std::uint64_t, std::uint64_t>{0, 0}
                              : std::pair{it->second.begun, it->second.finished};
}

void State::reset() {
  std::lock_guard lock(mu_);
  for (auto& [_, t] : tenants_) t.counters.clear();
  if (file_)
    orphans_.insert(orphans_.end(), journal_.begin() + static_cast<std::ptrdiff_t>(handed_), journal_.end());
  journal_.clear();
  handed_ = 0;
}

void State::forget_journal(const std::string& tenant) {
  std::lock_guard lock(mu_);
  if (file_) {  // the writer still gets every entry it has not taken yet
    orphans_.insert(orphans_.end(), journal_.begin() + static_cast<std::ptrdiff_t>(handed_), journal_.end());
  }
  std::erase_if(journal_, [&](const JournalEntry& e) { return e.tenant == tenant; });
  handed_ = journal_.size();
}

void State::flush() {
  if (!file_) return;
  std::unique_lock lock(mu_);
  const std::uint64_t ticket = ++flush_asked_;
  writer_cv_.notify_one();
  written_cv_.wait(lock, [&] { return flush_done_ >= ticket; });
}

double State::elapsed_ms() const {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0_).count();
}

}  // namespace xph::mock
