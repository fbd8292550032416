"""A SUT that needs CPU, on a machine that has none to spare: it stays on
the first core it may use, where the test runs busy loops, spins until it
has used SPIN_S seconds of CPU (argv[1]), then answers every attempt with
nothing and exits 0. Or, with argv[1] "sleep", it sleeps for ever beside
the same busy loops. Slow is not stuck: only the sleeper may be judged on
time alone."""
import json
import os
import sys
import time

os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
if sys.argv[1] == "sleep":
    time.sleep(3600)
spin_s = float(sys.argv[1])
while time.process_time() < spin_s:
    pass
spec = json.load(open(os.environ["XPH_SPEC"]))
attempts = [{"probe": p["name"], "id": q["id"], "pid": os.getpid(), "outcome": "ok", "outputs": []}
            for p in spec["probes"] for q in p["prompts"]]
result = os.environ["XPH_RESULT"]
with open(result + ".tmp", "w") as f:
    json.dump({"xph": 1, "sut": "spinning 1", "attempts": attempts}, f)
os.rename(result + ".tmp", result)
