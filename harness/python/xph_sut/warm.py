"""serve(main): a SUT's entry point, cold or warm.

Cold (XPH_WARM unset): main() runs once and its return value is the exit code.

Warm, protocol version 1: this process is the zygote. XPH_WARM names its
line to xph: `fd:N`, a connected Unix stream socket xph left open across exec
as fd N (a socketpair: what xph does), or the path of a Unix socket xph
listens on. It has imported what the SUT needs; xph sends one
JSON line per case, and each case runs as a fresh fork of it (C2), started
through a short-lived intermediate (C1) so that, C1 gone, C2 is reparented
to xph, the child subreaper, which waits for it like any child it started.
docs/python-sut.md is the protocol's reference for other implementations.
"""
import atexit
import gc
import io
import json
import os
import resource
import signal
import socket
import sys
import tempfile
import threading
import time
import traceback

PROTOCOL_VERSION = 1
# A case whose set-up failed before the SUT's code ran exits with this code
# (as `env` and container runtimes do when the launcher itself fails).
SETUP_FAILED = 125
_MAX_FILE_BYTES = 4 << 30  # as xph bounds a cold SUT's files
_PR_SET_NAME = 15
_CASE_FIELDS = {"case": str, "dir": str, "env": dict, "stdout": str, "stderr": str, "comm": str}

# Signals ignored when this module was first imported were inherited as
# ignored, as a cold SUT would inherit them from xph (nohup's SIGHUP): a case
# keeps them ignored. Every other signal gets a fresh interpreter's state.
_IGNORED_AT_START = frozenset(
    s for s in signal.valid_signals()
    if s not in (signal.SIGKILL, signal.SIGSTOP) and signal.getsignal(s) == signal.SIG_IGN)

# The zygote's std stream objects, kept referenced for ever: collected in a
# case, they would close fds 0-2, which by then are the case's files.
_kept = []


def serve(main):
    """Run main() as the SUT: once (cold) or once per case (warm)."""
    where = os.environ.get("XPH_WARM")
    if not where:
        sys.exit(main())
    _zygote(where, main)


def _one_line(text):
    return " ".join(str(text).split()) or "error"


def _connect(where):
    """The socket to xph, from XPH_WARM: `fd:N` (inherited, already
    connected) or a path (connect to it). Raises OSError with the reason."""
    if where.startswith("fd:"):
        try:
            fd = int(where[3:])
        except ValueError:
            raise OSError(0, "not a descriptor number") from None
        if fd < 3:
            raise OSError(0, "fd %d is a standard stream, not xph's socket" % fd)
        sock = socket.socket(fileno=fd)  # EBADF when xph did not leave it open
        if sock.family != socket.AF_UNIX or sock.type != socket.SOCK_STREAM:
            sock.detach()
            raise OSError(0, "fd %d is not a Unix stream socket" % fd)
        # It came across exec; nothing this process starts should get it too.
        sock.set_inheritable(False)
        return sock
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(where)
    except OSError:
        sock.close()
        raise
    return sock


def _zygote(where, main):
    threads = [t.name for t in threading.enumerate() if t is not threading.current_thread()]
    if threads:
        print("xph_sut: warm start with %d other thread(s) alive (%s): fork copies only this one; "
              "start threads in main(), not at import" % (len(threads), ", ".join(threads)),
              file=sys.stderr, flush=True)
    libc = _libc()
    try:
        sock = _connect(where)
        sock.sendall(_line({"xph_warm": PROTOCOL_VERSION, "pid": os.getpid()}))
    except OSError as e:
        print("xph_sut: cannot reach xph at XPH_WARM=%s: %s" % (where, e.strerror or e), file=sys.stderr)
        sys.exit(3)
    reader = sock.makefile("rb")
    # What import built is never freed by a case: left to the collector, each
    # case would touch (and so copy) every page of it.
    gc.freeze()
    while True:
        try:
            line = reader.readline()
        except OSError:
            break
        if not line:
            break  # xph closed the socket: no more cases
        reply = _start_case(line, main, sock, libc)
        try:
            sock.sendall(_line(reply))
        except OSError:
            break
    sys.exit(0)


def _line(obj):
    return (json.dumps(obj, separators=(",", ":")) + "\n").encode()


