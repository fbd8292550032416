#include "xph/harness/app/app.hpp"

int main(int argc, char** argv) { return xph::harness::xph_main(argc, argv); }
