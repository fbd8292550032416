#pragma once

namespace xph::mock {

// The whole `oaimock` command line (also `xph serve`). Returns the exit code.
int oaimock_main(int argc, char** argv);

}  // namespace xph::mock
