// One check per verdict, each a pure function of the evidence that adds its
// findings. judge.cpp runs them in contract order.
#pragma once

#include <cmath>

#include "evidence.hpp"

namespace xph::harness::oracle {

void transport_broken(const Evidence&, Findings&);  // checks/transport_broken.cpp
void hang(const Evidence&, Findings&);              // checks/hang.cpp
void crash(const Evidence&, Findings&);             // checks/crash.cpp
void lost(const Evidence&, Findings&);              // checks/lost.cpp
void mismatch(const Evidence&, Findings&);          // checks/mismatch.cpp
void retry_policy(const Evidence&, Findings&);      // checks/retry_policy.cpp
void vacuous(const Evidence&, Findings&);           // checks/vacuous.cpp

// Seconds as a person reads them in a finding: 5.99, not 5.98623.
inline double shown_s(double s) { return std::round(s * 100) / 100; }

// The boundary a reported failure shows, and where: its message, else an
// exception line of its traceback (`cause`: that line). ProcessPoolExecutor
// turns a result that does not unpickle into BrokenProcessPool, whose
// message says a process died; the TypeError that broke it is its cause,
// in the traceback only.
struct FailureBoundary {
  Side side;
  std::string cause;  // empty when the message shows it
};
std::optional<FailureBoundary> failure_boundary(const SutFailure& f);  // checks/failure_boundary.cpp

}  // namespace xph::harness::oracle
