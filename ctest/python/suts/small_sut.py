"""A small SUT on xph_sut with httpx and backoff, as a scanner's own would
be, and two bugs to switch on:

  --bug raw-errors  an API error leaves the pool worker as the exception
                    itself (garak after #689): its class needs keyword-only
                    arguments, so the parent cannot unpickle it
  --bug swallow     an API error becomes an ok attempt with no outputs
"""
import argparse
import os
import sys

import backoff
import httpx

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "harness", "python"))
import xph_sut  # noqa: E402


class APIStatusError(Exception):
    """openai-python's constructor shape: what pickle cannot rebuild."""

    def __init__(self, message, *, response, body):
        super().__init__(message)
        self.response = response
        self.status_code = response.status_code
        self.body = body


class Client:
    def __init__(self, spec):
        self.spec = spec
        self.http = None  # made in the process that uses it, never pickled
        self.pid = None

    def __getstate__(self):
        return dict(self.__dict__, http=None)

    def generate(self, text, n):
        # A forked worker inherits the parent's client and its pooled
        # connections: two processes on one socket read each other's answers.
        if self.http is None or self.pid != os.getpid():
            self.pid = os.getpid()
            self.http = httpx.Client(base_url=self.spec.base_url, timeout=self.spec.request_timeout_s,
                                     headers={"Authorization": "Bearer " + self.spec.api_key})
        chat = self.spec.endpoint == "chat"
        body = {"model": self.spec.model, "n": n}
        body.update({"messages": [{"role": "user", "content": text}]} if chat else {"prompt": text})
        response = self.http.post("/chat/completions" if chat else "/completions", json=body)
        if response.status_code >= 400:
            raise APIStatusError("Error code: %d" % response.status_code, response=response,
                                 body=response.json())
        choices = response.json()["choices"]
        return [c["message"]["content"] if chat else c["text"] for c in choices]


BUG = None
CLIENT = None


def attempt(prompt):
    if BUG == "raw-errors":
        retry = CLIENT.spec.retry
        calls, n = CLIENT.spec.calls
        call = backoff.on_exception(backoff.constant, Exception, interval=0, max_tries=retry.max_tries,
                                    giveup=lambda e: retry.gives_up(xph_sut.envelope(e), 0), jitter=None,
                                    logger=None)(CLIENT.generate)
        return xph_sut.ok(prompt, [o for _ in range(calls) for o in call(prompt.text, n)])
    outcome = xph_sut.run_attempt(CLIENT.spec, prompt, CLIENT.generate)
    if BUG == "swallow" and outcome["outcome"] == "error":
        return xph_sut.ok(prompt, [])
    return outcome


def main():
    global BUG, CLIENT
    parser = argparse.ArgumentParser()
    parser.add_argument("--bug", choices=["raw-errors", "swallow"])
    BUG = parser.parse_args().bug
    spec = xph_sut.load_spec()
    CLIENT = Client(spec)
    attempts, failures = [], []
    for probe in spec.probes:
        if spec.pooled(probe):
            with spec.pool(min(spec.parallel_attempts, len(probe.prompts))) as pool:
                try:
                    attempts += pool.map(attempt, probe.prompts)
                except Exception as e:  # an exception that did cross lost its attempt
                    failures.append(xph_sut.failure("result", probe.name, e))
        else:
            attempts += [attempt(p) for p in probe.prompts]
    xph_sut.write_result("small-sut 1 (%s)" % (BUG or "correct"), attempts, failures)


if __name__ == "__main__":
    xph_sut.serve(main)
