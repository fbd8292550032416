"""A warm SUT (xph_sut.serve) for the supervisor's tests. argv[1] says what
it does wrong, argv[2] is a file for the pids a test looks for:
  ok        each case is sequential_sut.py; the file gets a line per import
  die       exits 3 while importing, before the handshake
  hang      blocks while importing (on a pipe only it could write: stuck for
            good, not a timed sleep) and never sends the handshake
  badhello  sends a line that is not the handshake
  escape    each case double-forks a sleeper into a session of its own and
            writes its pid to the file, then answers as `ok` does
  sleep     each case writes "case PID" to the file and sleeps
  slowimport
            imports for 1.5 s (longer than the test case's timeout_s),
            then answers as `ok` does
  thread    starts a thread at import (xph_sut warns of it on the zygote's
            stderr), then answers as `ok` does
  semaphore makes a multiprocessing.Semaphore(1) at import (what
            docs/python-sut.md says a warm SUT must not do: every case
            shares it); each case holds it 0.5 s, then answers as `ok`
            does: a case waiting for it waits on another case, not stuck
"""
import os
import runpy
import sys
import time

from xph_sut import serve

mode, pids = sys.argv[1], sys.argv[2]
SEQUENTIAL = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sequential_sut.py")

with open(pids, "a") as f:
    f.write("import %d\n" % os.getpid())
if mode == "die":
    print("warm_sut: cannot import what I need", file=sys.stderr)
    sys.exit(3)
if mode == "hang":
    os.read(os.pipe()[0], 1)
if mode == "slowimport":
    end = time.monotonic() + 1.5
    while time.monotonic() < end:  # work, as an import is: neither asleep nor idle
        pass
if mode == "thread":
    import threading
    threading.Thread(target=time.sleep, args=(3600,), name="telemetry", daemon=True).start()
if mode == "semaphore":
    import multiprocessing
    SHARED = multiprocessing.Semaphore(1)
if mode == "badhello":
    os.write(int(os.environ["XPH_WARM"][3:]), b"hello from a SUT that does not speak the protocol\n")
    time.sleep(3600)


def escape():
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            with open(pids, "a") as f:
                f.write("%d\n" % os.getpid())
            time.sleep(3600)
        os._exit(0)
    os.wait()


def main():
    if mode == "sleep":
        with open(pids, "a") as f:
            f.write("case %d\n" % os.getpid())
        time.sleep(3600)
    if mode == "escape":
        escape()
    if mode == "semaphore":
        with SHARED:
            time.sleep(0.5)
    runpy.run_path(SEQUENTIAL, run_name="__main__")


serve(main)
