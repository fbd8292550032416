"""garak's own CLI, end to end, against the real oaimock binary.

    garak_cli_test.py CASE --oaimock BIN --third-party DIR --standins DIR

CASE (one ctest test each):
  rlock-60675d25     `-p lmrc --parallel_attempts 5`: the run dies of garak #659
                     once the single-prompt probes (QuackMedicine, SexualContent)
                     have loaded the client in the parent and the next pooled
                     probe (Sexualisation) pickles it.
  complete-e1167451  the same command completes (PR #689).
  complete-cafbe992  HEAD, all 200s: completes.
  hang404-cafbe992   HEAD, a 404 inside a pool: the pool's result thread dies
                     (`_handle_results`) and garak waits for ever; the test
                     bounds the wait, kills the process group, checks nothing
                     is left.
  crash404-cafbe992  HEAD, the same 404 with --parallel_attempts 1: in-process,
                     a plain crash with the NotFoundError, no hang.

Every run has its own HOME, XDG folders and working folder under a temp
folder removed afterwards; every process started here is in a process group
that is killed and waited for before the test ends. The stand-ins folder
(torch, transformers, fastchat, langdetect: absent from Debian 12 and off the
OpenAI path) goes on PYTHONPATH, where its sitecustomize.py installs them in
garak and in every pool worker, spawned ones included.
"""
import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

PYTHON = "/usr/bin/python3"  # Debian's: the packages the archives need are installed for it
ANSI = re.compile(r"\x1b\[[0-9;]*m")
OLD_SDK = ["typing_extensions-4.11.0/src", "openai-python-1.30.1/src"]
NEW_SDK = ["typing_extensions-4.16.0rc2/src", "openai-python-2.54.0/src", "xdg-base-dirs-6.0.2/src"]
# HEAD: Bullying's detector is a Hugging Face model, and loading it switches
# garak's pools to `spawn` (each worker re-imports garak and openai 2.x: over a
# minute for lmrc on two cores). These probes keep fork pools and still run
# the #659 order: pooled, then single-prompt in-process, then pooled again.
HEAD_PROBES = "lmrc.Deadnaming,lmrc.QuackMedicine,lmrc.SexualContent,lmrc.Sexualisation"


class Failed(Exception):
    pass


def check(condition, what, run=None):
    if not condition:
        detail = ""
        if run is not None:
            detail = "\n--- stdout (tail) ---\n%s\n--- stderr (tail) ---\n%s" % (
                run["stdout"][-3000:], run["stderr"][-4000:])
        raise Failed(what + detail)


def kill_group(proc):
    """SIGKILL the process group and wait until no member is left: pool
    workers are in it too, and orphaned ones are reaped by init."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.killpg(proc.pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    raise Failed("process group %d still has members 10 s after SIGKILL" % proc.pid)


class Mock:
    def __init__(self, oaimock, responses, folder):
        self.journal = os.path.join(folder, "journal.jsonl")
        port_file = os.path.join(folder, "port")
        self.proc = subprocess.Popen(
            [oaimock, "--responses", responses, "--port-file", port_file, "--journal", self.journal],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True)
        deadline = time.monotonic() + 10
        while not (os.path.exists(port_file) and open(port_file).read().strip()):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                kill_group(self.proc)
                raise Failed("oaimock did not start (exit %s)" % self.proc.poll())
            time.sleep(0.02)
        self.base_url = "http://127.0.0.1:%s/v1" % open(port_file).read().strip()

    def stop(self):
        """SIGTERM flushes the journal; then the group goes whatever happened."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        kill_group(self.proc)

    def entries(self):
        with open(self.journal) as f:
            return [json.loads(line) for line in f if line.strip()]


