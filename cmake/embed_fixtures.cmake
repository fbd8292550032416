# Compiles fixture files into a C++ source, so binaries need no data folder at
# run time. Invoked in script mode: cmake -DOUT=... -DFILES="a;b" -P this.
string(REPLACE "|" ";" FILES "${FILES}")
set(body "// Generated from fixtures/ by cmake/embed_fixtures.cmake. Do not edit.\n")
string(APPEND body "#include <string_view>\n#include <stdexcept>\n#include <string>\n")
string(APPEND body "namespace xph::fixtures {\nstd::string_view get(std::string_view name) {\n")
foreach(f IN LISTS FILES)
  get_filename_component(n "${f}" NAME)
  file(READ "${f}" content)
  string(APPEND body "  if (name == \"${n}\") return R\"xph_fixture(${content})xph_fixture\";\n")
endforeach()
string(APPEND body "  throw std::out_of_range(\"no embedded fixture named \" + std::string(name));\n}\n}\n")
file(WRITE "${OUT}.tmp" "${body}")
file(COPY_FILE "${OUT}.tmp" "${OUT}" ONLY_IF_DIFFERENT)
