#include "xph/mock/cli.hpp"

int main(int argc, char** argv) { return xph::mock::oaimock_main(argc, argv); }