def _parse_case(line):
    try:
        msg = json.loads(line)
    except ValueError as e:
        return None, "case line is not JSON: %s" % e
    if not isinstance(msg, dict):
        return None, "case line is not a JSON object"
    for name, kind in _CASE_FIELDS.items():
        if not isinstance(msg.get(name), kind):
            return msg, "case field %r is missing or not a %s" % (name, "string" if kind is str else "object")
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in msg["env"].items()):
        return msg, "case field 'env' must map strings to strings"
    return msg, None


def _start_case(line, main, sock, libc):
    msg, problem = _parse_case(line)
    case_id = msg.get("case") if isinstance(msg, dict) else None
    if problem:
        return {"case": case_id, "error": problem}
    for stream in (sys.stdout, sys.stderr):
        try:  # or C2 would print what the zygote buffered
            stream.flush()
        except Exception:
            pass
    r, w = os.pipe()
    try:
        c1 = os.fork()
    except OSError as e:
        os.close(r)
        os.close(w)
        return {"case": case_id, "error": "fork: %s" % e.strerror}
    if c1 == 0:
        try:
            os.close(r)
            c2 = os.fork()
            if c2 == 0:
                os.close(w)
                _run_case(msg, main, sock, libc)  # never returns
            # Set here too, so the group exists before xph hears the pid.
            try:
                os.setpgid(c2, c2)
            except OSError:
                pass
            os.write(w, b"%d\n" % c2)
            os._exit(0)
        except BaseException as e:
            try:
                os.write(w, ("error %s\n" % _one_line(e)).encode())
            finally:
                os._exit(1)
    os.close(w)
    answer = b""
    try:
        while not answer.endswith(b"\n"):
            chunk = os.read(r, 256)
            if not chunk:
                break
            answer += chunk
    finally:
        os.close(r)
        try:
            os.waitpid(c1, 0)
        except ChildProcessError:
            pass  # SIGCHLD ignored since start: the kernel reaped it
    text = answer.decode(errors="replace").strip()
    if text.isdigit():
        return {"case": case_id, "pid": int(text)}
    return {"case": case_id, "error": text[len("error "):] if text.startswith("error ") else
            "the intermediate process died before starting the case"}


def _run_case(msg, main, sock, libc):
    """C2: become the case, run main(), exit. Never returns."""
    code = SETUP_FAILED
    try:
        try:
            _become_case(msg, sock, libc)
        except BaseException:
            print("xph_sut: warm case %s: set-up failed before the SUT ran:" % msg["case"], file=sys.stderr)
            traceback.print_exc()
            _flush()
            os._exit(SETUP_FAILED)
        code = _run_main(main)
    finally:
        os._exit(code)


def _become_case(msg, sock, libc):
    os.setpgid(0, 0)
    _fresh_signals()
    try:
        resource.setrlimit(resource.RLIMIT_FSIZE, (_MAX_FILE_BYTES, _MAX_FILE_BYTES))
    except (ValueError, OSError):  # a lower hard limit cannot be raised: keep it
        hard = resource.getrlimit(resource.RLIMIT_FSIZE)[1]
        resource.setrlimit(resource.RLIMIT_FSIZE, (min(_MAX_FILE_BYTES, hard), hard))
    _redirect(msg)
    # The socket object stays alive in the zygote's frames; detached, nothing
    # can later close its old fd number under whatever the case opens there.
    sock.detach()
    os.closerange(3, max(resource.getrlimit(resource.RLIMIT_NOFILE)[1], 1 << 16))
    os.chdir(msg["dir"])
    os.environ.clear()  # clear + update: putenv too, so programs exec'd later see the case's
    os.environ.update(msg["env"])
    tempfile.tempdir = None  # re-read from TMPDIR on next use
    time.tzset()
    if libc is not None:
        name = msg["comm"].encode()[:15]
        import ctypes
        libc.prctl(_PR_SET_NAME, ctypes.c_char_p(name), ctypes.c_ulong(0), ctypes.c_ulong(0), ctypes.c_ulong(0))
    _reopen_log_files()
    _fresh_multiprocessing()


