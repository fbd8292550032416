#include "case_files.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>

#include <nlohmann/json.hpp>

#include "xph/harness/model/errors.hpp"

namespace xph::harness::supervise {

namespace fs = std::filesystem;

CaseFiles::CaseFiles(const std::string& name) {
  std::error_code ec;
  const fs::path base = fs::temp_directory_path(ec);
  if (ec) {
    const char* tmpdir = std::getenv("TMPDIR");
    throw EnvError(std::string("TMPDIR ") + (tmpdir ? tmpdir : "/tmp") + ": cannot make case folders there: " +
                   ec.message());
  }
  dir = base / name;
  tmp = dir / "tmp";
  if (!fs::create_directories(tmp, ec) && ec)
    throw EnvError(tmp.string() + ": cannot make the case folder: " + ec.message());
  spec = dir / "spec.json";
  result = dir / "result.json";
  out = dir / "stdout.txt";
  err = dir / "stderr.txt";
}

void CaseFiles::write_spec(const nlohmann::json& j) const {
  std::ofstream f(spec);
  f << j.dump(2);
  f.close();
  if (!f) throw EnvError(spec.string() + ": cannot write the run spec: " + std::strerror(errno));
}

void CaseFiles::remove() const {
  std::error_code ec;
  fs::remove_all(dir, ec);
}

}  // namespace xph::harness::supervise
