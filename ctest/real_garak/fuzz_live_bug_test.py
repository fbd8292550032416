"""issue 11.4: `xph fuzz --sut garak@cafbe992 --seed 1` finds garak main's
live bug unaided within 30 cases (seed 1 finds it at case 3, so the test
runs 10: every other finding of the 30 is shrunk too, against real garak,
and that was a third of CI's last step): a pooled request answered 404, 409 or 422
whose exception cannot be unpickled in the parent (TRANSPORT_BROKEN on the
receiving side), shrunk to one pooled probe, written as a scenario that
replays. (fixtures/regressions/TRANSPORT_BROKEN-9b479a598320.json is that
file, kept.)

    fuzz_live_bug_test.py --xph BIN
"""
import argparse
import glob
import json
import re
import subprocess
import sys
import tempfile

parser = argparse.ArgumentParser()
parser.add_argument("--xph", required=True)
args = parser.parse_args()

out = tempfile.mkdtemp(prefix="xph-fuzz-garak-")
run = subprocess.run([args.xph, "fuzz", "--sut", "garak@cafbe992", "--seed", "1", "--cases", "10", "-j", "4",
                      "--out", out], capture_output=True, text=True, timeout=1500)
print(run.stdout[-4000:])
if run.returncode != 1:
    sys.exit("FAIL: xph fuzz exited %d, expected 1 (findings)\n%s" % (run.returncode, run.stderr))
live = []
for path in glob.glob(out + "/TRANSPORT_BROKEN-*.json"):
    scenario = json.load(open(path))
    if scenario["finding"]["signature"] != "TRANSPORT_BROKEN (receive)":
        continue
    statuses = [re.match(r"\d+", step) for step in scenario["responses"].values()]
    if len(scenario["probes"]) == 1 and scenario["probes"][0]["attempts"] >= 2 and \
            any(m and m.group() in ("404", "409", "422") for m in statuses):
        live.append(path)
if not live:
    sys.exit("FAIL: no TRANSPORT_BROKEN (receive) finding shrunk to one pooled probe with a 404, 409 or 422 in " + out)
replay = subprocess.run([args.xph, "run", live[0], "--sut", "garak@cafbe992"], capture_output=True, text=True,
                        timeout=300)
if replay.returncode != 0:
    sys.exit("FAIL: %s does not replay:\n%s%s" % (live[0], replay.stdout, replay.stderr))
print("ok: %s replays: %s" % (live[0], replay.stdout.strip().splitlines()[-1]))
