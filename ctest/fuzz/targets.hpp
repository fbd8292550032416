// What each parser fuzz target does with one input. The libFuzzer mains in
// this folder call these; corpus_test.cpp runs every file of
// fixtures/corpus/ through them in the ordinary build, so every input that
// once crashed stays a regression test.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace xph::fuzz {

void step_dsl(const std::uint8_t* data, std::size_t size);
void scenario(const std::uint8_t* data, std::size_t size);
void result(const std::uint8_t* data, std::size_t size);
void request(const std::uint8_t* data, std::size_t size);  // raw bytes to a live in-process oaimock

}  // namespace xph::fuzz
