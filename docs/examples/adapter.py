"""Point xph at your own client code: a minimal adapter (xph contract section 4).

    xph run scenarios/ --sut-cmd "/usr/bin/python3 $PWD/docs/examples/adapter.py" --sut-name mine

Give the script's absolute path: the SUT runs in a fresh temporary directory.
Replace `call_model` with your client; keep the envelope: it is what makes an
error cross the process boundary intact.
"""
import json
import multiprocessing
import os
import time
import urllib.error
import urllib.request

SPEC = json.load(open(os.environ["XPH_SPEC"]))


def call_model(prompt, n):
    """Your client goes here. This one: one chat completion via urllib."""
    body = json.dumps({"model": SPEC["model"], "n": n,
                       "messages": [{"role": "user", "content": prompt}]}).encode()
    request = urllib.request.Request(SPEC["base_url"] + "/chat/completions", body, {
        "Authorization": "Bearer " + SPEC["api_key"], "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=SPEC["request_timeout_s"]) as response:
        return [c["message"]["content"] for c in json.load(response)["choices"]]


def envelope(e):
    """Any error as plain data: strings and numbers always unpickle."""
    if isinstance(e, urllib.error.HTTPError):
        error = json.load(e).get("error", {})
        return {"kind": "http", "status": e.code, "type": error.get("type"), "code": error.get("code"),
                "message": error.get("message"), "request_id": e.headers.get("x-request-id"),
                "exception": type(e).__name__, "retry_after_ms": e.headers.get("retry-after-ms")}
    if isinstance(e, (ValueError, KeyError, TypeError)):
        kind = "decode"  # a 200 whose body is not a completion
    elif "timed out" in str(e):
        kind = "timeout"
    else:
        kind = "connection"
    return {"kind": kind, "status": None, "type": None, "code": None, "message": str(e),
            "request_id": None, "exception": type(e).__name__}


def call_with_retries(prompt, n):
    """The spec's retry policy: retry_on, max_tries, Retry-After."""
    policy, tries = SPEC["retry"], 0
    while True:
        tries += 1
        try:
            return call_model(prompt, n)
        except Exception as e:
            error = envelope(e)
            retryable = error["status"] in policy["retry_on"] or error["kind"] in policy["retry_on"]
            if not retryable or (policy["max_tries"] is not None and tries >= policy["max_tries"]):
                error.pop("retry_after_ms", None)
                raise RuntimeError(error)
            wait = min(policy["max_delay_s"], 0.005 * 2 ** tries)
            if policy["honor_retry_after"] and error.get("retry_after_ms"):
                wait = max(wait, int(error["retry_after_ms"]) / 1000)
            time.sleep(wait)


def attempt(job):
    probe, prompt = job
    loop = SPEC["multi_generation"] == "loop"
    calls, n = (SPEC["generations"], 1) if loop else (1, SPEC["generations"])
    outcome = {"probe": probe, "id": prompt["id"], "pid": os.getpid()}
    try:
        outputs = [text for _ in range(calls) for text in call_with_retries(prompt["text"], n)]
        return dict(outcome, outcome="ok", outputs=outputs)
    except RuntimeError as e:  # caught here, in the worker: only plain data goes back
        return dict(outcome, outcome="error", error=e.args[0])


if __name__ == "__main__":
    attempts = []
    for probe in SPEC["probes"]:
        jobs = [(probe["name"], p) for p in probe["prompts"]]
        if SPEC["parallel_attempts"] > 1 and len(jobs) > 1:
            with multiprocessing.Pool(min(SPEC["parallel_attempts"], len(jobs))) as pool:
                attempts += pool.map(attempt, jobs)
        else:
            attempts += [attempt(job) for job in jobs]
    result = {"xph": 1, "sut": "adapter-example 1", "attempts": attempts, "failures": []}
    with open(os.environ["XPH_RESULT"] + ".tmp", "w") as f:
        json.dump(result, f)
    os.rename(os.environ["XPH_RESULT"] + ".tmp", os.environ["XPH_RESULT"])
