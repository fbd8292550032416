"""The pytest plugin's fixtures against the real binaries, with a small SUT
on xph_sut (ctest/python/suts/small_sut.py), correct and deliberately buggy."""
import json
import os
import shlex
import stat
import subprocess
import urllib.request

import pytest

import xph_sut.pytest_plugin as plugin
from conftest import PYTHON, REPO, SUTS

SMALL_SUT = "%s %s" % (PYTHON, os.path.join(SUTS, "small_sut.py"))
POOLED_400 = os.path.join(REPO, "scenarios", "pooled_400.json")


def chat(oaimock, key, n=1):
    request = urllib.request.Request(
        oaimock.base_url + "/chat/completions",
        json.dumps({"model": "m", "n": n, "messages": [{"role": "user", "content": "[xph:%s]" % key}]}).encode(),
        {"Authorization": "Bearer " + oaimock.api_key})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as e:
        return e.code, json.load(e)


def test_oaimock_scripts_a_fresh_tenant_and_reads_its_journal(oaimock):
    assert oaimock.base_url.endswith("/v1") and oaimock.api_key.startswith("pytest-")
    assert oaimock.journal() == []  # fresh: nothing of another test's
    oaimock.script({"*": "200", "p#1": "400:context_length_exceeded"})
    assert chat(oaimock, "p#0", n=2)[1]["choices"][1]["message"]["content"] == "xph:p#0:r0:c1"
    status, body = chat(oaimock, "p#1")
    assert (status, body["error"]["code"]) == (400, "context_length_exceeded")
    journal = oaimock.journal()
    assert [(e["key"], e["k"], e["status"], e["n"], e["tenant"]) for e in journal] == [
        ("p#0", 0, 200, 2, oaimock.api_key), ("p#1", 0, 400, 1, oaimock.api_key)]


def test_a_dsl_string_scripts_every_key(oaimock):
    oaimock.script("500,200")
    assert [chat(oaimock, "a#0")[0], chat(oaimock, "a#0")[0], chat(oaimock, "b#3")[0]] == [500, 200, 500]


def test_xph_runs_a_scenario_dict_against_a_correct_sut(xph):
    scenario = {"name": "plugin_pooled", "probes": [{"name": "single", "attempts": 1}, {"name": "multi", "attempts": 3}],
                "parallel_attempts": 3, "multi_generation": ["n", "loop"], "generations": [2],
                "retry": {"max_tries": 3, "max_delay_s": 0.02}, "request_timeout_s": 1.0,
                "responses": {"*": "200", "multi#0": "429@0.01,200", "multi#1": "400:context_length_exceeded",
                              "multi#2": "reset"}}
    run = xph.run(scenario, sut_cmd=SMALL_SUT, sut_name="small")
    run.assert_met()
    # Report order is the order cases finished in.
    assert sorted((c.id, c.sut, c.verdict, c.met) for c in run) == [
        ("plugin_pooled/g2/loop", "small", "PASS", True), ("plugin_pooled/g2/n", "small", "PASS", True)]
    assert run.exit_code == 0
    assert run.case("plugin_pooled/g2/loop").replay.endswith("--filter plugin_pooled/g2/loop")


def test_a_buggy_sut_is_transport_broken_and_its_case_says_why(xph):
    run = xph.run(POOLED_400, sut_cmd=SMALL_SUT + " --bug raw-errors", sut_name="small-raw")
    case = run.case("pooled_400/g1/n")
    assert case.verdict == "TRANSPORT_BROKEN"
    assert not case.met and case.expected == "PASS" and run.exit_code == 1
    assert any("missing 2 required keyword-only arguments: 'response' and 'body'" in f.detail
               for f in case.findings)
    with pytest.raises(AssertionError) as failed:
        run.assert_met()
    text = str(failed.value)
    assert text.startswith("xph run: 1 case(s), 1 not met\n"
                           "xph case pooled_400/g1/n (small-raw): TRANSPORT_BROKEN, expected PASS, NOT met\n"
                           "  replay: ")
    # After the environment xph ran with, where it differs from this one.
    assert " %s run %s --sut-cmd " % (plugin.find_binary("xph"), POOLED_400) in text.split("\n")[2]
    assert " --sut-name small-raw --filter pooled_400/g1/n\n  finding TRANSPORT_BROKEN: expected every error " \
           "to reach the parent intact;" in text
    assert repr(case).startswith("<xph case pooled_400/g1/n (small-raw): TRANSPORT_BROKEN, expected PASS, NOT met; "
                                 "TRANSPORT_BROKEN: ")


