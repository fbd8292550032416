"""A hostile SUT for interrupting xph: it starts a child in its own process
group and a grandchild double-forked into a new session, ignores SIGINT and
SIGTERM in all three, writes their pids and then its working directory (the
case folder) to argv[1], one line each, and never writes a result.
Only xph killing them ends them."""
import os
import signal
import sys
import time


def linger():
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    while True:
        time.sleep(1)


pids = [os.getpid()]
child = os.fork()
if child == 0:
    linger()
pids.append(child)
read_end, write_end = os.pipe()
if os.fork() == 0:
    os.setsid()
    grandchild = os.fork()
    if grandchild == 0:
        linger()
    os.write(write_end, str(grandchild).encode())
    os._exit(0)
pids.append(int(os.read(read_end, 32)))
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(" ".join(map(str, pids)) + "\n" + os.getcwd() + "\n")
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
linger()
