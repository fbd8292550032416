"""A SUT whose client gives up on answers it was too starved to read in
time, as a scanner that loads its HTTP client lazily does on a busy
machine. python3 starved_client_sut.py MODE MARKER

  starved  its first run (MARKER absent) shares its core with eight busy
           children of its own, so each answer, sent at once, is read past
           request_timeout_s and retried; later runs are quiet and pass
  wrong    never starved; its client takes every answer for a timeout,
           whatever the machine (a wrong client)

Each attempt in-process (the scenario's probes have one attempt each)."""
import json
import os
import signal
import sys
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "harness", "python"))
import xph_sut  # noqa: E402

mode, marker = sys.argv[1], sys.argv[2]
starved = mode == "starved" and not os.path.exists(marker)
open(marker, "a").close()
spec = xph_sut.load_spec()

hogs = []
if starved:
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    for _ in range(8):
        pid = os.fork()
        if pid == 0:
            while True:
                pass
        hogs.append(pid)


def generate(text, n):
    path, body = xph_sut.request_for(spec.endpoint, spec.model, text, n)
    request = urllib.request.Request(spec.base_url + path, json.dumps(body).encode(),
                                     {"Authorization": "Bearer " + spec.api_key, "Content-Type": "application/json"})
    started = time.monotonic()
    with urllib.request.urlopen(request, timeout=spec.request_timeout_s) as response:
        answer = json.load(response)
    # What a lazily loaded client costs on its first use: 0.15 s of CPU.
    end = time.process_time() + 0.15
    while time.process_time() < end:
        pass
    if mode == "wrong" or time.monotonic() - started > spec.request_timeout_s:
        raise TimeoutError("the answer came after request_timeout_s")
    return xph_sut.outputs_of(spec.endpoint, answer)


attempts = [xph_sut.run_attempt(spec, prompt, generate) for prompt in spec.prompts]
for pid in hogs:
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
xph_sut.write_result("starved-client 1", attempts)
