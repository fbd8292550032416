"""Shared by the deploy tests: checks that print one line each, and bounded
subprocesses that leave nothing behind."""
import os
import signal
import subprocess
import sys
import time

_results = []


def check(ok, what):
    _results.append(bool(ok))
    print(("ok   " if ok else "FAIL ") + what, flush=True)
    return bool(ok)


def finish():
    failed = _results.count(False)
    print("%d passed, %d failed" % (len(_results) - failed, failed))
    sys.exit(1 if failed or not _results else 0)


def start(argv, env=None, cwd=None, stdout=subprocess.PIPE, stderr=subprocess.PIPE):
    """In its own session, so that a timeout can end it and all it started."""
    return subprocess.Popen(argv, env=env, cwd=cwd, stdin=subprocess.DEVNULL, stdout=stdout,
                            stderr=stderr, start_new_session=True, text=True)


def stop(proc):
    """SIGTERM first (xph then ends its SUTs, which sit in process groups of
    their own), SIGKILL if that is not enough."""
    for sig, grace in ((signal.SIGTERM, 15), (signal.SIGKILL, 5)):
        if proc.poll() is not None:
            return
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            pass


def wait(proc, timeout, what):
    """(exit code, stdout, stderr); the code is None when it ran out of time."""
    try:
        out, err = proc.communicate(timeout=timeout)
        return proc.returncode, out or "", err or ""
    except subprocess.TimeoutExpired:
        stop(proc)
        out, err = proc.communicate()
        check(False, "%s finished within %d s (its process group was killed)" % (what, timeout))
        return None, out or "", err or ""


def run(argv, timeout, what, **kw):
    return wait(start(argv, **kw), timeout, what)


def clean_env(**extra):
    """This environment without the Kubernetes variables (a test run inside a
    pod must not pick up its own shard), plus extra."""
    env = {k: v for k, v in os.environ.items() if k not in ("JOB_COMPLETION_INDEX", "JOB_COMPLETIONS")}
    env.update(extra)
    return env


def help_flags(xph, command):
    """The long flags `xph COMMAND --help` lists."""
    code, out, err = run([xph, command, "--help"], 60, "xph %s --help" % command)
    flags = set()
    for line in out.splitlines():
        for word in line.replace(",", " ").split():
            if word.startswith("-"):
                flags.add(word.split("=")[0])
    return code, flags


def flags_in(words):
    """The flags an argument vector uses (--flag=value counts as --flag)."""
    return [w.split("=")[0] for w in words if w.startswith("-") and w != "-"]
