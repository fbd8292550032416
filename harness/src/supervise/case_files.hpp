// A case's folder: the SUT's working folder and TMPDIR, its spec, result
// and output; removed with the case.
#pragma once

#include <filesystem>
#include <string>

#include <nlohmann/json_fwd.hpp>

namespace xph::harness::supervise {

struct CaseFiles {
  std::filesystem::path dir, tmp, spec, result, out, err;

  // Makes the folder under the system's temporary folder; EnvError when it
  // cannot, naming TMPDIR and the reason.
  explicit CaseFiles(const std::string& name);
  void write_spec(const nlohmann::json&) const;  // EnvError when it cannot
  void remove() const;
};

}  // namespace xph::harness::supervise
