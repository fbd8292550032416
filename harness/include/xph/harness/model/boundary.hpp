// How a SUT's text shows an error failing to cross a process boundary, by
// the words Python, Node and our SUTs use. The oracle judges by it; the supervisor
// uses it to tell a broken pool that spins a core from one at work.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "xph/harness/model/verdict.hpp"

namespace xph::harness {

// The side TEXT shows breaking: Send for a value that could not be
// serialised (a task or result that does not pickle), Receive for one that
// could not be rebuilt (an exception class that does not unpickle).
std::optional<Side> boundary_side(const std::string& text);

// The lines of TEXT that show a boundary failure, each once, as a terminal
// shows them, without traceback frames.
std::vector<std::string> boundary_lines(const std::string& text);

// LINE as a terminal would show it: after its last carriage return (a
// progress bar's final state), without ANSI escapes or control characters.
std::string printable_line(const std::string& line);

}  // namespace xph::harness
