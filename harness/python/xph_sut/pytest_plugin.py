"""pytest fixtures for a scanner's own test suite: `oaimock` and `xph`.

    /usr/bin/python3 -m pytest -p xph_sut.pytest_plugin tests/

    def test_pooled_400_crosses_back(xph):
        run = xph.run("scenarios/pooled_400.json", sut_cmd="python3 -m mysut", sut_name="mysut")
        run.assert_met()

    def test_client_retries_a_429(oaimock):
        oaimock.script("429@0.05,200")
        ...  # point the client at oaimock.base_url with oaimock.api_key
        assert [e["status"] for e in oaimock.journal()] == [429, 200]

Binaries: $XPH_OAIMOCK / $XPH_BIN, else beside an `xph` on PATH (oaimock) or
on PATH (xph), else this checkout's build tree.
"""
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

import pytest

PACKAGE_PARENT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # harness/python
REPO = os.path.dirname(os.path.dirname(PACKAGE_PARENT))
_START_BOUND_S = 15.0
_STOP_BOUND_S = 10.0


class XphError(RuntimeError):
    """xph or oaimock could not do what was asked (not a verdict: bad input,
    a missing binary, a broken environment)."""


def find_binary(name):
    """Path of `oaimock` or `xph`, by the plugin's search order."""
    env_var, build = {"oaimock": ("XPH_OAIMOCK", ("build", "mock_server", "oaimock")),
                      "xph": ("XPH_BIN", ("build", "harness", "xph"))}[name]
    explicit = os.environ.get(env_var)
    if explicit:
        if not (os.path.isfile(explicit) and os.access(explicit, os.X_OK)):
            raise XphError("%s=%s: not an executable file" % (env_var, explicit))
        return explicit
    looked = ["$%s (unset)" % env_var]
    on_path = shutil.which("xph")
    candidate = on_path if name == "xph" else (
        os.path.join(os.path.dirname(on_path), name) if on_path else None)
    looked.append(candidate or "xph on PATH (none)")
    if candidate and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
        return candidate
    in_build = os.path.join(REPO, *build)
    looked.append(in_build)
    if os.path.isfile(in_build) and os.access(in_build, os.X_OK):
        return in_build
    raise XphError("cannot find %s; looked at: %s" % (name, ", ".join(looked)))


# ---------------------------------------------------------------- oaimock

