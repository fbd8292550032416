"""The warm start protocol, version 1, against a real zygote: real fork,
real sockets, this process as the child subreaper (as xph is). The line to
the zygote is an inherited socketpair end (XPH_WARM=fd:N), as xph makes it,
unless a test says `via="path"`."""
import json
import os
import shutil
import socket
import subprocess
import tempfile

import pytest

import warm_driver as wd
from conftest import PYTHON, REPO, SUTS, write_spec

PROBE_SUT = [PYTHON, os.path.join(SUTS, "warm_probe.py")]


@pytest.fixture(scope="module", autouse=True)
def subreaper():
    wd.become_subreaper()


@pytest.fixture
def zygotes():
    """Start zygotes; each is closed (EOF) and must be gone after the test."""
    started = []

    def start(argv=PROBE_SUT, env=None, via="fd"):
        z = wd.Zygote(argv, env=env, via=via)
        started.append(z)
        return z
    yield start
    for z in started:
        z.close()
        assert z.proc.poll() is not None


@pytest.fixture
def cases():
    """A case folder with its spec, and the case's environment. Short
    folders, as xph makes them: TMPDIR is one, and a forkserver's socket
    path under it must fit in 107 bytes."""
    root = tempfile.mkdtemp(prefix="xphc-")
    count = [0]

    def make(probes=(("p", 1),), spec_fields=None, **env):
        count[0] += 1
        folder = os.path.join(root, "case%d" % count[0])
        os.mkdir(folder)
        write_spec(folder, probes, **(spec_fields or {}))
        return folder, wd.case_env(folder, **env)
    yield make
    shutil.rmtree(root)


def read(path):
    with open(path) as f:
        return f.read()


def run_case(zygote, folder, env, comm, timeout=60):
    reply = zygote.start(os.path.basename(folder), folder, env, comm)
    assert set(reply) == {"case", "pid"}, reply
    assert reply["case"] == os.path.basename(folder)
    exit = wd.wait_case(reply["pid"], timeout)
    assert wd.processes_named(comm) == [], "left running after the case"
    return exit


@pytest.mark.parametrize("via", wd.VIAS)
def test_hello_names_the_zygote(zygotes, via):
    z = zygotes(via=via)
    assert z.hello == {"xph_warm": 1, "pid": z.proc.pid}


def test_the_inherited_socket_is_not_passed_on_by_the_zygote(zygotes):
    z = zygotes()
    fd = [int(n) for n in os.listdir("/proc/%d/fd" % z.proc.pid)
          if os.readlink("/proc/%d/fd/%s" % (z.proc.pid, n)).startswith("socket:")]
    assert len(fd) == 1, fd
    with open("/proc/%d/fdinfo/%d" % (z.proc.pid, fd[0])) as f:
        flags = int(next(line for line in f if line.startswith("flags:")).split()[1], 8)
    assert flags & os.O_CLOEXEC  # what the zygote execs does not get xph's line


@pytest.mark.parametrize("via", wd.VIAS)
def test_a_case_runs_in_a_fresh_fork_with_the_case_world(zygotes, cases, via):
    z = zygotes(via=via)
    folder, env = cases()
    exit = run_case(z, folder, env, "xph-t1-c1")
    assert exit.code == 0, read(os.path.join(folder, "stderr.txt"))
    seen = json.loads(read(os.path.join(folder, "report.json")))
    assert seen["pid"] == exit.pid != z.proc.pid
    assert seen["imported_in"] == z.proc.pid  # imported once, in the zygote
    assert seen["pgid"] == exit.pid  # its own process group
    assert seen["cwd"] == folder
    assert seen["env"] == env  # exactly the case's: nothing of the zygote's XPH_WARM
    assert seen["gettempdir"] == folder and os.path.dirname(seen["mkstemp"]) == folder
    assert seen["fds"] == [0, 1, 2]  # the socket and the pipe are gone
    assert seen["comm"] == "xph-t1-c1"
    assert seen["sigblk"] == "0000000000000000"
    assert seen["fsize"] == [4 << 30, 4 << 30]
    assert seen["stdin"] == ""
    assert read(os.path.join(folder, "stdout.txt")) == "to stdout from %d\n" % exit.pid
    assert read(os.path.join(folder, "stderr.txt")) == "to stderr from %d\n" % exit.pid
    result = json.loads(read(env["XPH_RESULT"]))
    assert result == {"xph": 1, "sut": "warm-probe 1", "failures": [], "pid": exit.pid,
                      "attempts": [{"probe": "p", "id": "p#0", "pid": exit.pid, "outcome": "ok", "outputs": ["x"]}]}
    assert [f for f in os.listdir(folder) if f.startswith(".xph-result-")] == []


