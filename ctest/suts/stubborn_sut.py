"""A hostile SUT: ignores SIGTERM and SIGINT, makes no request, and never
writes a result. Only SIGKILL of its group ends it."""
import signal
import time

signal.signal(signal.SIGTERM, signal.SIG_IGN)
signal.signal(signal.SIGINT, signal.SIG_IGN)
while True:
    time.sleep(1)
