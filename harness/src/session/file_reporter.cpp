#include "file_reporter.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "xph/harness/model/errors.hpp"

namespace xph::harness {

void write_report_file(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  auto fail = [&](int err) {
    std::remove(tmp.c_str());
    throw EnvError(path + ": cannot write the report: " + std::strerror(err));
  };
  std::FILE* f = std::fopen(tmp.c_str(), "w");
  if (!f) throw EnvError(path + ": cannot write the report: " + std::strerror(errno));
  const bool written = std::fwrite(text.data(), 1, text.size(), f) == text.size();
  const int err = errno;
  if (std::fclose(f) != 0 || !written) fail(written ? errno : err);
  if (std::rename(tmp.c_str(), path.c_str()) != 0) fail(errno);
}

}  // namespace xph::harness

namespace xph::harness::report {

void FileReporter::on_run_started(const RunInfo& info) {
  info_ = info;
  write_report_file(path_, render(summary_, false));
}

void FileReporter::on_case_finished(const CaseReport& c) {
  add(c);
  ++summary_.cases;
  summary_.met += c.met;
  const auto now = std::chrono::steady_clock::now();
  if (now - written_ < std::chrono::milliseconds(250)) return;
  write_report_file(path_, render(summary_, false));
  written_ = now;
}

void FileReporter::on_run_finished(const RunSummary& s) {
  write_report_file(path_, render(s, s.interrupted.empty()));
}

}  // namespace xph::harness::report
