// Starting a SUT program: the one place that forks and execs.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace xph::harness::supervise {

using Environment = std::map<std::string, std::string>;

// xph's own environment, as a map.
Environment own_environment();

struct Launch {
  std::vector<std::string> argv;  // argv[0] a path
  std::filesystem::path dir, out, err;
  Environment env;
  int keep_fd = -1;  // a descriptor left open across exec (a warm SUT's socket)
};

// Starts the program in its own process group, in DIR, with ENV, stdin from
// /dev/null, stdout and stderr to files, inheriting no descriptor but those
// (and keep_fd), no signal blocked, SIGPIPE at its default, and files bounded
// to 4 GiB. Returns its pid: a child of ours, for us alone to reap. Throws
// InputError when it cannot be executed.
pid_t launch(const Launch&, const std::string& sut_name);

}  // namespace xph::harness::supervise
