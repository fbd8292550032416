// The oracle: a pure function from what the case asked, what the server sent
// (the journal) and what the SUT reported, to findings and a verdict.
#pragma once

#include "xph/harness/runner.hpp"
#include "xph/harness/scenario.hpp"
#include "xph/harness/verdict.hpp"

namespace xph::harness {

Judgement judge(const Case&, const CaseRun&);

// Lines of SUT output that show an error failing to cross the boundary.
std::vector<std::string> boundary_lines(const std::string& text);

// LINE as a terminal would show it: after its last carriage return (a
// progress bar's final state), without ANSI escapes or control characters.
std::string printable_line(const std::string& line);

// "send" when TEXT shows a value that could not be serialised (a task or
// result that does not pickle), "receive" when one could not be rebuilt on
// the other side (an exception class that does not unpickle), else null.
const char* boundary_side(const std::string& text);

}  // namespace xph::harness
