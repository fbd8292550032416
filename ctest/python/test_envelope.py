"""envelope() and the retry helpers on the errors real clients raise against
the real oaimock: httpx, urllib, and openai-python's exception shapes (those
of the garaklike fixture, built as openai builds them, from httpx responses)."""
import json
import os
import pickle
import sys
import urllib.error
import urllib.request

import httpx
import pytest

import xph_sut
from conftest import REPO

sys.path.insert(0, os.path.join(REPO, "fixtures", "sut"))
from garaklike import errors as openai_shaped  # noqa: E402

TIMEOUT_S = 0.5


def body(key, n=1):
    return {"model": "m", "n": n, "messages": [{"role": "user", "content": "say [xph:%s]" % key}]}


def via_httpx(oaimock, key):
    with httpx.Client(base_url=oaimock.base_url, timeout=TIMEOUT_S,
                      headers={"Authorization": "Bearer " + oaimock.api_key}) as client:
        response = client.post("/chat/completions", json=body(key))
        response.raise_for_status()
        return [c["message"]["content"] for c in response.json()["choices"]]


def via_urllib(oaimock, key):
    request = urllib.request.Request(oaimock.base_url + "/chat/completions", json.dumps(body(key)).encode(),
                                     {"Authorization": "Bearer " + oaimock.api_key})
    with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
        return [c["message"]["content"] for c in json.load(response)["choices"]]


def via_openai_shape(oaimock, key):
    """What openai-python raises, from the same httpx exchange."""
    with httpx.Client(base_url=oaimock.base_url, timeout=TIMEOUT_S,
                      headers={"Authorization": "Bearer " + oaimock.api_key}) as client:
        request = client.build_request("POST", "/chat/completions", json=body(key))
        try:
            response = client.send(request)
        except httpx.TimeoutException:
            raise openai_shaped.APITimeoutError(request=request)
        except httpx.TransportError as e:
            raise openai_shaped.APIConnectionError(message=str(e), request=request)
        try:
            parsed = response.json()
        except ValueError:
            parsed = None
        if response.status_code >= 400:
            # openai v1 keeps the inner error object as .body
            raise openai_shaped.status_error(response, parsed)
        if not isinstance(parsed, dict) or "choices" not in parsed:
            raise openai_shaped.APIResponseValidationError(response, parsed)
        return [c["message"]["content"] for c in parsed["choices"]]


CLIENTS = {"httpx": via_httpx, "urllib": via_urllib, "openai": via_openai_shape}


def failing(client, oaimock, key):
    with pytest.raises(Exception) as caught:
        CLIENTS[client](oaimock, key)
    return caught.value


@pytest.mark.parametrize("client", sorted(CLIENTS))
@pytest.mark.parametrize("status, code, kind_of_type", [
    (400, "context_length_exceeded", "invalid_request_error"),
    (429, "insufficient_quota", "insufficient_quota"),
    (503, None, "server_error"),
])
def test_an_error_status_is_http_with_the_servers_code_and_request_id(oaimock, client, status, code, kind_of_type):
    oaimock.script("%d:%s" % (status, code) if code else str(status))
    exc = failing(client, oaimock, "p#0")
    env = xph_sut.envelope(exc)
    (entry,) = oaimock.journal(wait_for=1)
    assert env == {"kind": "http", "status": status, "type": kind_of_type, "code": code,
                   "message": env["message"], "request_id": entry["request_id"],
                   "exception": type(exc).__name__}
    assert env["message"].startswith("xph: scripted %d" % status)
    assert pickle.loads(pickle.dumps(env)) == env  # what the whole package is for
    assert xph_sut.envelope(exc) == env  # reading urllib's body once must not lose it


@pytest.mark.parametrize("client", sorted(CLIENTS))
@pytest.mark.parametrize("step, kind", [
    ("reset", "connection"), ("drop", "connection"), ("truncate", "connection"),
    ("hang", "timeout"), ("slow@2", "timeout"), ("malformed", "decode"),
])
def test_faults_get_the_kind_the_judge_expects(oaimock, client, step, kind):
    oaimock.script(step)
    exc = failing(client, oaimock, "p#0")
    env = xph_sut.envelope(exc)
    assert (env["kind"], env["exception"]) == (kind, type(exc).__name__), repr(exc)
    assert env["type"] is None and env["code"] is None
    if kind != "decode":
        assert env["status"] is None


