// xph-refsut: a reference system under test with garak's execution model.
// A probe with more than one attempt and parallel_attempts > 1 runs in a pool
// of worker processes; any other probe runs in-process on the parent's
// generator, whose HTTP client is created lazily.
//
// Transports decide what crosses the pool boundary:
//   safe  - plain data only: generator config out, complete error envelopes back.
//   naive - garak's two bugs: the generator is serialised with its live client
//           (fails once an in-process probe loaded it, as in garak #659), and a
//           worker's HTTP error is encoded without the fields its decoder
//           requires (as openai's APIStatusError fails to unpickle), which
//           kills the parent's result reader and leaves the pool waiting.
#pragma once

namespace xph::refsut {

int main(int argc, char** argv);

}  // namespace xph::refsut
