// Runs one of our real binaries as a child process, with bounded waits.
#pragma once

#include <boost/process.hpp>

#include <chrono>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace xph::test {

struct Finished {
  int exit_code = -1;
  std::string out;
  std::string err;
};

inline std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Runs to completion (killed after `limit`), capturing stdout and stderr.
inline Finished run(const std::string& exe, const std::vector<std::string>& args,
                    std::chrono::seconds limit = std::chrono::seconds(20)) {
  namespace bp = boost::process;
  bp::ipstream out, err;
  bp::child child(exe, bp::args(args), bp::std_out > out, bp::std_err > err, bp::std_in < bp::null);
  std::string o, e;
  std::thread ro([&] { o.assign(std::istreambuf_iterator<char>(out), {}); });
  std::thread re([&] { e.assign(std::istreambuf_iterator<char>(err), {}); });
  if (!child.wait_for(limit)) child.terminate();
  child.wait();
  ro.join();
  re.join();
  return {child.exit_code(), o, e};
}

inline int count_lines(const std::string& s) {
  int n = 0;
  for (char c : s) n += c == '\n';
  return n;
}

}  // namespace xph::test
