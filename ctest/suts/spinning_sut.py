"""A SUT that needs CPU, on a machine that has none to spare: it stays on
the first core it may use, where the test runs busy loops, spins until it
has used SPIN_S seconds of CPU (argv[1]), then answers every attempt with
nothing and exits 0. Or, with argv[1] "sleep", it sleeps for ever beside
the same busy loops ("tick": 50 ms at a time, for ever), having written to
argv[2] when it fell asleep
(time.monotonic(), the clock of std::chrono::steady_clock). Slow is not
stuck: only the sleeper may be judged on time alone."""
import os
import sys
import time

import all_ok

os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
if sys.argv[1] in ("sleep", "tick"):
    with open(sys.argv[2], "w") as f:
        f.write(repr(time.monotonic()))
    if sys.argv[1] == "sleep":
        time.sleep(3600)
    while True:  # "tick": wakes every 50 ms for ever, each time waiting for the busy core
        time.sleep(0.05)
spin_s = float(sys.argv[1])
while time.process_time() < spin_s:
    pass
all_ok.write("spinning 1")
