"""A hostile SUT: floods stdout and stderr (64 MiB each), then writes a
result with an unknown and a duplicate attempt id."""
import json
import os
import sys

spec = json.load(open(os.environ["XPH_SPEC"]))
line = "x" * 1023 + "\n"
for _ in range(64 * 1024):
    sys.stdout.write(line)
    sys.stderr.write(line)
first = spec["probes"][0]["prompts"][0]["id"]
attempts = [{"probe": spec["probes"][0]["name"], "id": i, "pid": os.getpid(), "outcome": "ok", "outputs": []}
            for i in (first, first, "nobody#7")]
tmp = os.environ["XPH_RESULT"] + ".tmp"
json.dump({"xph": 1, "sut": "flood 1", "attempts": attempts}, open(tmp, "w"))
os.rename(tmp, os.environ["XPH_RESULT"])