def run_garak(args, tree, sdk, mock, folder, bound_s, until=None):
    """garak's CLI in its own session. Returns when it exits, when `until`
    (a predicate on stderr) holds, or at bound_s; the group is killed after."""
    home = os.path.join(folder, "home")
    work = os.path.join(folder, "work")
    os.makedirs(work)
    env = dict(os.environ)
    env.update(HOME=home, XDG_CONFIG_HOME=os.path.join(home, ".config"),
               XDG_DATA_HOME=os.path.join(home, ".local", "share"),
               XDG_CACHE_HOME=os.path.join(home, ".cache"),
               OPENAI_BASE_URL=mock.base_url, OPENAI_API_KEY="xph-real-garak",
               PYTHONPATH=os.pathsep.join([args.standins] + [os.path.join(args.third_party, p) for p in sdk]
                                          + [os.path.join(args.third_party, tree)]))
    env.pop("GARAK_LOG_FILE", None)
    out_path, err_path = os.path.join(folder, "stdout"), os.path.join(folder, "stderr")
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        proc = subprocess.Popen([PYTHON, "-m", "garak"] + args.garak_args, cwd=work, env=env,
                                stdin=subprocess.DEVNULL, stdout=out, stderr=err, start_new_session=True)
    deadline = time.monotonic() + bound_s
    met = False
    try:
        while proc.poll() is None and time.monotonic() < deadline:
            if until is not None and until(open(err_path, errors="replace").read()):
                met = True
                break
            time.sleep(0.1)
        alive = proc.poll() is None
        if met:
            # The condition is a dying thread; the hang is what follows. Give
            # garak a moment in which a run that was going to end would end.
            time.sleep(3)
            alive = proc.poll() is None
    finally:
        kill_group(proc)
    text = lambda p: ANSI.sub("", open(p, errors="replace").read())
    return {"alive_at_end": alive, "met": met, "code": proc.returncode,
            "stdout": text(out_path), "stderr": text(err_path), "home": home}


def reported_probes(stdout):
    """Probes garak printed a detector result for, in order."""
    seen = []
    for line in stdout.splitlines():
        m = re.match(r"^(lmrc\.\w+)\s+\S+: +(PASS|FAIL)", line)
        if m and m.group(1) not in seen:
            seen.append(m.group(1))
    return seen


def case_rlock(args, folder):
    mock = Mock(args.oaimock, "200", folder)
    try:
        args.garak_args = ["--model_type", "openai", "--model_name", "gpt-3.5-turbo", "-p", "lmrc",
                           "--parallel_attempts", "5", "-g", "1"]
        run = run_garak(args, "garak-60675d25", OLD_SDK, mock, folder, 100)
    finally:
        mock.stop()
    check(not run["alive_at_end"], "garak 60675d25 did not end within 100 s", run)
    check(run["code"] != 0, "garak 60675d25 exited 0; expected it to die of #659", run)
    check("TypeError: cannot pickle '_thread.RLock' object" in run["stderr"],
          "no RLock pickling error on stderr", run)
    check("_handle_tasks" in run["stderr"], "the error did not come from the pool's task handler", run)
    probes = reported_probes(run["stdout"])
    check(probes[-2:] == ["lmrc.QuackMedicine", "lmrc.SexualContent"],
          "expected the last probes reported to be the single-prompt QuackMedicine, SexualContent; saw %s"
          % probes, run)
    check("lmrc.Sexualisation" not in probes, "Sexualisation (pooled, after them) was reported", run)
    statuses = [e["status"] for e in mock.entries()]
    check(statuses and all(s == 200 for s in statuses), "the server answered only 200s: %s" % statuses)
    return "died of #659 after %s; %d requests" % (", ".join(probes[-2:]), len(statuses))


def case_complete(args, folder, tree, sdk, name_args, probes_spec, want_probes):
    mock = Mock(args.oaimock, "200", folder)
    try:
        args.garak_args = name_args + ["-p", probes_spec, "--parallel_attempts", "5", "-g", "1"]
        run = run_garak(args, tree, sdk, mock, folder, 100)
    finally:
        mock.stop()
    check(not run["alive_at_end"], "garak %s did not end within 100 s" % tree, run)
    check(run["code"] == 0, "garak %s exited %s" % (tree, run["code"]), run)
    check("garak run complete" in run["stdout"], "no 'garak run complete'", run)
    probes = reported_probes(run["stdout"])
    check(set(want_probes) <= set(probes), "expected results for %s; saw %s" % (want_probes, probes), run)
    check("cannot pickle" not in run["stderr"] and "_handle_results" not in run["stderr"],
          "a boundary error was printed", run)
    statuses = [e["status"] for e in mock.entries()]
    check(statuses and all(s == 200 for s in statuses), "the server answered only 200s: %s" % statuses)
    return "completed: %d probes, %d requests" % (len(probes), len(statuses))


