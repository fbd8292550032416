"""What the test SUTs that do not call the server answer: every attempt of
the spec `ok` with no output, written atomically to XPH_RESULT."""
import json
import os


def write(sut):
    spec = json.load(open(os.environ["XPH_SPEC"]))
    attempts = [{"probe": p["name"], "id": q["id"], "pid": os.getpid(), "outcome": "ok", "outputs": []}
                for p in spec["probes"] for q in p["prompts"]]
    result = os.environ["XPH_RESULT"]
    with open(result + ".tmp", "w") as f:
        json.dump({"xph": 1, "sut": sut, "attempts": attempts}, f)
    os.rename(result + ".tmp", result)
