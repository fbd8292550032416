"""One attempt as the spec asks for it: generation calls under the retry
policy, ending as plain data, never as an exception."""
import time

from . import outcomes


def call_with_retry(call, retry, *args, sleep=time.sleep, **kwargs):
    """call(*args, **kwargs) under a spec's Retry policy. Returns what the
    last try returned; raises what it raised (the exception itself, for the
    caller to turn into an envelope where it can still cross a boundary)."""
    tries = 0
    while True:
        tries += 1
        try:
            return call(*args, **kwargs)
        except Exception as exc:
            if retry.gives_up(outcomes.envelope(exc), tries):
                raise
            sleep(retry.delay_s(tries, outcomes.retry_after_s(exc)))


def run_attempt(spec, prompt, generate, catch=Exception):
    """One attempt of `prompt`: generate(text, n) -> list of outputs, called
    once with n=generations (`n` mode) or generations times with n=1
    (`loop` mode), each call retried per spec.retry. Returns an ok outcome
    or, for an exception of class `catch`, an error outcome whose envelope
    describes the last try. Call it inside the pool worker: what it returns
    is plain data and crosses back whole."""
    calls, n = spec.calls
    try:
        outputs = []
        for _ in range(calls):
            outputs += call_with_retry(generate, spec.retry, prompt.text, n)
    except catch as exc:
        return outcomes.error(prompt, exc)
    return outcomes.ok(prompt, outputs)
