"""Outcomes, error envelopes and boundary failures: the plain data of a
result (contract section 4). Plain data on purpose: dicts of strings,
numbers and None always pickle and unpickle, which an API exception does not."""
import http.client
import json
import os
import traceback as traceback_module
import urllib.error

KINDS = ("http", "connection", "timeout", "decode")
STAGES = ("dispatch", "result", "worker", "other")

# Classes recognised by name, so that no client library need be importable
# here: openai-python (v1 and 0.x), httpx, requests, urllib3.
_TIMEOUT_NAMES = frozenset({
    "APITimeoutError", "Timeout", "TimeoutException", "ReadTimeout", "ConnectTimeout", "WriteTimeout",
    "PoolTimeout", "ReadTimeoutError", "ConnectTimeoutError", "TimeoutError"})
_CONNECTION_NAMES = frozenset({
    "APIConnectionError", "TransportError", "NetworkError", "ProtocolError", "RemoteProtocolError",
    "LocalProtocolError", "ConnectError", "ReadError", "WriteError", "CloseError", "ProxyError",
    "ChunkedEncodingError", "IncompleteRead", "NewConnectionError", "MaxRetryError"})
_DECODE_NAMES = frozenset({"APIResponseValidationError", "DecodingError", "JSONDecodeError"})


def _get(obj, name):
    """getattr that survives properties which raise (httpx's .request does)."""
    try:
        return getattr(obj, name, None)
    except Exception:
        return None


def _names(exc):
    return {cls.__name__ for cls in type(exc).__mro__}


def _status(exc):
    for obj in (exc, _get(exc, "response")):
        if obj is None:
            continue
        for attr in ("status_code", "http_status", "status"):
            value = _get(obj, attr)
            if isinstance(value, int) and not isinstance(value, bool):
                return value
    if isinstance(exc, urllib.error.HTTPError):
        return exc.code
    return None


def _headers(exc):
    response = _get(exc, "response")
    for obj in (response, exc):
        headers = _get(obj, "headers") if obj is not None else None
        if headers is not None:
            return headers
    return None


def _header(headers, name):
    if headers is None:
        return None
    try:
        value = headers.get(name)
        if value is None and isinstance(headers, dict):  # a plain dict is case-sensitive
            value = next((v for k, v in headers.items() if str(k).lower() == name), None)
    except Exception:
        return None
    return value.decode("latin-1") if isinstance(value, bytes) else value


def _body(exc):
    """The decoded error body, wherever this client keeps it."""
    body = _get(exc, "body")
    if body is None:
        body = _get(exc, "json_body")  # openai 0.x
    if body is None and isinstance(exc, urllib.error.HTTPError):
        # Reading consumes the response: keep what was read for the next call.
        if "_xph_body" not in exc.__dict__:
            try:
                exc.__dict__["_xph_body"] = exc.read()
            except Exception:
                exc.__dict__["_xph_body"] = None
        body = exc.__dict__["_xph_body"]
    if body is None:
        response = _get(exc, "response")
        if response is not None:
            try:
                body = response.json()
            except Exception:
                body = None
    if isinstance(body, (bytes, str)):
        try:
            body = json.loads(body)
        except ValueError:
            return {}
    if not isinstance(body, dict):
        return {}
    # The wire body is {"error": {...}}; openai v1 keeps the inner object.
    inner = body.get("error")
    return inner if isinstance(inner, dict) else body


def _kind(exc, status):
    names = _names(exc)
    if names & _DECODE_NAMES:
        return "decode"
    if names & _TIMEOUT_NAMES or isinstance(exc, TimeoutError) or isinstance(_get(exc, "reason"), TimeoutError):
        return "timeout"
    if status is not None and status >= 400:
        return "http"
    if names & _CONNECTION_NAMES or isinstance(exc, (OSError, http.client.HTTPException)):
        return "connection"
    return None