class OaimockServer:
    """One oaimock process on a free port, for the whole session."""

    def __init__(self, binary, workdir):
        self.binary = binary
        port_file = os.path.join(workdir, "oaimock.port")
        self.log_path = os.path.join(workdir, "oaimock.log")
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen([binary, "--port", "0", "--port-file", port_file],
                                         stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + _START_BOUND_S
        port = None
        while port is None:
            try:
                with open(port_file) as f:
                    text = f.read().strip()
                port = int(text) if text.isdigit() else None
            except OSError:
                pass
            if port is None:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise XphError("oaimock (%s) did not start: %s" % (binary, self.log()))
                time.sleep(0.01)
        self.url = "http://127.0.0.1:%d" % port

    def log(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read().strip() or "(no output)"
        except OSError:
            return "(no log)"

    def admin(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url + "/_xph/" + path, data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=_START_BOUND_S) as response:
                text = response.read()
        except urllib.error.HTTPError as e:
            raise XphError("oaimock %s /_xph/%s: %d %s" % (method, path, e.code, e.read().decode(errors="replace")))
        return json.loads(text) if text.strip() else None

    def stop(self):
        """SIGTERM (oaimock finishes what is in flight), a bounded wait, then kill."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=_STOP_BOUND_S)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=_STOP_BOUND_S)
        return self.proc.returncode


class Oaimock:
    """One test's tenant of the session's oaimock."""

    def __init__(self, server, token):
        self.server = server
        self.api_key = token
        self.url = server.url
        self.base_url = server.url + "/v1"

    def script(self, responses):
        """Script this tenant: a `responses` object as in a scenario
        ({"*": "200", "multi#1": "400:context_length_exceeded"}), or a step
        DSL string meaning {"*": DSL}."""
        if isinstance(responses, str):
            responses = {"*": responses}
        self.server.admin("PUT", "tenants/" + self.api_key, responses)

    def journal(self, wait_for=None, timeout=5.0):
        """This tenant's journal entries, oldest first. The server journals a
        fault after its client has seen it: with wait_for=N, wait (at most
        `timeout` seconds) until N entries are there."""
        deadline = time.monotonic() + timeout
        while True:
            entries = self.server.admin("GET", "journal?tenant=" + urllib.parse.quote(self.api_key))
            if wait_for is None or len(entries) >= wait_for or time.monotonic() > deadline:
                return entries
            time.sleep(0.01)

    def __repr__(self):
        return "<oaimock tenant %s at %s>" % (self.api_key, self.base_url)


@pytest.fixture(scope="session")
def oaimock_server(tmp_path_factory):
    """The session's oaimock process (OaimockServer)."""
    server = OaimockServer(find_binary("oaimock"), str(tmp_path_factory.mktemp("oaimock")))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def oaimock(oaimock_server):
    """A fresh tenant of the session's oaimock: .base_url (ends in /v1),
    .api_key (the tenant's token), .script(responses), .journal()."""
    tenant = Oaimock(oaimock_server, "pytest-" + uuid.uuid4().hex[:16])
    yield tenant
    try:
        oaimock_server.admin("DELETE", "tenants/" + tenant.api_key)
    except (XphError, OSError):
        pass  # the server may have been stopped by the test itself


# ---------------------------------------------------------------- xph

class Verdict(str):
    """A case's verdict: a string, which remembers its case so that a failed
    `assert case.verdict == "PASS"` can print the findings and replay line."""

    def __new__(cls, value, case):
        self = super().__new__(cls, value)
        self.case = case
        return self


class Finding:
    __slots__ = ("verdict", "attempt", "detail")

    def __init__(self, verdict, attempt, detail):
        self.verdict, self.attempt, self.detail = verdict, attempt, detail

    def __eq__(self, other):
        return isinstance(other, Finding) and (self.verdict, self.attempt, self.detail) == (
            other.verdict, other.attempt, other.detail)

    def __str__(self):
        return "%s%s: %s" % (self.verdict, " " + self.attempt if self.attempt else "", self.detail)

    __repr__ = __str__


class XphCase:
    """One case of an `xph run` report (contract section 6, --json)."""

    def __init__(self, raw):
        self.raw = raw
        self.id = raw.get("id")
        self.scenario = raw.get("scenario")
        self.sut = raw.get("sut")
        self.verdict = Verdict(raw.get("verdict") or "", self)
        self.expected = raw.get("expected")
        self.met = bool(raw.get("met"))
        self.flags = list(raw.get("flags") or [])
        self.findings = [Finding(f.get("verdict"), f.get("attempt"), f.get("detail"))
                         for f in raw.get("findings") or []]
        self.replay = raw.get("replay")
        self.duration_s = raw.get("duration_s")
        self.scenario_dict = None  # the dict it came from, when xph.run was given one

    def summary(self):
        flags = " [%s]" % ", ".join(self.flags) if self.flags else ""
        return "%s (%s): %s%s, expected %s, %s" % (
            self.id, self.sut, self.verdict, flags, self.expected, "met" if self.met else "NOT met")

    def explain(self):
        """Every line a reader needs: the verdict, the replay command (second,
        so that pytest's shortened report keeps it), the scenario when it was
        a dict (its file is in pytest's temporary folder, which pytest
        removes after three sessions), each finding."""
        lines = ["xph case " + self.summary(), "  replay: %s" % self.replay]
        if self.scenario_dict is not None:
            lines.append("  scenario (a dict, written to a temporary file): %s" % json.dumps(
                self.scenario_dict, separators=(",", ":")))
        lines += ["  finding " + str(f) for f in self.findings] or ["  no findings"]
        return "\n".join(lines)

    def assert_met(self):
        if not self.met:
            raise AssertionError(self.explain())

    def __repr__(self):
        # pytest shortens a long repr (to 240 characters without -vv): the
        # verdict and the first finding come first.
        first = "; %s" % self.findings[0] if self.findings else ""
        return "<xph case %s%s; replay: %s>" % (self.summary(), first, self.replay)


class XphRun(list):
    """The cases of one `xph run`, in report order, plus how xph ended."""

    def __init__(self, cases, command, exit_code, stdout, stderr):
        super().__init__(cases)
        self.command, self.exit_code, self.stdout, self.stderr = command, exit_code, stdout, stderr

    @property
    def unmet(self):
        return [c for c in self if not c.met]

    def case(self, case_id, sut=None):
        """The one case with this id (and SUT, when several ran)."""
        found = [c for c in self if c.id == case_id and (sut is None or c.sut == sut)]
        if len(found) != 1:
            raise LookupError("%d cases are %s%s; the run has: %s" % (
                len(found), case_id, " on " + sut if sut else "", ", ".join("%s (%s)" % (c.id, c.sut) for c in self)))
        return found[0]

    def explain(self):
        return "\n".join(["xph run: %d case(s), %d not met" % (len(self), len(self.unmet))] +
                         [c.explain() for c in self.unmet])

    def assert_met(self):
        if self.unmet:
            raise AssertionError(self.explain())

    def __repr__(self):
        return "<xph run: %d case(s), %d not met%s>" % (
            len(self), len(self.unmet), "".join("; " + repr(c) for c in self.unmet[:1]))


class Xph:
    """Runs `xph run` and reads its --json report."""

    def __init__(self, binary, workdir):
        self.binary = binary
        self.workdir = workdir

    def run(self, scenarios, sut_cmd=None, sut_name=None, extra_args=(), timeout=600, env=None):
        """scenarios: a path, a scenario dict, or a list of both (a dict is
        written to a file named after its "name"; two dicts of one name are
        xph's bad input, as two files would be). sut_cmd: the SUT's argv as
        one string; with none, xph's default SUT (or --sut in extra_args).
        env: variables to set for xph and the SUT, over this process's
        environment (None as a value unsets one); each case's replay line
        starts with them (and with the PYTHONPATH xph_sut adds, when this
        environment lacks it). Returns an XphRun; raises XphError when xph itself
        fails (exit 2: bad input, 3: environment), never for a verdict."""
        folder = tempfile.mkdtemp(prefix="run-", dir=self.workdir)
        paths, dicts, taken = [], {}, set()
        for i, s in enumerate(scenarios if isinstance(scenarios, (list, tuple)) else [scenarios]):
            if isinstance(s, dict):
                # The name as a file name (a "/" would name a folder), once.
                stem = re.sub(r"[^A-Za-z0-9._-]", "_", str(s.get("name") or "scenario%d" % i))
                unique, k = stem, 1
                while unique in taken:
                    k += 1
                    unique = "%s-%d" % (stem, k)
                taken.add(unique)
                path = os.path.join(folder, unique + ".json")
                with open(path, "w") as f:
                    json.dump(s, f, indent=2)
                paths.append(path)
                dicts.setdefault(s.get("name"), s)
            else:
                paths.append(os.path.abspath(os.fspath(s)))
        report = os.path.join(folder, "report.json")
        command = [self.binary, "run", *paths]
        if sut_cmd is not None:
            command += ["--sut-cmd", sut_cmd if isinstance(sut_cmd, str) else shlex.join(sut_cmd)]
            if sut_name is not None:
                command += ["--sut-name", sut_name]
        command += [*extra_args, "--json", report]
        run_env = dict(os.environ)
        for key, value in (env or {}).items():
            if value is None:
                run_env.pop(key, None)
            else:
                run_env[key] = value
        # A SUT built on xph_sut imports it whatever its own path.
        path = [p for p in run_env.get("PYTHONPATH", "").split(os.pathsep) if p]
        if PACKAGE_PARENT not in path:
            run_env["PYTHONPATH"] = os.pathsep.join([PACKAGE_PARENT] + path)
        try:
            done = subprocess.run(command, cwd=folder, env=run_env, stdin=subprocess.DEVNULL,
                                  capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired as e:
            raise XphError("%s: still running after %s s" % (shlex.join(command), timeout)) from e
        if done.returncode not in (0, 1):
            raise XphError("%s exited %d:\n%s%s" % (shlex.join(command), done.returncode, done.stdout, done.stderr))
        try:
            with open(report) as f:
                cases = json.load(f)["cases"]
        except (OSError, ValueError, KeyError) as e:
            raise XphError("%s exited %d without a whole report (%s):\n%s%s" % (
                shlex.join(command), done.returncode, e, done.stdout, done.stderr)) from e
        cases = [XphCase(c) for c in cases]
        for case in cases:
            case.scenario_dict = dicts.get(case.scenario)
            # What xph ran with beyond this process's environment (env=, the
            # PYTHONPATH added above), so that the line replays in a shell.
            changed = sorted(k for k in set(run_env) | set(os.environ) if run_env.get(k) != os.environ.get(k))
            if changed and case.replay:
                words = [w for k in changed for w in (
                    ["-u", shlex.quote(k)] if k not in run_env else [shlex.quote("%s=%s" % (k, run_env[k]))])]
                case.replay = "env %s %s" % (" ".join(words), case.replay)
        return XphRun(cases, command, done.returncode, done.stdout, done.stderr)


@pytest.fixture
def xph(tmp_path):
    """Runs scenarios against a SUT with the real xph: xph.run(...)."""
    return Xph(find_binary("xph"), str(tmp_path))


def _cases_in(value):
    if isinstance(value, Verdict):
        return [value.case]
    if isinstance(value, XphCase):
        return [value]
    if isinstance(value, (list, tuple)):
        return [c for c in value if isinstance(c, XphCase)]
    return []


def pytest_assertrepr_compare(config, op, left, right):
    """A failed comparison involving xph cases shows their findings and replay lines."""
    cases = _cases_in(left) + _cases_in(right)
    if not cases:
        return None
    lines = ["%s %s %s" % (_short(left), op, _short(right))]
    for case in cases:
        lines += case.explain().split("\n")
    return lines


def _short(value):
    if isinstance(value, XphCase):
        return "<xph case %s (%s)>" % (value.id, value.sut)
    if isinstance(value, XphRun):
        return "<xph run: %d case(s)>" % len(value)
    if isinstance(value, list) and value and all(isinstance(c, XphCase) for c in value):
        return "[%s]" % ", ".join(_short(c) for c in value)
    return repr(str(value)) if isinstance(value, Verdict) else repr(value)
