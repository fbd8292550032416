"""A hostile SUT: its pool children outlive it. It writes a whole result
(every attempt 'ok' with no outputs), starts children that sleep for a
minute, records their pids in argv[1], and exits at once."""
import json
import os
import sys
import time

spec = json.load(open(os.environ["XPH_SPEC"]))
pids = []
for _ in range(3):
    pid = os.fork()
    if pid == 0:
        time.sleep(60)
        os._exit(0)
    pids.append(pid)
with open(sys.argv[1], "w") as f:
    f.write(" ".join(map(str, pids)))
attempts = [{"probe": p["name"], "id": q["id"], "pid": os.getpid(), "outcome": "ok", "outputs": []}
            for p in spec["probes"] for q in p["prompts"]]
tmp = os.environ["XPH_RESULT"] + ".tmp"
json.dump({"xph": 1, "sut": "orphan 1", "attempts": attempts, "failures": []}, open(tmp, "w"))
os.rename(tmp, os.environ["XPH_RESULT"])
