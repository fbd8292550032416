"""Point xph at your own client code: a minimal adapter on xph_sut.

    xph run scenarios/ --sut-cmd "/usr/bin/python3 $PWD/docs/examples/adapter.py" --sut-name mine

Give the script's absolute path: the SUT runs in a fresh temporary directory.
Replace `generate` with your client. xph_sut.run_attempt applies the spec's
retry policy and turns any error into a plain-data envelope inside the pool
worker: that is what makes it cross the process boundary intact.
"""
import json
import os
import sys
import urllib.request

# From a checkout, without PYTHONPATH: xph_sut lives in harness/python.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "harness", "python"))
import xph_sut  # noqa: E402


def generate(spec, text, n):
    """Your client goes here. This one: one request via urllib, shaped for
    the spec's endpoint by xph_sut's table (chat, completions, embeddings,
    responses)."""
    path, body = xph_sut.request_for(spec.endpoint, spec.model, text, n)
    request = urllib.request.Request(spec.base_url + path, json.dumps(body).encode(),
                                     {"Authorization": "Bearer " + spec.api_key, "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=spec.request_timeout_s) as response:
        return xph_sut.outputs_of(spec.endpoint, json.load(response))


def attempt(job):
    spec, prompt = job
    return xph_sut.run_attempt(spec, prompt, lambda text, n: generate(spec, text, n))


def main():
    spec = xph_sut.load_spec()
    attempts = []
    for probe in spec.probes:
        jobs = [(spec, prompt) for prompt in probe.prompts]
        if spec.pooled(probe):
            with spec.pool(min(spec.parallel_attempts, len(jobs))) as pool:
                attempts += pool.map(attempt, jobs)
        else:
            attempts += map(attempt, jobs)
    xph_sut.write_result("adapter-example 2", attempts)


if __name__ == "__main__":
    xph_sut.serve(main)