def case_hang404(args, folder):
    # Two 200s, then 404 for ever: Deadnaming's pool gets the 404 in a worker.
    mock = Mock(args.oaimock, "200*2,404:model_not_found", folder)
    try:
        args.garak_args = ["--target_type", "openai", "--target_name", "gpt-3.5-turbo", "-p",
                           "lmrc.Deadnaming", "--parallel_attempts", "5", "-g", "1"]
        run = run_garak(args, "garak-cafbe992", NEW_SDK, mock, folder, 60,
                        until=lambda err: "_handle_results" in err and "keyword-only" in err)
    finally:
        mock.stop()
    check(run["met"], "garak HEAD did not print the result thread's death within 60 s", run)
    check(run["alive_at_end"], "garak HEAD ended (exit %s) instead of hanging" % run["code"], run)
    check(re.search(r"Exception in thread Thread-\d+ \(_handle_results\)", run["stderr"]),
          "no 'Exception in thread ... (_handle_results)' line", run)
    check("APIStatusError.__init__() missing 2 required keyword-only arguments: 'response' and 'body'"
          in run["stderr"], "not the APIStatusError rebuild error", run)
    statuses = [e["status"] for e in mock.entries()]
    check(404 in statuses, "the server sent no 404: %s" % statuses)
    return "hung on a pooled 404 (%d requests, %d 404s), killed" % (len(statuses), statuses.count(404))


def case_crash404(args, folder):
    mock = Mock(args.oaimock, "200*2,404:model_not_found", folder)
    try:
        args.garak_args = ["--target_type", "openai", "--target_name", "gpt-3.5-turbo", "-p",
                           "lmrc.Deadnaming", "--parallel_attempts", "1", "-g", "1"]
        run = run_garak(args, "garak-cafbe992", NEW_SDK, mock, folder, 100)
    finally:
        mock.stop()
    check(not run["alive_at_end"], "garak HEAD with --parallel_attempts 1 did not end within 100 s", run)
    check(run["code"] not in (0, None), "garak HEAD exited %s; expected a crash" % run["code"], run)
    check("openai.NotFoundError" in run["stderr"], "no NotFoundError traceback", run)
    check("_handle_results" not in run["stderr"], "a pool was involved", run)
    return "crashed in-process with NotFoundError (exit %s)" % run["code"]


CASES = {
    "rlock-60675d25": case_rlock,
    "complete-e1167451": lambda a, f: case_complete(
        a, f, "garak-e1167451", OLD_SDK, ["--model_type", "openai", "--model_name", "gpt-3.5-turbo"],
        "lmrc", ["lmrc.QuackMedicine", "lmrc.SexualContent", "lmrc.Sexualisation", "lmrc.SlurUsage"]),
    "complete-cafbe992": lambda a, f: case_complete(
        a, f, "garak-cafbe992", NEW_SDK, ["--target_type", "openai", "--target_name", "gpt-3.5-turbo"],
        HEAD_PROBES, HEAD_PROBES.split(",")),
    "hang404-cafbe992": case_hang404,
    "crash404-cafbe992": case_crash404,
}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("case", choices=sorted(CASES))
    parser.add_argument("--oaimock", required=True)
    parser.add_argument("--third-party", required=True, help="folder of the unpacked archives")
    parser.add_argument("--standins", required=True, help="fixtures/sut/garak_adapter/standins")
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="xph-real-garak-")
    try:
        print("%s: %s" % (args.case, CASES[args.case](args, folder)))
    except Failed as e:
        print("%s: FAILED: %s" % (args.case, e))
        return 1
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
