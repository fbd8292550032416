"""xph's side of the warm start protocol (version 1), played in Python so
the tests can drive a real zygote: one case line per case, and this process
as the child subreaper that waits for each case.

The line to the zygote is made as xph makes it (`via="fd"`, the default): a
socketpair whose one end the zygote inherits across exec as fd N, named by
XPH_WARM=fd:N. `via="path"`: a Unix socket server the zygote connects to,
XPH_WARM=<path>, which xph_sut keeps supporting."""
import ctypes
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

PR_SET_CHILD_SUBREAPER = 36
HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
PACKAGE_DIR = os.path.join(REPO, "harness", "python")


def become_subreaper():
    """As xph is: a case, orphaned when its intermediate exits, comes to us."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER)")


def base_env(**extra):
    """A small environment for the zygote: what xph passes minus case variables."""
    env = {k: os.environ[k] for k in ("PATH", "HOME", "LANG", "LC_ALL") if k in os.environ}
    env["PYTHONPATH"] = PACKAGE_DIR
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


def comm_of(pid):
    try:
        with open("/proc/%d/comm" % pid) as f:
            return f.read().rstrip("\n")
    except OSError:
        return None


def processes_named(comm):
    """Live (non-zombie) processes whose comm is `comm`: how xph finds a case's descendants."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open("/proc/%s/stat" % entry) as f:
                    stat = f.read()
            except OSError:
                continue
            name = stat[stat.index("(") + 1:stat.rindex(")")]
            state = stat[stat.rindex(")") + 2]
            if name == comm and state not in "ZX":
                found.append(int(entry))
    return found


class CaseExit:
    def __init__(self, pid, status):
        self.pid = pid
        self.status = status
        self.code = os.waitstatus_to_exitcode(status)

    def __repr__(self):
        return "CaseExit(pid=%d, code=%d)" % (self.pid, self.code)


VIAS = ("fd", "path")


class Zygote:
    """One warm SUT: started once, each case a fork of it."""

    def __init__(self, argv, env=None, timeout=30.0, via="fd"):
        if via not in VIAS:
            raise ValueError("via must be one of %s" % (VIAS,))
        self.timeout = timeout
        self.via = via
        self.dir = tempfile.mkdtemp(prefix="xphw-")
        self.home = os.path.join(self.dir, "zygote")
        os.mkdir(self.home)
        self.output_path = os.path.join(self.dir, "zygote.out")
        self.last_output = ""
        self.server = self.conn = None
        env = dict(base_env() if env is None else env)
        pass_fds = ()
        if via == "fd":
            # As xph: one end stays open across exec in the zygote (pass_fds
            # keeps its number and clears close-on-exec only there); ours is
            # close-on-exec, so nothing else this process starts holds it.
            self.conn, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
            pass_fds = (theirs.fileno(),)
            env["XPH_WARM"] = "fd:%d" % theirs.fileno()
        else:
            # A short folder: a Unix socket path has room for 107 bytes.
            self.socket_path = os.path.join(self.dir, "warm.sock")
            self.server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.server.bind(self.socket_path)
            self.server.listen(1)
            self.server.settimeout(timeout)
            env["XPH_WARM"] = self.socket_path
        self.proc = None
        try:
            try:
                with open(self.output_path, "wb") as out:
                    self.proc = subprocess.Popen(argv, cwd=self.home, env=env, stdin=subprocess.DEVNULL,
                                                 stdout=out, stderr=subprocess.STDOUT, process_group=0,
                                                 pass_fds=pass_fds)
            finally:
                if via == "fd":
                    theirs.close()  # the zygote's alone now: its exit is our EOF
            if via == "path":
                try:
                    self.conn, _ = self.server.accept()
                except socket.timeout:
                    raise AssertionError("zygote never connected: %s" % self.output()) from None
            self.conn.settimeout(timeout)
            self.reader = self.conn.makefile("rb")
            try:
                self.hello = self._read()
            except socket.timeout:
                raise AssertionError("zygote sent no hello: %s" % self.output()) from None
        except BaseException:
            self.kill()
            if self.conn is not None:
                self.conn.close()
            if self.server is not None:
                self.server.close()
            self.output()
            shutil.rmtree(self.dir, ignore_errors=True)
            raise

    def output(self):
        """What the zygote printed (kept once close() removed its folder)."""
        if os.path.exists(self.output_path):
            with open(self.output_path, errors="replace") as f:
                self.last_output = f.read()
        return self.last_output

    def _read(self):
        line = self.reader.readline()
        if not line:
            raise AssertionError("zygote closed the socket; its output: %s" % self.output())
        return json.loads(line)

    def send_raw(self, data):
        self.conn.sendall(data)
        return self._read()

    def start(self, case_id, folder, env, comm, stdout=None, stderr=None):
        """Send one case; the zygote's answer (pid or error)."""
        msg = {"case": case_id, "dir": folder, "env": env, "comm": comm,
               "stdout": stdout or os.path.join(folder, "stdout.txt"),
               "stderr": stderr or os.path.join(folder, "stderr.txt")}
        return self.send_raw((json.dumps(msg) + "\n").encode())

    def close(self):
        """EOF on the socket: the zygote must exit; its exit code."""
        if self.conn is not None:
            self.reader.close()
            self.conn.close()
            self.conn = None
        try:
            return self.proc.wait(timeout=self.timeout)
        finally:
            self.kill()
            if self.server is not None:
                self.server.close()
            self.output()
            shutil.rmtree(self.dir, ignore_errors=True)

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait(timeout=self.timeout)


def wait_case(pid, timeout=30.0, stop_when=None):
    """Wait for a case process (ours, or reparented to us) and reap its group.
    When `stop_when()` turns true first (say, a line on its stderr after which
    its pool waits for ever), kill the group and return None; past `timeout`,
    kill it and raise AssertionError."""
    deadline = time.monotonic() + timeout
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            reap_group(pid)
            return CaseExit(pid, status)
        if stop_when is not None and stop_when():
            kill_group(pid)  # reaps the group's processes that are ours, pid among them
            return None
        if time.monotonic() > deadline:
            kill_group(pid)
            raise AssertionError("case %d still running after %.0f s" % (pid, timeout))
        time.sleep(0.01)


def kill_group(pgid):
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    reap_group(pgid, timeout=10)


def reap_group(pgid, timeout=0.0):
    """Reap what of the case's group came back to us (pool workers orphaned
    by a killed case): waitpid(-pgid) takes only those."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            pid, _ = os.waitpid(-pgid, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            if time.monotonic() > deadline:
                return
            time.sleep(0.005)


def case_env(folder, **extra):
    """The complete environment of a case, as xph would send it."""
    env = base_env(TMPDIR=folder, TMP=folder, TEMP=folder,
                   OPENAI_BASE_URL="http://127.0.0.1:9/v1", OPENAI_API_KEY="tenant-" + os.path.basename(folder),
                   XPH_SPEC=os.path.join(folder, "spec.json"), XPH_RESULT=os.path.join(folder, "result.json"))
    env.update(extra)
    return env


if __name__ == "__main__":
    sys.exit("a helper for the tests in this folder, not a program")
