// The one table of step kinds. Name <-> enum, the DSL's argument, the
// server's behaviour, the client's view and the fuzzer's draw all go
// through here only.
#include <array>
#include <stdexcept>

#include "steps/steps.hpp"
#include "xph/mock/step_kinds.hpp"

namespace xph::mock {
namespace {

// The table, one row per kind. A switch with no default, and -Wswitch an
// error here: a StepKind added without its row does not compile.
#pragma GCC diagnostic push
#pragma GCC diagnostic error "-Wswitch"
constexpr StepKindRow row(StepKind kind) {
  using K = StepKind;
  using A = StepArg;
  switch (kind) {  //             name            arg        serve               view               weight draw
    case K::Status:      return {kind, "status",       A::None,    serve_status,       view_status,        0, nullptr};
    case K::Reset:       return {kind, "reset",        A::None,    serve_reset,        view_reset,        20, draw_reset};
    case K::Drop:        return {kind, "drop",         A::None,    serve_drop,         view_drop,         20, draw_drop};
    case K::Hang:        return {kind, "hang",         A::None,    serve_hang,         view_hang,          2, draw_hang};
    case K::Malformed:   return {kind, "malformed",    A::None,    serve_malformed,    view_malformed,    15, draw_malformed};
    case K::Truncate:    return {kind, "truncate",     A::None,    serve_truncate,     view_truncate,     15, draw_truncate};
    case K::Empty:       return {kind, "empty",        A::None,    serve_empty,        view_empty,        12, draw_empty};
    case K::Slow:        return {kind, "slow",         A::Seconds, serve_slow,         view_slow,         12, draw_slow};
    // Not drawn until the harness's SUTs are shown to judge them (a weight
    // here changes every seeded fuzz run).
    case K::ToolCall:    return {kind, "tool_call",    A::None,    serve_tool_call,    view_tool_call,     0, draw_tool_call};
    case K::StreamError: return {kind, "stream_error", A::Chunks,  serve_stream_error, view_stream_error,  0, draw_stream_error};
    case K::StreamReset: return {kind, "stream_reset", A::Chunks,  serve_stream_reset, view_stream_reset,  0, draw_stream_reset};
  }
  return {};  // past the last kind: the end of the table
}
#pragma GCC diagnostic pop

constexpr std::size_t kind_count() {
  std::size_t n = 0;
  while (!row(static_cast<StepKind>(n)).name.empty()) ++n;
  return n;
}

constexpr auto kStepKinds = [] {
  std::array<StepKindRow, kind_count()> rows{};
  for (std::size_t i = 0; i < rows.size(); ++i) rows[i] = row(static_cast<StepKind>(i));
  return rows;
}();

// Function pointers are not compared here: GCC under -fsanitize=undefined
// cannot fold `f != nullptr` in a constant expression. The mock's unit test
// checks that every row has a view and every drawn row a draw.
consteval bool rows_whole() {
  for (const auto& r : kStepKinds) {
    if (r.name.empty() || r.fuzz_weight < 0) return false;
    for (const auto& other : kStepKinds)
      if (&other != &r && other.name == r.name) return false;
  }
  return true;
}
static_assert(rows_whole(), "every row has a unique name and a weight >= 0");

}  // namespace

std::span<const StepKindRow> step_kinds() { return kStepKinds; }

const StepKindRow& row_of(StepKind kind) {
  const auto i = static_cast<std::size_t>(kind);
  if (i >= kStepKinds.size()) throw std::logic_error("not a StepKind: " + std::to_string(i));
  return kStepKinds[i];
}

std::string_view name(StepKind kind) { return row_of(kind).name; }

std::optional<StepKind> step_kind_from_name(std::string_view word) {
  for (const auto& r : kStepKinds)
    if (r.name == word) return r.kind;
  return std::nullopt;
}

ClientView client_view(const Step& step, const ViewContext& ctx) { return row_of(step.kind).view(step, ctx); }

std::string_view name(Seen seen) {
  switch (seen) {
    case Seen::Ok: return "ok";
    case Seen::Http: return "http";
    case Seen::Connection: return "connection";
    case Seen::Timeout: return "timeout";
    case Seen::Decode: return "decode";
  }
  return "?";
}

}  // namespace xph::mock
