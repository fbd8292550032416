#include "state.hpp"

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include <nlohmann/json.hpp>

namespace xph::mock {

State::State(Responses defaults, const std::optional<std::string>& journal_path)
    : defaults_(std::make_shared<const Responses>(std::move(defaults))) {
  if (journal_path) {
    file_ = std::fopen(journal_path->c_str(), "a");
    if (!file_) throw std::runtime_error(*journal_path + ": cannot open journal: " + std::strerror(errno));
  }
}

State::~State() {
  if (file_) std::fclose(file_);
}

State::Turn State::next(const std::string& tenant, const std::string& key) {
  std::lock_guard lock(mu_);
  Tenant& t = tenants_[tenant];
  const Responses& responses = t.responses ? *t.responses : *defaults_;
  const long k = t.counters[key]++;
  const Script* script = find_script(responses, key);
  // No pattern matched and no `*`: the plain 200 a bare server would give.
  return {script ? script->at(static_cast<std::size_t>(k)) : Step{}, k};
}

void State::put_tenant(const std::string& token, Responses responses) {
  std::lock_guard lock(mu_);
  tenants_[token] = Tenant{std::make_shared<const Responses>(std::move(responses)), {}};
}

bool State::drop_tenant(const std::string& token) {
  std::lock_guard lock(mu_);
  return tenants_.erase(token) > 0;
}

void State::record(JournalEntry entry) {
  std::lock_guard lock(mu_);
  entry.seq = next_seq_++;
  if (file_) {
    const std::string line = nlohmann::json(entry).dump() + "\n";
    std::fwrite(line.data(), 1, line.size(), file_);
    std::fflush(file_);  // readers tail the file while the server runs
  }
  journal_.push_back(std::move(entry));
}

std::vector<JournalEntry> State::journal(const std::optional<std::string>& tenant) const {
  std::lock_guard lock(mu_);
  if (!tenant) return journal_;
  std::vector<JournalEntry> out;
  for (const auto& e : journal_)
    if (e.tenant == *tenant) out.push_back(e);
  return out;
}

void State::reset() {
  std::lock_guard lock(mu_);
  for (auto& [_, t] : tenants_) t.counters.clear();
  journal_.clear();
}

void State::flush() {
  std::lock_guard lock(mu_);
  if (file_) std::fflush(file_);
}

double State::elapsed_ms() const {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0_).count();
}

}  // namespace xph::mock