@pytest.mark.parametrize("launcher", [[], ["/usr/bin/nohup"]], ids=["plain", "nohup"])
def test_a_case_has_the_signals_of_a_cold_interpreter(zygotes, cases, launcher):
    # The zygote changes handlers and blocks signals at import; a signal
    # ignored from the start (nohup's SIGHUP) stays ignored, as a cold SUT
    # would inherit it.
    z = zygotes(launcher + PROBE_SUT, env=wd.base_env(XPH_TEST_IMPORT_SIGNALS="1"))
    folder, env = cases()
    assert run_case(z, folder, env, "xph-t2").code == 0
    warm = json.loads(read(os.path.join(folder, "report.json")))
    cold_folder, cold_env = cases()
    done = subprocess.run(launcher + PROBE_SUT, cwd=cold_folder, env=cold_env, stdin=subprocess.DEVNULL,
                          capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr
    cold = json.loads(read(os.path.join(cold_folder, "report.json")))
    assert warm["dispositions"] == cold["dispositions"]
    assert warm["dispositions"]["SIGHUP"] == ("ignore" if launcher else "default")
    assert warm["sigblk"] == cold["sigblk"] == "0000000000000000"
    assert cold["imported_in"] == cold["pid"]


def test_sigpipe_is_an_exception_as_in_a_cold_interpreter(zygotes, cases):
    z = zygotes()
    folder, env = cases(XPH_TEST_MODE="sigpipe")
    assert run_case(z, folder, env, "xph-t3").code == 0
    assert "BrokenPipeError" in read(os.path.join(folder, "stdout.txt"))


@pytest.mark.parametrize("mode, code, stderr_has", [
    ("report", 0, []),
    ("return3", 3, []),
    ("raise", 1, ["Traceback (most recent call last):", "RuntimeError: boom in the case"]),
    ("exit_message", 1, ["leaving with a message"]),
])
def test_exit_codes_warm_as_cold(zygotes, cases, mode, code, stderr_has):
    z = zygotes()
    folder, env = cases(XPH_TEST_MODE=mode)
    assert run_case(z, folder, env, "xph-t4").code == code
    stderr = read(os.path.join(folder, "stderr.txt"))
    for text in stderr_has:
        assert text in stderr
    cold_folder, cold_env = cases(XPH_TEST_MODE=mode)
    done = subprocess.run(PROBE_SUT, cwd=cold_folder, env=cold_env, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == code
    for text in stderr_has:
        assert text in done.stderr


def test_two_cases_in_a_row_share_nothing_made_during_a_case(zygotes, cases):
    z = zygotes()
    first, first_env = cases()
    second, second_env = cases()
    one = run_case(z, first, first_env, "xph-t5-a")
    two = run_case(z, second, second_env, "xph-t5-b")
    assert one.code == two.code == 0
    seen = [json.loads(read(os.path.join(f, "report.json"))) for f in (first, second)]
    assert seen[0]["made_during_cases"] == seen[1]["made_during_cases"] == []
    assert seen[1]["pid"] != seen[0]["pid"]
    assert seen[1]["env"]["OPENAI_API_KEY"] == second_env["OPENAI_API_KEY"] != first_env["OPENAI_API_KEY"]
    assert seen[1]["comm"] == "xph-t5-b"
    assert read(os.path.join(first, "stdout.txt")) == "to stdout from %d\n" % one.pid


@pytest.mark.parametrize("method", ["fork", "spawn", "forkserver"])
def test_pool_workers_inside_a_warm_case(zygotes, cases, method):
    z = zygotes()
    folder, env = cases(XPH_TEST_MODE="pool", XPH_TEST_START=method)
    exit = run_case(z, folder, env, "xph-t6-" + method[:4])
    assert exit.code == 0, read(os.path.join(folder, "stderr.txt"))
    seen = json.loads(read(os.path.join(folder, "report.json")))
    workers = seen["workers"]
    assert {w["pid"] for w in workers}.isdisjoint({exit.pid, z.proc.pid})
    assert {w["pgid"] for w in workers} == {exit.pid}  # in the case's group: killed with it
    assert {w["tenant"] for w in workers} == {env["OPENAI_API_KEY"]}
    if method == "fork":
        assert {w["ppid"] for w in workers} == {exit.pid}
        assert {w["comm"] for w in workers} == {"xph-t6-fork"}  # how xph finds forked descendants
    assert seen["children"] == 0


def test_a_forkserver_started_at_import_is_not_used_by_a_case(zygotes, cases):
    z = zygotes(env=wd.base_env(XPH_TEST_IMPORT_FORKSERVER="1"))
    for n in range(2):
        folder, env = cases(XPH_TEST_MODE="import_forkserver")
        exit = run_case(z, folder, env, "xph-t7-%d" % n)
        assert exit.code == 0, read(os.path.join(folder, "stderr.txt"))
        workers = json.loads(read(os.path.join(folder, "report.json")))["workers"]
        # Workers of the zygote's forkserver would be in the zygote's group.
        assert {w["pgid"] for w in workers} == {exit.pid}


def test_a_log_file_opened_at_import_is_written_by_the_case_not_its_new_files(zygotes, cases, tmp_path):
    log = str(tmp_path / "import.log")
    z = zygotes(env=wd.base_env(XPH_TEST_IMPORT_LOGFILE=log))
    for n in range(2):
        folder, env = cases(XPH_TEST_MODE="logfile")
        exit = run_case(z, folder, env, "xph-t14-%d" % n)
        assert exit.code == 0, read(os.path.join(folder, "stderr.txt"))
        assert read(os.path.join(folder, "mine.txt")) == "the case's own text\n"
        assert read(log).splitlines()[-1] == "logged by the case %d" % exit.pid
    assert read(log).splitlines()[0] == "imported in %d" % z.proc.pid


def test_exit_joins_threads_and_runs_atexit_as_a_cold_exit_does(zygotes, cases):
    z = zygotes()
    folder, env = cases(XPH_TEST_MODE="shutdown")
    assert run_case(z, folder, env, "xph-t8").code == 0
    assert read(os.path.join(folder, "thread.txt")) == "joined before exit"
    assert read(os.path.join(folder, "atexit.txt")) == "ran"


def test_a_bad_case_line_gets_an_error_and_the_zygote_goes_on(zygotes, cases):
    z = zygotes()
    reply = z.send_raw(b"not json\n")
    assert reply["case"] is None and reply["error"].startswith("case line is not JSON")
    reply = z.send_raw(b'{"case": "c9", "dir": "/tmp"}\n')
    assert reply == {"case": "c9", "error": "case field 'env' is missing or not a object"}
    folder, env = cases()
    assert run_case(z, folder, env, "xph-t9").code == 0


def test_a_case_whose_set_up_fails_exits_125_before_the_sut_runs(zygotes, cases, tmp_path):
    z = zygotes()
    folder, env = cases()
    reply = z.start("gone", str(tmp_path / "no-such-folder"), env, "xph-t10",
                    stdout=os.path.join(folder, "out"), stderr=os.path.join(folder, "err"))
    assert wd.wait_case(reply["pid"]).code == 125
    err = read(os.path.join(folder, "err"))
    assert "xph_sut: warm case gone: set-up failed before the SUT ran" in err
    assert "FileNotFoundError" in err
    assert read(os.path.join(folder, "out")) == ""


def test_a_killed_case_leaves_nothing_and_the_zygote_serves_the_next(zygotes, cases):
    z = zygotes()
    folder, env = cases(XPH_TEST_MODE="pool_hang")
    reply = z.start("hung", folder, env, "xph-t11-hung")
    with pytest.raises(AssertionError, match="still running"):
        wd.wait_case(reply["pid"], timeout=3)
    assert wd.processes_named("xph-t11-hung") == []
    folder, env = cases()
    assert run_case(z, folder, env, "xph-t11-next").code == 0


@pytest.mark.parametrize("via", wd.VIAS)
def test_the_zygote_exits_0_on_eof(zygotes, cases, via):
    z = zygotes(via=via)
    folder, env = cases()
    assert run_case(z, folder, env, "xph-t12").code == 0
    assert z.close() == 0
    assert "Traceback" not in z.output()


def test_cold_serve_runs_main_once(cases):
    folder, env = cases(XPH_TEST_MODE="return3")
    done = subprocess.run(PROBE_SUT, cwd=folder, env=env, stdin=subprocess.DEVNULL, capture_output=True,
                          timeout=60)
    assert done.returncode == 3
    assert done.stdout.decode().count("to stdout from") == 1


def test_a_zygote_that_cannot_reach_xph_says_so(tmp_path):
    env = wd.base_env(XPH_WARM=str(tmp_path / "nobody-listens"))
    done = subprocess.run(PROBE_SUT, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 3
    assert done.stderr.startswith("xph_sut: cannot reach xph at XPH_WARM=%s: " % (tmp_path / "nobody-listens"))


@pytest.mark.parametrize("what, reason", [
    ("closed", "Bad file descriptor"),
    ("file", "Socket operation on non-socket"),
    ("udp", "is not a Unix stream socket"),
    ("word", "not a descriptor number"),
])
def test_a_zygote_given_a_descriptor_that_is_not_xphs_line_says_so(tmp_path, what, reason):
    keep = []
    if what == "file":
        keep.append(open(tmp_path / "plain", "w"))
        fd = keep[-1].fileno()
    elif what == "udp":
        keep.append(socket.socket(socket.AF_INET, socket.SOCK_DGRAM))
        fd = keep[-1].fileno()
    else:
        fd = 99
    value = "fd:nine" if what == "word" else "fd:%d" % fd
    try:
        done = subprocess.run(PROBE_SUT, env=wd.base_env(XPH_WARM=value), stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=60,
                              pass_fds=(fd,) if what in ("file", "udp") else ())
    finally:
        for f in keep:
            f.close()
    assert done.returncode == 3, done.stderr
    assert done.stderr.startswith("xph_sut: cannot reach xph at XPH_WARM=%s: " % value), done.stderr
    assert reason in done.stderr


@pytest.mark.parametrize("method", ["fork", "spawn", "forkserver"])
def test_the_adapter_example_runs_warm_against_oaimock(zygotes, cases, oaimock, method):
    oaimock.script({"*": "200", "multi#1": "400:context_length_exceeded", "multi#2": "429@0.01,200"})
    z = zygotes([PYTHON, os.path.join(REPO, "docs", "examples", "adapter.py")])
    folder, env = cases(probes=(("single", 1), ("multi", 3)), spec_fields={
        "base_url": oaimock.base_url, "api_key": oaimock.api_key, "parallel_attempts": 3,
        "generations": 2, "start_method": method})
    env.update(OPENAI_BASE_URL=oaimock.base_url, OPENAI_API_KEY=oaimock.api_key)
    exit = run_case(z, folder, env, "xph-t13-" + method[:4])
    assert exit.code == 0, read(os.path.join(folder, "stderr.txt"))
    result = json.loads(read(env["XPH_RESULT"]))
    assert result["failures"] == [] and result["sut"] == "adapter-example 2"
    got = {a["id"]: a for a in result["attempts"]}
    assert got["single#0"]["outputs"] == ["xph:single#0:r0:c0", "xph:single#0:r0:c1"]
    assert got["single#0"]["pid"] == exit.pid  # in-process, as garak runs a single attempt
    assert got["multi#0"]["outputs"] == ["xph:multi#0:r0:c0", "xph:multi#0:r0:c1"]
    assert got["multi#2"]["outputs"] == ["xph:multi#2:r1:c0", "xph:multi#2:r1:c1"]
    last_400 = [e for e in oaimock.journal() if e["key"] == "multi#1"][-1]
    assert got["multi#1"]["error"] == {
        "kind": "http", "status": 400, "type": "invalid_request_error", "code": "context_length_exceeded",
        "message": got["multi#1"]["error"]["message"], "request_id": last_400["request_id"],
        "exception": "HTTPError"}
    assert exit.pid not in {got["multi#%d" % i]["pid"] for i in range(3)}  # pool workers
