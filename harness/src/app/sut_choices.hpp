// --sut, --sut-cmd, --sut-name and --warm, in the order given: CLI11 keeps
// no order across options, and --sut-name/--warm name the --sut-cmd just
// before them.
#pragma once

#include <vector>

#include "xph/harness/session/session.hpp"

namespace xph::harness {

std::vector<SutChoice> sut_choices(int argc, char** argv);

}  // namespace xph::harness
