"""The result file: whole or not at all (contract section 4)."""
import json
import os
import tempfile


def result(sut, attempts, failures=(), pid=None):
    """The result object. sut: "NAME VERSION"; pid: the process that writes
    it, the SUT's own (the one whose attempts would cross no boundary)."""
    if not isinstance(sut, str) or not sut.strip():
        raise ValueError("sut must be a non-empty 'NAME VERSION' string")
    out = {"xph": 1, "sut": sut, "attempts": list(attempts), "failures": list(failures)}
    if pid is not None:
        out["pid"] = pid
    return out


def write_result(sut, attempts, failures=(), path=None):
    """Write the result to `path` (default $XPH_RESULT) atomically: a temp
    file in the same folder, fsynced, then renamed over the target, so the
    judge never reads half a result from a SUT killed while writing. It
    carries this process's pid as the writer's: the process that gathered
    the attempts, which xph's VACUOUS compares their pids with."""
    path = path or os.environ.get("XPH_RESULT")
    if not path:
        raise RuntimeError("XPH_RESULT is not set (xph contract section 4)")
    data = json.dumps(result(sut, attempts, failures, pid=os.getpid())).encode()
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".xph-result-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.rename(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    try:  # the rename itself is durable only once the folder is synced
        dirfd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(dirfd)
        finally:
            os.close(dirfd)
    except OSError:
        pass
    return path