@pytest.mark.parametrize("client", sorted(CLIENTS))
def test_retry_after_is_read_from_the_exception(oaimock, client):
    oaimock.script("429@0.25")
    assert xph_sut.retry_after_s(failing(client, oaimock, "p#0")) == 0.25


def test_an_explicit_cause_is_consulted_for_a_wrapper():
    try:
        try:
            raise httpx.ConnectError("refused")
        except httpx.ConnectError as e:
            raise RuntimeError("my client failed") from e
    except RuntimeError as wrapped:
        env = xph_sut.envelope(wrapped)
    assert (env["kind"], env["exception"]) == ("connection", "RuntimeError")


def test_anything_else_is_decode():
    assert xph_sut.envelope(KeyError("choices"))["kind"] == "decode"


def test_call_with_retry_follows_the_policy_and_the_servers_retry_after(oaimock):
    oaimock.script("429@0.3,500,200")
    spec = xph_sut.parse_spec({"base_url": oaimock.base_url, "api_key": oaimock.api_key, "model": "m",
                               "probes": [], "retry": {"max_tries": 3, "max_delay_s": 0.02}})
    waits = []
    outputs = xph_sut.call_with_retry(via_httpx, spec.retry, oaimock, "p#0", sleep=waits.append)
    assert outputs == ["xph:p#0:r2:c0"]
    assert waits == [0.3, 0.01]  # Retry-After beats max_delay_s; then exponential, capped
    assert [e["status"] for e in oaimock.journal()] == [429, 500, 200]


def test_call_with_retry_gives_up_on_what_the_policy_does_not_retry(oaimock):
    oaimock.script("400,200")
    spec = xph_sut.parse_spec({"base_url": oaimock.base_url, "api_key": oaimock.api_key, "model": "m",
                               "probes": []})
    with pytest.raises(httpx.HTTPStatusError):
        xph_sut.call_with_retry(via_httpx, spec.retry, oaimock, "p#0", sleep=lambda s: None)
    assert [e["status"] for e in oaimock.journal()] == [400]


@pytest.mark.parametrize("mode, generations, script, want", [
    ("n", 2, "200", {"outcome": "ok", "outputs": ["xph:p#0:r0:c0", "xph:p#0:r0:c1"]}),
    ("loop", 2, "200", {"outcome": "ok", "outputs": ["xph:p#0:r0:c0", "xph:p#0:r1:c0"]}),
    ("loop", 2, "200,400:content_filter", {"outcome": "error"}),
])
def test_run_attempt_makes_the_generation_calls_of_the_mode(oaimock, mode, generations, script, want):
    oaimock.script(script)
    spec = xph_sut.parse_spec({
        "base_url": oaimock.base_url, "api_key": oaimock.api_key, "model": "m", "generations": generations,
        "multi_generation": mode, "probes": [{"name": "p", "prompts": [{"id": "p#0", "text": "[xph:p#0]"}]}]})

    def generate(text, n):
        with httpx.Client(timeout=TIMEOUT_S) as client:
            r = client.post(spec.base_url + "/chat/completions", headers={"Authorization": "Bearer " + spec.api_key},
                            json={"model": "m", "n": n, "messages": [{"role": "user", "content": text}]})
            r.raise_for_status()
            return [c["message"]["content"] for c in r.json()["choices"]]
    outcome = xph_sut.run_attempt(spec, spec.prompts[0], generate)
    assert outcome["probe"] == "p" and outcome["id"] == "p#0" and outcome["pid"] == os.getpid()
    assert {k: outcome[k] for k in want} == want
    if want["outcome"] == "error":
        last = oaimock.journal()[-1]
        assert (outcome["error"]["status"], outcome["error"]["code"], outcome["error"]["request_id"]) == (
            400, "content_filter", last["request_id"])
