#include "xph/harness/app.hpp"

int main(int argc, char** argv) { return xph::harness::xph_main(argc, argv); }