def _reopen_log_files():
    """A logging.FileHandler opened at import (garak HEAD's `import garak`
    calls logging.basicConfig(filename=...)) holds a file object whose fd
    the case has closed: its next record would go to whatever the case
    opens under that number. Each is made to open its file again on its
    next record, as the cold SUT's would have been opened in the case. The
    old file objects stay referenced: collected, they would close that
    number under the case too."""
    logging = sys.modules.get("logging")
    if logging is None:
        return
    loggers = [logging.getLogger()] + [
        lg for lg in list(logging.Logger.manager.loggerDict.values()) if isinstance(lg, logging.Logger)]
    for logger in loggers:
        for handler in list(logger.handlers):
            if isinstance(handler, logging.FileHandler) and handler.stream is not None:
                _kept.append(handler.stream)
                handler.stream = None  # FileHandler.emit opens it again


def _fresh_signals():
    signal.pthread_sigmask(signal.SIG_SETMASK, [])
    signal.set_wakeup_fd(-1)  # an event loop made at import wrote to an fd the case no longer has
    for s in signal.valid_signals():
        if s in (signal.SIGKILL, signal.SIGSTOP):
            continue
        if s in _IGNORED_AT_START or s in (signal.SIGPIPE, signal.SIGXFSZ):
            handler = signal.SIG_IGN  # as a fresh interpreter sets them
        elif s == signal.SIGINT:
            handler = signal.default_int_handler
        else:
            handler = signal.SIG_DFL
        try:
            signal.signal(s, handler)
        except (OSError, ValueError):
            pass  # glibc's own real-time signals


def _redirect(msg):
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    for fd, path in ((1, msg["stdout"]), (2, msg["stderr"])):
        f = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_APPEND, 0o644)
        os.dup2(f, fd)
        os.close(f)
    _kept.extend([sys.stdin, sys.stdout, sys.stderr, sys.__stdin__, sys.__stdout__, sys.__stderr__])
    encoding = getattr(sys.__stdout__, "encoding", None) or "utf-8"
    sys.stdin = sys.__stdin__ = open(0, "r", closefd=False, encoding=encoding)
    sys.stdout = sys.__stdout__ = _writer(1, encoding, getattr(sys.__stdout__, "errors", "strict"))
    sys.stderr = sys.__stderr__ = _writer(2, encoding, "backslashreplace")


def _writer(fd, encoding, errors):
    # As PYTHONUNBUFFERED gives a cold SUT: every write reaches the file at
    # once, so a case killed mid-run leaves all it printed.
    return io.TextIOWrapper(io.FileIO(fd, "w", closefd=False), encoding=encoding, errors=errors,
                            line_buffering=True, write_through=True)


def _fresh_multiprocessing():
    """What multiprocessing does in a child it forks itself (BaseProcess._bootstrap),
    and the helper processes the zygote may have started: this process has
    none of its own yet."""
    process = sys.modules.get("multiprocessing.process")
    if process is not None:
        import itertools
        process._children = set()
        process._process_counter = itertools.count(1)
        process.current_process().authkey = os.urandom(32)
    util = sys.modules.get("multiprocessing.util")
    if util is not None:
        util._finalizer_registry.clear()
        util._run_after_forkers()
    forkserver = sys.modules.get("multiprocessing.forkserver")
    if forkserver is not None:
        server = forkserver._forkserver
        server._forkserver_address = server._forkserver_alive_fd = server._forkserver_pid = None
        server._inherited_fds = None
        server._lock = threading.Lock()
    tracker = sys.modules.get("multiprocessing.resource_tracker")
    if tracker is not None:
        tracker._resource_tracker._fd = tracker._resource_tracker._pid = None
        tracker._resource_tracker._lock = threading.Lock()


def _exit_code(value):
    if value is None:
        return 0
    if isinstance(value, int):
        return value
    print(value, file=sys.stderr)  # as sys.exit("message") does
    return 1


def _run_main(main):
    try:
        code = _exit_code(main())
    except SystemExit as e:
        code = _exit_code(e.code)
    except BaseException:
        traceback.print_exc()
        code = 1
    # What interpreter shutdown would do, in its order: join non-daemon
    # threads, run atexit handlers, flush the std streams.
    try:
        threading._shutdown()
    except Exception:
        traceback.print_exc()
    atexit._run_exitfuncs()
    _flush()
    return code


def _flush():
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass


def _libc():
    try:
        import ctypes
        return ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None
