"""The built-in Python SUTs (fixtures/sut: the garaklike variants and
forkstate) run warm as they run cold: the same outcomes, the same Python
error text at the process boundary, under each start method. Real
processes against the real oaimock; the warm side is a real zygote driven
over an inherited socket, as xph drives it."""
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile

import pytest

import warm_driver as wd
from conftest import PYTHON, REPO, write_spec

SUTS = os.path.join(REPO, "fixtures", "sut")
GARAKLIKE = [PYTHON, os.path.join(SUTS, "garaklike")]
FORKSTATE = [PYTHON, os.path.join(SUTS, "forkstate")]
RLOCK = "TypeError: cannot pickle '_thread.RLock' object"
UNPICKLE_400 = ("TypeError: APIStatusError.__init__() missing 2 required keyword-only arguments: "
                "'response' and 'body'")
BOUND_S = 120  # spawned workers import httpx afresh: slow on a loaded machine, never this slow


@pytest.fixture(scope="module", autouse=True)
def subreaper():
    wd.become_subreaper()


@pytest.fixture
def folders():
    root = tempfile.mkdtemp(prefix="xphb-")  # short: a forkserver's socket goes under TMPDIR
    count = [0]

    def make():
        count[0] += 1
        folder = os.path.join(root, "c%d" % count[0])
        os.mkdir(folder)
        return folder
    yield make
    shutil.rmtree(root)


def _read(path):
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except FileNotFoundError:
        return ""


class Run:
    """How one run of a SUT ended: exit code (None: killed once `until`
    showed on its stderr, a hung pool), result, stderr."""

    def __init__(self, folder, code):
        self.code = code
        self.stderr = _read(os.path.join(folder, "stderr.txt"))
        text = _read(os.path.join(folder, "result.json"))
        self.result = json.loads(text) if text else None

    def signature(self):
        """What must not differ between cold and warm: exit, the outcomes
        (labels without the request counter, pids as where they ran), the
        failures' stages and messages, the boundary lines printed."""
        outcomes = failures = None
        if self.result is not None:
            outcomes = sorted((a["id"], a["outcome"], tuple(re.sub(r":r\d+:", ":r*:", o) if o else o
                                                            for o in a.get("outputs", [])),
                               (a.get("error") or {}).get("status")) for a in self.result["attempts"])
            failures = sorted((f["stage"], f["message"]) for f in self.result["failures"])
        lines = sorted({line for line in self.stderr.splitlines()
                        if line.startswith("TypeError:") or line.startswith("KeyError:")})
        return {"code": self.code, "outcomes": outcomes, "failures": failures, "boundary": lines}


def _wait(pid, folder, until):
    """The case's exit code; None when `until` showed on its stderr (its pool
    would wait for ever, so its group was killed)."""
    stderr = os.path.join(folder, "stderr.txt")
    try:
        exit = wd.wait_case(pid, BOUND_S, stop_when=(lambda: until in _read(stderr)) if until else None)
    except AssertionError as e:
        raise AssertionError("%s: %s" % (e, _read(stderr)[-2000:]))
    return None if exit is None else exit.code


def _case(folders, oaimock, probes, method):
    folder = folders()
    write_spec(folder, probes, base_url=oaimock.base_url, api_key=oaimock.api_key, parallel_attempts=3,
               start_method=method)
    return folder, wd.case_env(folder, OPENAI_BASE_URL=oaimock.base_url, OPENAI_API_KEY=oaimock.api_key)


def cold_and_warm(argv, folders, oaimock, probes, method="fork", until=None):
    folder, env = _case(folders, oaimock, probes, method)
    with open(os.path.join(folder, "stdout.txt"), "wb") as out, open(os.path.join(folder, "stderr.txt"), "wb") as err:
        proc = subprocess.Popen(argv, cwd=folder, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                process_group=0)
    try:
        cold = Run(folder, _wait(proc.pid, folder, until))
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    folder, env = _case(folders, oaimock, probes, method)
    zygote = wd.Zygote(argv)
    try:
        reply = zygote.start(os.path.basename(folder), folder, env, "xph-b-" + method[:4])
        assert "pid" in reply, reply
        warm = Run(folder, _wait(reply["pid"], folder, until))
        assert wd.processes_named("xph-b-" + method[:4]) == []
    finally:
        assert zygote.close() == 0, zygote.output()
    return cold, warm


PROBES = (("single", 1), ("multi", 3))


@pytest.mark.parametrize("method", ["fork", "spawn"])
@pytest.mark.parametrize("variant, until", [
    ("leaky-client", None), ("raw-errors", UNPICKLE_400), ("partial-catch", None), ("fixed", None)])
def test_garaklike_warm_as_cold(folders, oaimock, variant, until, method):
    oaimock.script({"*": "200", "multi#1": "400:context_length_exceeded"})
    cold, warm = cold_and_warm(GARAKLIKE + ["--variant", variant], folders, oaimock, PROBES, method, until)
    assert cold.signature() == warm.signature()
    seen = warm.signature()
    if variant == "leaky-client":  # garak #659: the parent's client goes with the pool's tasks
        assert seen["code"] == 1 and RLOCK in seen["boundary"] and seen["outcomes"] is None
    elif variant == "raw-errors":  # the 400 cannot be rebuilt in the parent; the pool waits for ever
        assert seen["code"] is None and UNPICKLE_400 in seen["boundary"]
    else:
        assert seen["code"] == 0 and seen["failures"] == []
        got = {o[0]: o for o in seen["outcomes"]}
        if variant == "partial-catch":  # garak #744: the 400 becomes [None]
            assert got["multi#1"] == ("multi#1", "ok", (None,), None)
        else:
            assert got["multi#1"] == ("multi#1", "error", (), 400)
        assert got["multi#0"] == ("multi#0", "ok", ("xph:multi#0:r*:c0",), None)


@pytest.mark.parametrize("method", ["fork", "spawn", "forkserver"])
def test_forkstate_needs_fork_warm_as_cold(folders, oaimock, method):
    cold, warm = cold_and_warm(FORKSTATE, folders, oaimock, PROBES, method)
    assert cold.signature() == warm.signature()
    seen = warm.signature()
    assert seen["code"] == 0
    if method == "fork":
        assert seen["failures"] == []
        assert [o[:3] for o in seen["outcomes"]] == [
            ("multi#%d" % i, "ok", ("xph:multi#%d:r*:c0" % i,)) for i in range(3)] + [
            ("single#0", "ok", ("xph:single#0:r*:c0",))]
    else:  # the worker imported forkstate afresh: SETTINGS is empty there
        assert seen["failures"] == [("worker", "KeyError: 'base_url'")]
        assert seen["outcomes"] == [("single#0", "ok", ("xph:single#0:r*:c0",), None)]
        assert "KeyError: 'base_url'" in seen["boundary"]
