// The one table of step kinds: name, argument, behaviour. Name <-> enum goes
// through here only.
#pragma once

#include <span>
#include <string_view>

#include "exchange.hpp"
#include "xph/mock/step.hpp"

namespace xph::mock {

using ServeFn = void (*)(const Step&, const Turn&, Exchange&);

enum class StepArg { None, Seconds };

struct StepKindRow {
  StepKind kind;
  std::string_view name;  // DSL word; the Status row's name is only for JSON/journal
  StepArg arg;            // what `@` carries after the name
  ServeFn serve;
};

std::span<const StepKindRow> step_kinds();
const StepKindRow& row_of(StepKind);
void serve(const Step&, const Turn&, Exchange&);

// One declaration per file in steps/.
void serve_status(const Step&, const Turn&, Exchange&);
void serve_reset(const Step&, const Turn&, Exchange&);
void serve_drop(const Step&, const Turn&, Exchange&);
void serve_hang(const Step&, const Turn&, Exchange&);
void serve_malformed(const Step&, const Turn&, Exchange&);
void serve_truncate(const Step&, const Turn&, Exchange&);
void serve_empty(const Step&, const Turn&, Exchange&);
void serve_slow(const Step&, const Turn&, Exchange&);

}  // namespace xph::mock
