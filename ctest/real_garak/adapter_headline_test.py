"""garak #659 through the adapter, judged by xph:

    adapter_headline_test.py --xph BIN --scenario single_then_multi.json --adapter DIR --third-party DIR

At 60675d25 every case of single_then_multi is TRANSPORT_BROKEN with
ORDER_DEPENDENT, the finding quoting Python's own `cannot pickle
'_thread.RLock' object` at the dispatch stage, and the pooled probe run alone
passes (the differential rerun). At e1167451 (PR #689) every case passes.
The scenario's garak@ expectations hold the verdicts
(real_garak/adapter/single_then_multi/COMMIT asserts those); this test
asserts what a verdict does not say, from xph's JSON report: the RLock at
the dispatch stage, and the pooled probe alone passing.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

SDK = ["typing_extensions-4.11.0/src", "openai-python-1.30.1/src"]


def judge(args, commit, out):
    words = ["/usr/bin/python3", args.adapter, "--garak", os.path.join(args.third_party, "garak-" + commit)]
    for p in SDK:
        words += ["--pythonpath", os.path.join(args.third_party, p)]
    proc = subprocess.run([args.xph, "run", args.scenario, "--sut-cmd", " ".join(words),
                           "--sut-name", "garak@" + commit, "-j", "2", "--json", out],
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=280)
    if proc.returncode not in (0, 1):
        sys.exit("xph run failed (exit %d): %s%s" % (proc.returncode, proc.stdout, proc.stderr))
    with open(out) as f:
        return json.load(f)["cases"], proc.stdout


def main():
    parser = argparse.ArgumentParser()
    for flag in ("--xph", "--scenario", "--adapter", "--third-party"):
        parser.add_argument(flag, required=True)
    args = parser.parse_args()
    problems = []
    with tempfile.TemporaryDirectory(prefix="xph-headline-") as folder:
        before, text_before = judge(args, "60675d25", os.path.join(folder, "before.json"))
        after, text_after = judge(args, "e1167451", os.path.join(folder, "after.json"))
    for c in before:
        details = [f["detail"] for f in c["findings"] if f["verdict"] == "TRANSPORT_BROKEN"]
        if c["verdict"] != "TRANSPORT_BROKEN" or "ORDER_DEPENDENT" not in c["flags"]:
            problems.append("%s at 60675d25: %s %s, expected TRANSPORT_BROKEN [ORDER_DEPENDENT]"
                            % (c["id"], c["verdict"], c["flags"]))
        elif not any("dispatch failure: TypeError: cannot pickle '_thread.RLock' object" in d for d in details):
            problems.append("%s at 60675d25: no dispatch-stage RLock finding in %s" % (c["id"], details))
        elif not any("expected PASS (multi alone)" in d for d in details):
            problems.append("%s at 60675d25: the pooled probe alone did not pass: %s" % (c["id"], details))
    for c in after:
        if c["verdict"] != "PASS":
            problems.append("%s at e1167451: %s, expected PASS: %s" % (c["id"], c["verdict"], c["findings"]))
    if len(before) < 4 or len(after) < 4:
        problems.append("expected the scenario's 4 cases at each commit; got %d and %d" % (len(before), len(after)))
    print(text_before + text_after)
    for p in problems:
        print("FAIL " + p)
    print("%d passed, %d failed" % (len(before) + len(after) - len(problems), len(problems)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
