// The one table of step kinds: everything a step means, one row per kind.
// Name <-> kind, the DSL argument, what the server does, what a client makes
// of it and how a fuzzer draws it all come from here; adding a kind is one
// file in src/steps/ and one row (docs/adding-a-step.md).
//
//   struct MyDice : xph::mock::Dice { int between(int lo, int hi) override { ... } };
//   std::vector<int> weights;
//   for (const auto& row : xph::mock::step_kinds()) weights.push_back(row.fuzz_weight);
//   const auto& row = xph::mock::step_kinds()[pick_weighted(weights)];
//   xph::mock::Step step = row.draw(dice);  // row.fuzz_weight > 0 guarantees a draw
#pragma once

#include <span>
#include <string_view>

#include "xph/mock/client_view.hpp"
#include "xph/mock/step.hpp"

namespace xph::mock {

struct Turn;     // the request as the server sees it (src/exchange.hpp)
class Exchange;  // what a step may do to one HTTP exchange (src/exchange.hpp)

// The randomness a fuzzer lends a draw: the harness passes its seeded Rng.
class Dice {
 public:
  virtual ~Dice() = default;
  virtual int between(int lo, int hi) = 0;  // inclusive
};

// What follows a kind's word in the DSL: nothing, `@SECONDS` or `:CHUNKS`.
enum class StepArg { None, Seconds, Chunks };

struct StepKindRow {
  StepKind kind;
  std::string_view name;  // DSL word; the Status row's name is only for JSON and the journal
  StepArg arg;
  void (*serve)(const Step&, const Turn&, Exchange&);
  ClientView (*view)(const Step&, const ViewContext&);
  int fuzz_weight;      // relative weight among the rows a fuzzer draws from; 0: never drawn
  Step (*draw)(Dice&);  // a random step of this kind; null for Status (the harness draws statuses)
};

// Every kind, in enum order: step_kinds()[i].kind == StepKind(i).
std::span<const StepKindRow> step_kinds();
const StepKindRow& row_of(StepKind);

}  // namespace xph::mock
