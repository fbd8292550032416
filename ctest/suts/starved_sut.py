"""A slow SUT, not a stuck one: it asks for CPU on the first core it may use, at SCHED_IDLE, where
a busy loop of the test's keeps it waiting for seconds, then answers every
attempt with nothing and exits 0. Runnable all the while: a harness that
judges it idle is wrong on any busy machine."""
import os

import all_ok

os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
total = 0
for i in range(3_000_000):  # ~0.2-0.4 s of one core when it gets one
    total += i * i
all_ok.write("starved 1")
