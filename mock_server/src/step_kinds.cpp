#include "step_kinds.hpp"

#include <stdexcept>

namespace xph::mock {
namespace {

constexpr StepKindRow kStepKinds[] = {
    {StepKind::Status, "status", StepArg::None, serve_status},
    {StepKind::Reset, "reset", StepArg::None, serve_reset},
    {StepKind::Drop, "drop", StepArg::None, serve_drop},
    {StepKind::Hang, "hang", StepArg::None, serve_hang},
    {StepKind::Malformed, "malformed", StepArg::None, serve_malformed},
    {StepKind::Truncate, "truncate", StepArg::None, serve_truncate},
    {StepKind::Empty, "empty", StepArg::None, serve_empty},
    {StepKind::Slow, "slow", StepArg::Seconds, serve_slow},
};

}  // namespace

std::span<const StepKindRow> step_kinds() { return kStepKinds; }

const StepKindRow& row_of(StepKind kind) {
  for (const auto& row : kStepKinds)
    if (row.kind == kind) return row;
  throw std::logic_error("step kind missing from kStepKinds");
}

void serve(const Step& step, const Turn& turn, Exchange& ex) { row_of(step.kind).serve(step, turn, ex); }

std::string_view name(StepKind kind) { return row_of(kind).name; }

std::optional<StepKind> step_kind_from_name(std::string_view word) {
  for (const auto& row : kStepKinds)
    if (row.name == word) return row.kind;
  return std::nullopt;
}

}  // namespace xph::mock
