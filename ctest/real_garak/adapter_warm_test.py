"""Real garak through the adapter, warm as cold:

    adapter_warm_test.py --adapter DIR --third-party DIR --oaimock BIN

One zygote per garak commit (the adapter with garak and the SDK imported
once), driven over an inherited socket as xph drives it; several cases in a
row from it, each also run cold, against the real oaimock. Each pair must
agree: the same outcomes (labels without the request counter), the same
failures (stage and Python's message: at 60675d25 the #659 RLock at
dispatch), the same exit. Later cases from the same zygote must still work
(the garak home import made is the zygote's, and no case removes it), and a
spawned pool in a warm case finds the garak home the case's garak uses.
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path[:0] = [os.path.join(REPO, "ctest", "python"), os.path.join(REPO, "harness", "python")]

import warm_driver as wd  # noqa: E402
from xph_sut.pytest_plugin import OaimockServer  # noqa: E402

PYTHON = "/usr/bin/python3"
OLD = ["typing_extensions-4.11.0/src", "openai-python-1.30.1/src"]
NEW = ["typing_extensions-4.16.0rc2/src", "openai-python-2.54.0/src", "xdg-base-dirs-6.0.2/src"]
BOUND_S = 240  # HEAD's spawned workers import garak and openai 2.x each

# (name, probes, start_method): run in this order on one zygote.
CASES = [
    ("single_then_multi", (("single", 1), ("multi", 3)), "fork"),
    ("multi_alone", (("multi", 3),), "fork"),
    ("multi_alone_spawn", (("multi", 3),), "spawn"),
]


def spec(folder, server, token, probes, method):
    data = {"xph": 1, "base_url": server.url + "/v1", "api_key": token, "model": "xph-mock", "endpoint": "chat",
            "generations": 1, "multi_generation": "n", "start_method": method, "parallel_attempts": 3,
            "retry": {"max_tries": 3, "retry_on": [429, 500, "connection", "timeout"], "honor_retry_after": True,
                      "max_delay_s": 0.02},
            "request_timeout_s": 2.0,
            "probes": [{"name": n, "prompts": [{"id": "%s#%d" % (n, i), "text": "say [xph:%s#%d]" % (n, i)}
                                               for i in range(k)]} for n, k in probes]}
    with open(os.path.join(folder, "spec.json"), "w") as f:
        json.dump(data, f)


def prepare(root, server, probes, method):
    folder = tempfile.mkdtemp(dir=root, prefix="c")
    token = "warm-" + uuid.uuid4().hex[:12]
    server.admin("PUT", "tenants/" + token, {"*": "200"})
    spec(folder, server, token, probes, method)
    # The user's home as xph passes it on: garak must never write there
    # (HEAD creates its XDG folders on import, in spawned workers too).
    home = os.path.join(folder, "user-home")
    os.mkdir(home)
    env = wd.case_env(folder, OPENAI_BASE_URL=server.url + "/v1", OPENAI_API_KEY=token, HOME=home)
    env.pop("PYTHONPATH")  # the adapter puts what it needs on its path itself
    return folder, env


def home_written(folder):
    found = []
    for top, dirs, files in os.walk(os.path.join(folder, "user-home")):
        found += [os.path.relpath(os.path.join(top, n), folder) for n in dirs + files]
    return found


def wait(pid):
    try:
        return wd.wait_case(pid, BOUND_S).code
    except AssertionError:
        return "killed after %d s" % BOUND_S


def signature(folder, code):
    try:
        with open(os.path.join(folder, "result.json")) as f:
            result = json.load(f)
    except FileNotFoundError:
        return {"code": code, "result": None}
    return {"code": code,
            "attempts": sorted((a["id"], a["outcome"], [re.sub(r":r\d+:", ":r*:", o) if o else o
                                                        for o in a.get("outputs", [])]) for a in result["attempts"]),
            "failures": sorted((f["stage"], f["message"]) for f in result["failures"])}


def stderr_of(folder):
    try:
        with open(os.path.join(folder, "stderr.txt"), errors="replace") as f:
            return f.read()[-3000:]
    except FileNotFoundError:
        return ""


def run_commit(args, server, root, commit, sdk):
    argv = [PYTHON, args.adapter, "--garak", os.path.join(args.third_party, "garak-" + commit)]
    for p in sdk:
        argv += ["--pythonpath", os.path.join(args.third_party, p)]
    problems = []
    zygote = wd.Zygote(argv, env=wd.base_env(), timeout=BOUND_S)
    try:
        for n, (name, probes, method) in enumerate(CASES):
            folder, env = prepare(root, server, probes, method)
            with open(os.path.join(folder, "stdout.txt"), "wb") as out, \
                    open(os.path.join(folder, "stderr.txt"), "wb") as err:
                proc = subprocess.Popen(argv, cwd=folder, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                        process_group=0)
            cold = signature(folder, wait(proc.pid))
            cold_err = stderr_of(folder)
            cold_home = home_written(folder)
            folder, env = prepare(root, server, probes, method)
            reply = zygote.start(os.path.basename(folder), folder, env, "xph-g%d" % n)
            if "pid" not in reply:
                problems.append("%s %s: the zygote answered %s" % (commit, name, reply))
                continue
            warm = signature(folder, wait(reply["pid"]))
            if wd.processes_named("xph-g%d" % n):
                problems.append("%s %s: processes of the case left running" % (commit, name))
            for side, written in (("cold", cold_home), ("warm", home_written(folder))):
                if written:
                    problems.append("%s %s %s: garak wrote into the user's HOME: %s" % (commit, name, side, written))
            want_dispatch = commit == "60675d25" and name == "single_then_multi"
            for side, seen, err in (("cold", cold, cold_err), ("warm", warm, stderr_of(folder))):
                failures = seen.get("failures")
                if seen["code"] != 0 or failures is None:
                    problems.append("%s %s %s: exit %s, no result: %s" % (commit, name, side, seen["code"], err))
                elif want_dispatch and failures != [("dispatch", "TypeError: cannot pickle '_thread.RLock' object")]:
                    problems.append("%s %s %s: expected the #659 dispatch failure, got %s" % (commit, name, side, failures))
                elif not want_dispatch and (failures or len(seen["attempts"]) != sum(k for _, k in probes)):
                    problems.append("%s %s %s: expected every attempt ok, got %s: %s" % (commit, name, side, seen, err))
            if cold != warm:
                problems.append("%s %s: cold and warm differ:\n  cold %s\n  warm %s" % (commit, name, cold, warm))
            print("%-4s %s %-18s %s" % ("ok" if cold == warm else "FAIL", commit, name, json.dumps(warm)[:150]))
    finally:
        code = zygote.close()
        if code != 0:
            problems.append("%s: the zygote exited %s on EOF: %s" % (commit, code, zygote.output()[-3000:]))
    return problems


def main():
    parser = argparse.ArgumentParser()
    for flag in ("--adapter", "--third-party", "--oaimock"):
        parser.add_argument(flag, required=True)
    args = parser.parse_args()
    wd.become_subreaper()
    root = tempfile.mkdtemp(prefix="xphg-")  # short: a forkserver's socket path goes under TMPDIR
    server = OaimockServer(args.oaimock, root)
    problems = []
    try:
        for commit, sdk in (("60675d25", OLD), ("cafbe992", NEW)):
            problems += run_commit(args, server, root, commit, sdk)
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)
    for p in problems:
        print("FAIL " + p)
    print("%d problem(s)" % len(problems))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
