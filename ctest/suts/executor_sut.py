"""A scanner on concurrent.futures.ProcessPoolExecutor, as its users write
one: a pooled probe's attempts run in the executor, and an HTTP error is
raised in the worker as an exception whose __init__ takes keyword-only
arguments (openai's APIStatusError does), which pickles but does not
unpickle. The executor then fails every pending future with
BrokenProcessPool, whose message says a process died; the parent reports it
at stage `worker`, as that message suggests, with the formatted exception,
its cause (the TypeError) included. Nothing is printed.

    /usr/bin/python3 executor_sut.py   (xph_sut on PYTHONPATH)
"""
import concurrent.futures
import json
import urllib.error
import urllib.request

import xph_sut


class StatusError(Exception):
    def __init__(self, message, *, status_code, headers):
        super().__init__(message)
        self.status_code = status_code
        self.headers = headers


def generate(spec, text, n):
    path, body = xph_sut.request_for(spec.endpoint, spec.model, text, n)
    request = urllib.request.Request(spec.base_url + path, data=json.dumps(body).encode(), headers={
        "Authorization": "Bearer " + spec.api_key, "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=spec.request_timeout_s) as answer:
            return xph_sut.outputs_of(spec.endpoint, json.load(answer))
    except urllib.error.HTTPError as e:
        raise StatusError("Error code: %d" % e.code, status_code=e.code, headers=dict(e.headers)) from None


def attempt(spec, prompt):
    # Raises what the last try raised: the exception crosses back as it is.
    return xph_sut.ok(prompt, [out for _ in range(spec.calls[0])
                               for out in xph_sut.call_with_retry(generate, spec.retry, spec, prompt.text,
                                                                  spec.calls[1])])


def main():
    spec = xph_sut.load_spec()
    attempts, failures = [], []
    for probe in spec.probes:
        if not spec.pooled(probe):
            for prompt in probe.prompts:
                try:
                    attempts.append(attempt(spec, prompt))
                except Exception as e:
                    attempts.append(xph_sut.error(prompt, e))
            continue
        executor = concurrent.futures.ProcessPoolExecutor(
            min(spec.parallel_attempts, len(probe.prompts)),
            mp_context=__import__("multiprocessing").get_context(spec.start_method))
        with executor:
            futures = [(prompt, executor.submit(attempt, spec, prompt)) for prompt in probe.prompts]
            for prompt, future in futures:
                try:
                    attempts.append(future.result())
                except concurrent.futures.process.BrokenProcessPool as e:
                    failures.append(xph_sut.failure("worker", probe.name, e))
                    break
                except Exception as e:  # crossed whole: reported, with the worker's pid lost
                    attempts.append(xph_sut.error(prompt, e))
    xph_sut.write_result("executor 1", attempts, failures)


if __name__ == "__main__":
    main()
