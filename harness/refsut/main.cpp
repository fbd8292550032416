#include "refsut.hpp"

int main(int argc, char** argv) { return xph::refsut::main(argc, argv); }
