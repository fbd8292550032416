"""A SUT that reports what its process looks like, for the warm protocol
tests. What it does is chosen per case by XPH_TEST_MODE in the case's
environment; what it saw goes to report.json in its working folder."""
import atexit
import json
import multiprocessing
import os
import signal
import sys
import tempfile
import threading
import time

import xph_sut

IMPORTED_IN = os.getpid()
MADE_DURING_CASES = []  # a case appends; the next case must find it empty

if os.environ.get("XPH_TEST_IMPORT_SIGNALS"):
    # Handlers and a mask set at import: a case must not inherit them.
    signal.signal(signal.SIGTERM, lambda *_: None)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGUSR1, signal.SIG_IGN)
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGUSR2, signal.SIGCHLD])

if os.environ.get("XPH_TEST_IMPORT_LOGFILE"):
    # As garak HEAD's `import garak`: a log file opened at import, in the zygote.
    import logging
    logging.basicConfig(filename=os.environ["XPH_TEST_IMPORT_LOGFILE"], level=logging.INFO, format="%(message)s")
    logging.info("imported in %d", os.getpid())

if os.environ.get("XPH_TEST_IMPORT_FORKSERVER"):
    # What docs/python-sut.md says not to do: a case must still get its own.
    from multiprocessing import forkserver
    multiprocessing.set_start_method("forkserver")
    forkserver.ensure_running()


def comm():
    with open("/proc/self/comm") as f:
        return f.read().rstrip("\n")


def status_field(name):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(name + ":"):
                return line.split()[1]


def open_fds():
    fds = sorted(int(fd) for fd in os.listdir("/proc/self/fd"))
    # listdir's own descriptor is gone by now; a number it used shows as a dead link
    return [fd for fd in fds if os.path.exists("/proc/self/fd/%d" % fd)]


def worker(_):
    return {"pid": os.getpid(), "ppid": os.getppid(), "pgid": os.getpgid(0), "comm": comm(),
            "tenant": os.environ.get("OPENAI_API_KEY")}


def dispositions():
    out = {}
    for name in ("SIGINT", "SIGTERM", "SIGPIPE", "SIGCHLD", "SIGHUP", "SIGUSR1", "SIGXFSZ"):
        handler = signal.getsignal(getattr(signal, name))
        out[name] = {signal.SIG_DFL: "default", signal.SIG_IGN: "ignore",
                     signal.default_int_handler: "python-int"}.get(handler, "custom")
    return out


def report(extra=None):
    fd, path = tempfile.mkstemp()
    os.close(fd)
    data = {
        "pid": os.getpid(), "ppid": os.getppid(), "pgid": os.getpgid(0), "sid": os.getsid(0),
        "imported_in": IMPORTED_IN, "cwd": os.getcwd(), "env": dict(os.environ),
        "gettempdir": tempfile.gettempdir(), "mkstemp": path, "fds": open_fds(), "comm": comm(),
        "sigblk": status_field("SigBlk"), "dispositions": dispositions(),
        "fsize": list(__import__("resource").getrlimit(__import__("resource").RLIMIT_FSIZE)),
        "made_during_cases": list(MADE_DURING_CASES), "children": len(multiprocessing.active_children()),
        "stdin": sys.stdin.read(),
    }
    data.update(extra or {})
    MADE_DURING_CASES.append(os.getpid())
    with open("report.json", "w") as f:
        json.dump(data, f)


def main():
    mode = os.environ.get("XPH_TEST_MODE", "report")
    print("to stdout from", os.getpid())
    print("to stderr from", os.getpid(), file=sys.stderr)
    if mode == "report":
        report()
        spec = xph_sut.load_spec()
        xph_sut.write_result("warm-probe 1", [xph_sut.ok(p, ["x"]) for p in spec.prompts])
        return 0
    if mode == "return3":
        return 3
    if mode == "raise":
        raise RuntimeError("boom in the case")
    if mode == "exit_message":
        sys.exit("leaving with a message")
    if mode == "pool":
        method = os.environ["XPH_TEST_START"]
        with multiprocessing.get_context(method).Pool(2) as pool:
            workers = pool.map(worker, range(4))
        report({"workers": workers, "method": method})
        return 0
    if mode == "pool_hang":
        with multiprocessing.get_context("fork").Pool(2) as pool:
            pool.map(time.sleep, [600, 600])
        return 0
    if mode == "import_forkserver":
        # The import-time forkserver belongs to the zygote; this one is the case's.
        with multiprocessing.Pool(2) as pool:
            workers = pool.map(worker, range(2))
        report({"workers": workers})
        return 0
    if mode == "shutdown":
        def late():
            time.sleep(0.3)
            with open("thread.txt", "w") as f:
                f.write("joined before exit")
        threading.Thread(target=late).start()
        atexit.register(lambda: open("atexit.txt", "w").write("ran"))
        return 0
    if mode == "logfile":
        # The case's first file takes the lowest free number, the one the
        # zygote's log file had.
        with open("mine.txt", "w") as mine:
            __import__("logging").info("logged by the case %d", os.getpid())
            mine.write("the case's own text\n")
        return 0
    if mode == "sigpipe":
        r, w = os.pipe()
        os.close(r)
        try:
            os.write(w, b"x")
        except BrokenPipeError:
            print("BrokenPipeError, as in a cold interpreter")
            return 0
        return 9
    raise SystemExit("unknown XPH_TEST_MODE %r" % mode)


if __name__ == "__main__":
    xph_sut.serve(main)
