"""A hostile SUT: it double-forks a grandchild into a new session (out of
its process group), records the grandchild's pid in argv[1], writes a whole
result and exits. Only the tenant in the grandchild's environment ties it
to the case."""
import json
import os
import sys
import time

spec = json.load(open(os.environ["XPH_SPEC"]))
if os.fork() == 0:
    os.setsid()
    pid = os.fork()
    if pid == 0:
        time.sleep(60)
        os._exit(0)
    with open(sys.argv[1], "w") as f:
        f.write(str(pid))
    os._exit(0)
deadline = time.time() + 5
while not os.path.exists(sys.argv[1]) and time.time() < deadline:
    time.sleep(0.01)
attempts = [{"probe": p["name"], "id": q["id"], "pid": os.getpid(), "outcome": "ok", "outputs": []}
            for p in spec["probes"] for q in p["prompts"]]
tmp = os.environ["XPH_RESULT"] + ".tmp"
json.dump({"xph": 1, "sut": "double-fork 1", "attempts": attempts, "failures": []}, open(tmp, "w"))
os.rename(tmp, os.environ["XPH_RESULT"])
