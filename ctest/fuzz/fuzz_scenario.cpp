// libFuzzer entry: scripts/fuzz-parsers builds and runs it with clang.
#include "targets.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  xph::fuzz::scenario(data, size);
  return 0;
}