def test_what_pytest_prints_for_a_failing_case(pytester, monkeypatch):
    """A scanner's own test, run by pytest as its suite would be: the failure
    report names the verdict, each finding and the replay command."""
    monkeypatch.setenv("PYTHONPATH", plugin.PACKAGE_PARENT)  # the inner pytest runs elsewhere
    pytester.makepyfile(test_scanner="""
        import os

        def test_pooled_400(xph, oaimock):
            with open("oaimock.pid", "w") as f:
                f.write(str(oaimock.server.proc.pid))
            run = xph.run(%r, sut_cmd=%r, sut_name="small-swallow")
            assert run[0].verdict == "PASS"
        """ % (POOLED_400, SMALL_SUT + " --bug swallow"))
    result = pytester.runpytest_subprocess("-p", "xph_sut.pytest_plugin", "-p", "no:cacheprovider", timeout=300)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([
        "E       AssertionError: assert 'MISMATCH' == 'PASS'",
        "E         xph case pooled_400/g1/n (small-swallow): MISMATCH, expected PASS, NOT met",
        "E           replay: * run %s --sut-cmd * --sut-name small-swallow --filter pooled_400/g1/n" % POOLED_400,
        # Cut where pytest shortens the report, which depends on the paths.
        "E           finding MISMATCH multi#1: expected error for the last answer, 400 context_length_exceeded*",
    ])
    # The session's oaimock was stopped at the session's end.
    pid = int((pytester.path / "oaimock.pid").read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_scenario_dicts_are_named_safely_and_said_whole(xph):
    """A dict's name becomes its file's, so two of one name are xph's bad
    input (not one run twice), a "/" in it names no folder, and a failing
    case shows the dict itself: its file is temporary."""
    one = {"name": "same", "probes": [{"name": "multi", "attempts": 2}], "parallel_attempts": 2,
           "responses": {"*": "200"}}
    two = dict(one, responses={"*": "404"})
    with pytest.raises(plugin.XphError, match=r'/name: "same" is also the name in '):
        xph.run([one, two], sut_cmd=SMALL_SUT)
    with pytest.raises(plugin.XphError, match=r'/name: expected letters, digits, .* got "a/b"'):
        xph.run(dict(two, name="a/b"), sut_cmd=SMALL_SUT)
    run = xph.run(dict(two, name="mine"), sut_cmd=SMALL_SUT + " --bug swallow", sut_name="small-swallow")
    assert not run[0].met
    assert '\n  scenario (a dict, written to a temporary file): {"name":"mine",' in run[0].explain()


def test_env_adds_to_the_environment_and_its_replay_sets_it(xph, tmp_path):
    """env= sets variables over this process's environment (the SUT keeps its
    PYTHONPATH), and the replay line sets them too, so it replays."""
    marker = tmp_path / "seen"
    sut = "/usr/bin/python3 -c %s" % shlex.quote(
        "import os, runpy, sys; open(os.environ['MARK'], 'w').write(os.environ.get('PYTHONPATH', '')); "
        "sys.argv = [%r, '--bug', 'swallow']; runpy.run_path(%r, run_name='__main__')" % (
            SMALL_SUT.split()[-1], SMALL_SUT.split()[-1]))
    run = xph.run(POOLED_400, sut_cmd=sut, sut_name="small-swallow", env={"MARK": str(marker)},
                  extra_args=["--filter", "*/g1/n"])
    assert plugin.PACKAGE_PARENT in marker.read_text().split(os.pathsep)
    case = run[0]
    assert not case.met and case.replay.startswith("env ") and shlex.quote("MARK=%s" % marker) in case.replay
    marker.unlink()
    again = subprocess.run(case.replay, shell=True, capture_output=True, text=True, timeout=120)
    assert again.returncode == 1 and "MISMATCH (expected PASS)" in again.stdout and marker.exists()


def test_xph_failing_on_bad_input_raises_with_its_message(xph):
    with pytest.raises(plugin.XphError, match=r"exited 2:\n.*/bad_probe\.json: /parallel_attempts: "):
        xph.run({"name": "bad_probe", "probes": [{"name": "p", "attempts": 1}], "parallel_attempts": "five"},
                sut_cmd=SMALL_SUT)


def executable(path):
    path.write_text("#!/bin/sh\nexit 0\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


def test_binaries_are_found_by_env_then_beside_xph_on_path(tmp_path, monkeypatch):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    xph_bin, oaimock_bin = executable(bin_dir / "xph"), executable(bin_dir / "oaimock")
    monkeypatch.delenv("XPH_BIN", raising=False)
    monkeypatch.delenv("XPH_OAIMOCK", raising=False)
    monkeypatch.setenv("PATH", str(bin_dir))
    assert (plugin.find_binary("xph"), plugin.find_binary("oaimock")) == (xph_bin, oaimock_bin)
    other = executable(tmp_path / "my-oaimock")
    monkeypatch.setenv("XPH_OAIMOCK", other)
    assert plugin.find_binary("oaimock") == other
    monkeypatch.setenv("XPH_BIN", str(tmp_path / "missing"))
    with pytest.raises(plugin.XphError, match="XPH_BIN=.*/missing: not an executable file"):
        plugin.find_binary("xph")


def test_with_no_binary_anywhere_the_error_lists_where_it_looked(tmp_path, monkeypatch):
    monkeypatch.delenv("XPH_OAIMOCK", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(plugin, "REPO", str(tmp_path))
    with pytest.raises(plugin.XphError) as e:
        plugin.find_binary("oaimock")
    assert str(e.value) == "cannot find oaimock; looked at: $XPH_OAIMOCK (unset), xph on PATH (none), %s" % (
        tmp_path / "build" / "mock_server" / "oaimock")


def test_the_server_stops_on_sigterm_within_its_bound(tmp_path):
    server = plugin.OaimockServer(plugin.find_binary("oaimock"), str(tmp_path))
    assert server.admin("GET", "health") == {"ok": True}
    assert server.stop() == 0  # SIGTERM honoured: oaimock exits 0, not killed
