// One file per step kind in this folder; each defines the three functions of
// its row in step_kinds.cpp: serve (what the server does, through Exchange
// only), view (what a client makes of it) and draw (a random one, for the
// fuzzer). The declarations live here so the table can name them.
#pragma once

#include "../exchange.hpp"
#include "../openai.hpp"
#include "xph/mock/step_kinds.hpp"

namespace xph::mock {

// The endpoint's ordinary answer with this status: a body, or a stream.
void send_answer(int status, const Turn&, const openai::Reply&, Exchange&);

void serve_status(const Step&, const Turn&, Exchange&);
ClientView view_status(const Step&, const ViewContext&);

void serve_reset(const Step&, const Turn&, Exchange&);
ClientView view_reset(const Step&, const ViewContext&);
Step draw_reset(Dice&);

void serve_drop(const Step&, const Turn&, Exchange&);
ClientView view_drop(const Step&, const ViewContext&);
Step draw_drop(Dice&);

void serve_hang(const Step&, const Turn&, Exchange&);
ClientView view_hang(const Step&, const ViewContext&);
Step draw_hang(Dice&);

void serve_malformed(const Step&, const Turn&, Exchange&);
ClientView view_malformed(const Step&, const ViewContext&);
Step draw_malformed(Dice&);

void serve_truncate(const Step&, const Turn&, Exchange&);
ClientView view_truncate(const Step&, const ViewContext&);
Step draw_truncate(Dice&);

void serve_empty(const Step&, const Turn&, Exchange&);
ClientView view_empty(const Step&, const ViewContext&);
Step draw_empty(Dice&);

void serve_slow(const Step&, const Turn&, Exchange&);
ClientView view_slow(const Step&, const ViewContext&);
Step draw_slow(Dice&);

void serve_tool_call(const Step&, const Turn&, Exchange&);
ClientView view_tool_call(const Step&, const ViewContext&);
Step draw_tool_call(Dice&);

void serve_stream_error(const Step&, const Turn&, Exchange&);
ClientView view_stream_error(const Step&, const ViewContext&);
Step draw_stream_error(Dice&);

void serve_stream_reset(const Step&, const Turn&, Exchange&);
ClientView view_stream_reset(const Step&, const ViewContext&);
Step draw_stream_reset(Dice&);

}  // namespace xph::mock
