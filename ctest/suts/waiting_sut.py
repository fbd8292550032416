"""A SUT that waits, stuck for good or not, for the stuck watch
(harness/src/supervise/stuck.hpp). python3 waiting_sut.py MODE [PORT]

Stuck for good, nothing will ever move it:
  deadlock  the main thread takes a lock it holds; a child process reads a
            pipe that only that thread would write
  pool      Python's pool whose result handler died unpickling an exception
            (the bug class), waited on for ever
  forkserver
            the same under the forkserver start method: the server waits on
            its listener (in the case's TMPDIR), the pool on sockets to it
  unix_pair polls a Unix socket whose peer is a child asleep for good

Waiting, and answered in about a second (a result, exit 0):
  socket    polls, with no timeout, a socket whose peer (the test, outside
            the group) answers after a second
  unix_peer the same over a Unix socket at PATH (argv[2])
  listener  listens on a Unix socket at PATH (outside the case's folder),
            polls it with no timeout; the test connects after a second
  timed     waits on a lock with a timeout
  spinner   the main thread waits with no timeout on a lock that a spinning
            thread releases after a second: with no boundary failure
            printed, a thread that runs is life
  compat    waits on a pipe held by a 32-bit child (PATH, argv[2]: the
            sleeper32 binary) that it stops and continues in its 1.5 s sleep:
            i386's restart_syscall with the clock id 1 reads as x86-64's
            read(1), and the child's fd 1 is a pipe only the group writes
  event_loop
            waits 3 s in epoll_wait with that timeout, as an event loop
            waits for its next timer (Node's setTimeout): past the idle
            bound, and not idle, since it wakes by itself
  teardown  prints a boundary failure, then its main thread works for 3 s
            of CPU before it exits, as ProcessPoolExecutor's parent tears
            down on a busy machine: the thread that reports is alive
  teardown_beside_a_child
            the same with a silent child process (`sleep 30`, no pipe to
            it): a process that works beside its one child is no wrapper
  boundary_sleeper
            prints a boundary failure, then waits as `spinner` does on a
            thread asleep on the clock for 0.8 s: after a boundary
            failure a thread that runs may be a spinning pool, but one asleep
            wakes by itself
  boundary_then_workers
            prints a boundary failure, then, as a scanner whose next probe
            starts a fresh pool (spawn workers importing their SDK), starts
            two processes that each work 2.5 s of CPU while its main thread
            waits for them with no timeout: a broken pool spins in a thread
            of its parent, never in a worker's main thread
"""
import multiprocessing
import os
import select
import signal
import socket
import sys
import threading
import time

import all_ok


class NeedsResponse(Exception):
    def __init__(self, message, *, response):
        super().__init__(message)


def fail(_):
    raise NeedsResponse("pickled by its message alone", response=None)


def work(cpu_s):
    end = time.process_time() + cpu_s
    while time.process_time() < end:
        pass


def main(mode):
    if mode == "deadlock":
        r, w = os.pipe()
        if os.fork() == 0:
            os.close(w)
            os.read(r, 1)
            os._exit(0)
        lock = threading.Lock()
        lock.acquire()
        lock.acquire()
        os.write(w, b"x")
    elif mode in ("pool", "forkserver"):
        with multiprocessing.get_context("fork" if mode == "pool" else "forkserver").Pool(2) as pool:
            list(pool.imap_unordered(fail, range(2)))
    elif mode == "unix_pair":
        mine, theirs = socket.socketpair()
        r, w = os.pipe()
        if os.fork() == 0:
            mine.close()
            os.read(r, 1)
            os._exit(0)
        theirs.close()
        p = select.poll()
        p.register(mine, select.POLLIN)
        p.poll()
    elif mode == "unix_peer":
        s = socket.socket(socket.AF_UNIX)
        s.connect(sys.argv[2])
        p = select.poll()
        p.register(s, select.POLLIN)
        p.poll()
        s.recv(1)
    elif mode == "listener":
        s = socket.socket(socket.AF_UNIX)
        s.bind(sys.argv[2])
        s.listen(1)
        p = select.poll()
        p.register(s, select.POLLIN)
        p.poll()
        s.accept()[0].close()
    elif mode == "socket":
        s = socket.create_connection(("127.0.0.1", int(sys.argv[2])))
        p = select.poll()
        p.register(s, select.POLLIN)
        p.poll()
        s.recv(1)
    elif mode == "compat":
        quiet_r, quiet_w = os.pipe()
        done_r, done_w = os.pipe()
        child = os.fork()
        if child == 0:
            os.dup2(quiet_r, 1)
            os.set_inheritable(done_w, True)
            os.execv(sys.argv[2], [sys.argv[2]])
        os.close(quiet_r)
        os.close(done_w)
        time.sleep(0.2)
        os.kill(child, signal.SIGSTOP)
        time.sleep(0.05)
        os.kill(child, signal.SIGCONT)
        os.read(done_r, 1)  # b"" when the child exits
        os.waitpid(child, 0)
    elif mode == "event_loop":
        select.epoll().poll(3.0)
    elif mode in ("teardown", "teardown_beside_a_child"):
        if mode == "teardown_beside_a_child":  # a helper it never talks to: no wrapper for all that
            import subprocess
            subprocess.Popen(["sleep", "30"], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        print("TypeError: APIStatusError.__init__() missing 2 required keyword-only arguments: 'response' and 'body'",
              file=sys.stderr, flush=True)
        end = time.process_time() + 3.0
        while time.process_time() < end:
            pass
    elif mode == "boundary_then_workers":
        print("TypeError: APIStatusError.__init__() missing 2 required keyword-only arguments: 'response' and 'body'",
              file=sys.stderr, flush=True)
        workers = [multiprocessing.get_context("fork").Process(target=work, args=(2.5,)) for _ in range(2)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
    elif mode == "timed":
        threading.Event().wait(1.0)
    elif mode in ("spinner", "boundary_sleeper"):
        lock = threading.Lock()
        lock.acquire()

        def spin():
            end = time.monotonic() + 1.0
            while time.monotonic() < end:
                pass
            lock.release()

        def sleep():
            time.sleep(0.8)
            lock.release()

        if mode == "boundary_sleeper":
            print("TypeError: cannot pickle '_thread.RLock' object (caught, and carried on)", file=sys.stderr,
                  flush=True)
        threading.Thread(target=spin if mode == "spinner" else sleep).start()
        lock.acquire()
    all_ok.write("waiting 1")


if __name__ == "__main__":  # a spawned or forkserver worker imports this file again
    main(sys.argv[1])
