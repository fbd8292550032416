#pragma once

namespace xph::harness {

// The whole `xph` command line. Returns the exit code (contract section 6).
int xph_main(int argc, char** argv);

}  // namespace xph::harness
