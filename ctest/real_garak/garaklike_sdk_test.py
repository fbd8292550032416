"""garaklike with openai's own exception classes against garaklike with its
imitation of them: the same verdicts, flags and boundary error text.

    garaklike_sdk_test.py --xph BIN --sut-dir fixtures/sut --sdk DIR [--sdk DIR]... SCENARIO...

errors.py uses openai's classes when `import openai` works. xph passes its
environment to SUTs, so one `xph run` without PYTHONPATH runs the imitation
and one with PYTHONPATH = the SDK (openai-python-1.30.1/src and
typing_extensions-4.11.0/src) runs the real classes. The two runs are compared
with each other, case by case: the imitation is only worth something if the
real SDK fails the same way, and a variant's expected verdicts may change
(garaklike-partial-catch is being moved to garak #744's `[None]`) without
this test changing.

Where a case's boundary lines differ, the case is run again both ways (up to
4 times) and the lines each side printed are pooled: with several failing
attempts in one pool, which exception the dying result thread rebuilds first
is a race, so the TypeError text it prints varies from run to run on both
sides alike.
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

PYTHON = "/usr/bin/python3"
SUTS = ["garaklike", "garaklike-leaky-client", "garaklike-raw-errors", "garaklike-partial-catch"]
# What differs between two runs of the same case and is not behaviour.
VOLATILE = [(re.compile(r"req_[0-9a-f]+"), "req_*"),
            (re.compile(r"after [0-9.]+ s"), "after * s"),
            (re.compile(r"\b(pid|port) \d+"), r"\1 *"),
            (re.compile(r"127\.0\.0\.1:\d+"), "127.0.0.1:*")]
BOUNDARY = ("cannot pickle", "Can't pickle", "PicklingError", "UnpicklingError", "MaybeEncodingError",
            "required keyword-only argument", "required positional argument", "_handle_results",
            "cannot serialise")


def normalise(text):
    for pattern, repl in VOLATILE:
        text = pattern.sub(repl, text)
    return text


def run(args, scenarios, env, out, suts=SUTS, case_filter=None):
    cmd = [args.xph, "run"] + scenarios + [a for s in suts for a in ("--sut", s)] + ["-j", "2", "--json", out]
    if case_filter:
        cmd += ["--filter", case_filter]
    proc = subprocess.run(cmd, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=1500)
    if proc.returncode not in (0, 1):  # 1: some case missed its expectation; compared below, not here
        sys.exit("xph run failed (exit %d):\n%s%s" % (proc.returncode, proc.stdout, proc.stderr))
    with open(out) as f:
        return {(c["id"], c["sut"]): c for c in json.load(f)["cases"]}


def signature(case):
    """Verdict, flags, and the boundary lines the findings quote."""
    lines = sorted({normalise(f["detail"]) for f in case["findings"]
                    if f["verdict"] == "TRANSPORT_BROKEN" and any(b in f["detail"] for b in BOUNDARY)})
    return {"verdict": case["verdict"], "flags": sorted(case["flags"]), "boundary": lines}


def boundary_union(args, key, plain, real, a, b, reruns=4):
    seen_a, seen_b = set(a["boundary"]), set(b["boundary"])
    folder = tempfile.mkdtemp(prefix="xph-garaklike-rerun-")
    try:
        for i in range(reruns):
            if seen_a == seen_b:
                break
            for env, seen in ((plain, seen_a), (real, seen_b)):
                got = run(args, args.scenarios, env, os.path.join(folder, "%d.json" % i), [key[1]], key[0])
                if key in got:
                    seen |= set(signature(got[key])["boundary"])
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return sorted(seen_a), sorted(seen_b)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--xph", required=True)
    parser.add_argument("--sut-dir", required=True, help="fixtures/sut (holds garaklike/)")
    parser.add_argument("--sdk", action="append", required=True, help="a folder for PYTHONPATH, in order")
    parser.add_argument("scenarios", nargs="+")
    args = parser.parse_args()

    plain = dict(os.environ)
    plain.pop("PYTHONPATH", None)
    real = dict(plain, PYTHONPATH=os.pathsep.join(args.sdk))

    # The SDK run must really use openai's classes, and the plain one must not.
    probe = ("import sys; sys.path.insert(0, %r); from garaklike import errors; "
             "print(errors.REAL_OPENAI, errors.BadRequestError.__module__.split('.')[0])" % args.sut_dir)
    for env, want in ((real, "True openai"), (plain, "False garaklike")):
        got = subprocess.run([PYTHON, "-c", probe], env=env, capture_output=True, text=True, timeout=60)
        if got.stdout.strip() != want:
            sys.exit("garaklike.errors with PYTHONPATH=%s: expected %r, got %r %s"
                     % (env.get("PYTHONPATH"), want, got.stdout.strip(), got.stderr[-2000:]))

    folder = tempfile.mkdtemp(prefix="xph-garaklike-sdk-")
    try:
        shim = run(args, args.scenarios, plain, os.path.join(folder, "shim.json"))
        sdk = run(args, args.scenarios, real, os.path.join(folder, "sdk.json"))
    finally:
        shutil.rmtree(folder, ignore_errors=True)

    failed = 0
    if set(shim) != set(sdk):
        print("FAIL the runs have different cases: %s" % sorted(set(shim) ^ set(sdk)))
        failed += 1
    for key in sorted(set(shim) & set(sdk)):
        a, b = signature(shim[key]), signature(sdk[key])
        if a != b and a["verdict"] == b["verdict"] and a["flags"] == b["flags"]:
            # When several attempts fail, which exception reaches the dead
            # result thread first is a race, and so is the TypeError text it
            # prints: compare the texts each side can print, over a few runs.
            a["boundary"], b["boundary"] = boundary_union(args, key, plain, real, a, b)
        if a == b:
            print("ok   %-45s %-24s %s%s" % (key[0], key[1], a["verdict"],
                                          " | " + a["boundary"][-1][-90:] if a["boundary"] else ""))
        else:
            failed += 1
            print("FAIL %-45s %-24s\n     imitation: %s\n     openai SDK: %s"
                  % (key[0], key[1], json.dumps(a), json.dumps(b)))
    compared = len(set(shim) & set(sdk))
    print("%d passed, %d failed" % (compared - (failed - (set(shim) != set(sdk))), failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
