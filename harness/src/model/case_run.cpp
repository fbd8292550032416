#include "xph/harness/model/case_run.hpp"

namespace xph::harness {

std::string_view name(RunEnd end) {
  switch (end) {
    case RunEnd::Exited: return "exited";
    case RunEnd::TimedOut: return "timed_out";
    case RunEnd::Idle: return "idle";
    case RunEnd::Stuck: return "stuck";
  }
  return "?";
}

}  // namespace xph::harness
