// --sut, --sut-cmd, --sut-name and --warm, in the order given: CLI11 keeps
// no order across options, and --sut-name/--warm name the --sut-cmd just
// before them.
#pragma once

#include <vector>

#include "xph/harness/app/suts.hpp"
#include "xph/harness/session/session.hpp"

namespace xph::harness {

// USER: the SUTs of a SUT file, which --sut may name too.
std::vector<SutChoice> sut_choices(int argc, char** argv, const std::vector<BuiltinSut>& user = {});

}  // namespace xph::harness