def _str_or_none(value):
    return value if isinstance(value, str) else None


def envelope(exc):
    """An exception as the protocol's error envelope:
    {"kind", "status", "type", "code", "message", "request_id", "exception"}.

    kind: "timeout" for a client timeout, "http" for an error status (>= 400),
    "connection" for a transport failure (reset, dropped, truncated), and
    "decode" for anything else: a 2xx whose body is not a completion, which
    is what a JSON, key or type error while reading one means. An explicit
    cause (`raise X from e`) is consulted when the exception itself says nothing.
    """
    source, kind = exc, _kind(exc, _status(exc))
    cause = exc.__cause__
    while kind is None and cause is not None:
        source, kind = cause, _kind(cause, _status(cause))
        cause = cause.__cause__
    if kind is None:
        source = exc
    status = _status(source)
    kind = kind or "decode"
    error = _body(source) if kind == "http" else {}
    headers = _headers(source)
    request_id = _str_or_none(_get(source, "request_id")) or _header(headers, "x-request-id")
    message = (_str_or_none(error.get("message")) or _str_or_none(_get(source, "message"))
               or str(source) or type(source).__name__)
    return {
        "kind": kind,
        "status": status if kind in ("http", "decode") else None,
        "type": _str_or_none(_get(source, "type")) or _str_or_none(error.get("type")),
        "code": _str_or_none(_get(source, "code")) or _str_or_none(error.get("code")),
        "message": message,
        "request_id": request_id,
        "exception": type(exc).__name__,
    }


def retry_after_s(exc):
    """The server's Retry-After carried by an exception, in seconds, or None."""
    headers = _headers(exc)
    for name, scale in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        value = _header(headers, name)
        if value is not None:
            try:
                return float(value) / scale
            except ValueError:
                pass  # an HTTP date: the mock never sends one
    return None


def ok(prompt, outputs, pid=None):
    """An attempt that produced outputs: each a string, or None for a
    generation that produced nothing (garak's [None])."""
    outputs = list(outputs)
    for i, o in enumerate(outputs):
        if o is not None and not isinstance(o, str):
            raise TypeError("output %d of %s is %s, not a string or None" % (i, prompt.id, type(o).__name__))
    return {"probe": prompt.probe, "id": prompt.id, "pid": os.getpid() if pid is None else pid,
            "outcome": "ok", "outputs": outputs}


def error(prompt, exc_or_envelope, pid=None):
    """An attempt that ended in an error: an exception, or an envelope made earlier."""
    env = exc_or_envelope if isinstance(exc_or_envelope, dict) else envelope(exc_or_envelope)
    missing = [k for k in ("kind", "status", "type", "code", "message", "request_id", "exception") if k not in env]
    if missing or env["kind"] not in KINDS:
        raise ValueError("not an error envelope (%s): %r" % (", ".join(missing) or "kind", env))
    return {"probe": prompt.probe, "id": prompt.id, "pid": os.getpid() if pid is None else pid,
            "outcome": "error", "error": dict(env)}


def failure(stage, probe, exc=None, message=None, traceback=None):
    """Something that broke in the SUT's own machinery, above all at the
    process boundary. stage: "dispatch" (a task could not be sent to a
    worker), "result" (a result could not come back), "worker" (a worker
    died or raised), "other". With `exc`, the message is Python's own line
    (`TypeError: cannot pickle '_thread.RLock' object`, which the judge
    recognises) and the traceback is the exception's."""
    if stage not in STAGES:
        raise ValueError("stage %r is not one of %s" % (stage, ", ".join(STAGES)))
    if exc is not None:
        if message is None:
            message = "".join(traceback_module.format_exception_only(type(exc), exc)).strip()
        if traceback is None:
            traceback = "".join(traceback_module.format_exception(type(exc), exc, exc.__traceback__))
    return {"stage": stage, "probe": probe, "message": message or "", "traceback": traceback or ""}
