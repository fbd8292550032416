"""A SUT that fails (exit 1, no result: CRASH) the first time it sees a
case and is the reference SUT (argv[2], which passes) every time after,
remembering cases in the folder argv[1]. So every fuzz case fails once and
no finding replays: `xph fuzz`'s summary must still name every case that
failed."""
import hashlib
import json
import os
import sys

spec = json.load(open(os.environ["XPH_SPEC"]))
case = spec["probes"][0]["prompts"][0]["text"]  # names the case
seen = os.path.join(sys.argv[1], hashlib.sha256(case.encode()).hexdigest())
try:
    os.close(os.open(seen, os.O_CREAT | os.O_EXCL))
    sys.exit(1)
except FileExistsError:
    os.execv(sys.argv[2], [sys.argv[2], "--transport", "safe"])
