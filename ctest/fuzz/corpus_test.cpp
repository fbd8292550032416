// Every file of fixtures/corpus/<target>/ through its fuzz target, in the
// ordinary build: seeds, and every input that ever crashed one.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "fuzz/targets.hpp"

namespace fs = std::filesystem;

namespace {

void run_corpus(const std::string& name, void (*target)(const std::uint8_t*, std::size_t)) {
  const fs::path dir = fs::path(XPH_SOURCE_DIR) / "fixtures/corpus" / name;
  int files = 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    std::ifstream in(e.path(), std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), {});
    SCOPED_TRACE(e.path().string());
    target(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
    ++files;
  }
  EXPECT_GT(files, 0) << dir;
}

}  // namespace

TEST(ParserCorpus, StepDsl) { run_corpus("step_dsl", xph::fuzz::step_dsl); }
TEST(ParserCorpus, Scenario) { run_corpus("scenario", xph::fuzz::scenario); }
TEST(ParserCorpus, Result) { run_corpus("result", xph::fuzz::result); }
TEST(ParserCorpus, Request) { run_corpus("request", xph::fuzz::request); }
