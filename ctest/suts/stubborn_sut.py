"""A hostile SUT: ignores SIGTERM and SIGINT, makes no request, and never
writes a result: stuck (blocked on nothing that will ever come), not asleep
on a timer. Only SIGKILL of its group ends it."""
import signal

signal.signal(signal.SIGTERM, signal.SIG_IGN)
signal.signal(signal.SIGINT, signal.SIG_IGN)
while True:
    signal.pause()
