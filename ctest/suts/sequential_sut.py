"""A minimal SUT that speaks contract section 4 with the standard library
only. It runs every attempt in its own process, pool or not, so it is
honest (every outcome intact) but VACUOUS for pooled probes.

--fixed-backoff S: a common client defect instead: it never reads
Retry-After and waits S seconds before each retry (a fixed wait, as many
retry decorators are configured).
--in-child: every attempt runs in one child process, sent to the parent
through a multiprocessing Queue (not VACUOUS: a boundary was crossed).
--child-per-probe: each probe runs in a child of its own (this script
again, by subprocess.run with no pipe), which writes its outcomes to a file
that the parent reads and merges into the result, with its own pid as the
result's writer: the parent only waits while each child runs, but a
boundary is crossed (not VACUOUS). --child-per-probe-no-pid: the same
without the writer's pid, so xph takes the parent for a wrapper."""
import json
import os
import sys
import time
import urllib.error
import urllib.request

fixed_backoff = float(sys.argv[2]) if sys.argv[1:2] == ["--fixed-backoff"] else None
spec = json.load(open(os.environ["XPH_SPEC"]))
base, key = spec["base_url"], spec["api_key"]
retry = spec["retry"]
loop = spec["multi_generation"] == "loop"
calls, n = (spec["generations"], 1) if loop else (1, spec["generations"])


def call(text):
    tries = 0
    while True:
        tries += 1
        body = json.dumps({"model": spec["model"], "n": n,
                           "messages": [{"role": "user", "content": text}]}).encode()
        req = urllib.request.Request(base + "/chat/completions", body,
                                     {"Authorization": "Bearer " + key, "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=spec["request_timeout_s"]) as r:
                return [c["message"]["content"] for c in json.load(r)["choices"]], None
        except urllib.error.HTTPError as e:
            err = json.load(e)["error"]
            error = {"kind": "http", "status": e.code, "type": err["type"], "code": err["code"],
                     "message": err["message"], "request_id": e.headers.get("x-request-id"),
                     "exception": "HTTPError"}
            wait = float(e.headers.get("retry-after-ms", "0")) / 1000
            if e.code in retry["retry_on"] and (retry["max_tries"] is None or tries < retry["max_tries"]):
                time.sleep(fixed_backoff if fixed_backoff is not None else max(wait, 0.001))
                continue
            return None, error



def run_all(queue=None, only=None):
    attempts = []
    for probe in spec["probes"]:
        if only is not None and probe["name"] != only:
            continue
        for prompt in probe["prompts"]:
            outputs, error = [], None
            for _ in range(calls):
                texts, error = call(prompt["text"])
                if error:
                    break
                outputs += texts
            a = {"probe": probe["name"], "id": prompt["id"], "pid": os.getpid()}
            a.update({"outcome": "error", "error": error} if error else {"outcome": "ok", "outputs": outputs})
            attempts.append(a)
    if queue is not None:
        queue.put(attempts)
    return attempts


if sys.argv[1:2] == ["--in-child"]:
    # Every attempt in one child process, sent back pickled through a Queue
    # that the parent reads after join(): a process boundary crossed, though
    # the parent only waits while the child runs.
    import multiprocessing
    queue = multiprocessing.Queue()
    child = multiprocessing.Process(target=run_all, args=(queue,))
    child.start()
    child.join()
    attempts = queue.get()
elif sys.argv[1:2] in (["--child-per-probe"], ["--child-per-probe-no-pid"]):
    import subprocess
    import tempfile
    attempts = []
    for probe in spec["probes"]:
        out = os.path.join(tempfile.gettempdir(), "probe-%s.json" % probe["name"])
        subprocess.run([sys.executable, __file__, "--probe", probe["name"], out], stdin=subprocess.DEVNULL,
                       check=True)
        attempts += json.load(open(out))
elif sys.argv[1:2] == ["--probe"]:  # the child of --child-per-probe
    json.dump(run_all(only=sys.argv[2]), open(sys.argv[3], "w"))
    sys.exit(0)
else:
    attempts = run_all()
tmp = os.environ["XPH_RESULT"] + ".tmp"
result = {"xph": 1, "sut": "sequential 1", "attempts": attempts, "failures": []}
if sys.argv[1:2] == ["--child-per-probe"]:
    result["pid"] = os.getpid()
json.dump(result, open(tmp, "w"))
os.rename(tmp, os.environ["XPH_RESULT"])
