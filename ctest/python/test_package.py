"""xph_sut's plain-data pieces: the spec view, outcomes, failures, the result file."""
import json
import os
import pickle
import threading

import pytest

import xph_sut
from conftest import write_spec


def test_the_spec_as_xph_writes_it(tmp_path):
    path = write_spec(str(tmp_path), (("single", 1), ("multi", 2)), generations=3, multi_generation="loop",
                      parallel_attempts=4)
    spec = xph_sut.load_spec(path)
    assert (spec.model, spec.endpoint, spec.generations, spec.multi_generation, spec.parallel_attempts) == (
        "xph-mock", "chat", 3, "loop", 4)
    assert spec.start_method == "fork"  # absent from older specs
    assert spec.calls == (3, 1)
    assert [p.name for p in spec.probes] == ["single", "multi"]
    assert [(q.probe, q.id, q.text) for q in spec.prompts] == [
        ("single", "single#0", "say [xph:single#0]"), ("multi", "multi#0", "say [xph:multi#0]"),
        ("multi", "multi#1", "say [xph:multi#1]")]
    assert [spec.pooled(p) for p in spec.probes] == [False, True]
    assert spec.retry.max_tries == 3 and 429 in spec.retry.retry_on and "timeout" in spec.retry.retry_on
    assert spec.raw["xph"] == 1
    assert pickle.loads(pickle.dumps(spec)) == spec  # it travels to pool workers


def test_load_spec_reads_xph_spec_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("XPH_SPEC", write_spec(str(tmp_path), start_method="spawn"))
    spec = xph_sut.load_spec()
    assert spec.start_method == "spawn"
    with spec.pool(1) as pool:
        assert pool._ctx.get_start_method() == "spawn"


@pytest.mark.parametrize("fields, message", [
    ({"start_method": "thread"}, "spec: field 'start_method' is 'thread', not one of fork, spawn, forkserver"),
    ({"parallel_attempts": True}, "spec: field 'parallel_attempts' is True, not int"),
    ({"retry": {"max_tries": "3"}}, "spec.retry: field 'max_tries' is '3', not int or null"),
    ({"probes": [{"name": "p", "prompts": [{"id": "p#0"}]}]}, "spec.probes[0].prompts[0]: missing field 'text'"),
])
def test_a_bad_spec_is_named_field_by_field(tmp_path, fields, message):
    path = write_spec(str(tmp_path))
    with open(path) as f:
        spec = json.load(f)
    spec.update(fields)
    with open(path, "w") as f:
        json.dump(spec, f)
    with pytest.raises(xph_sut.SpecError) as e:
        xph_sut.load_spec(path)
    assert str(e.value) == message


def test_retry_policy():
    retry = xph_sut.parse_spec({"base_url": "u", "api_key": "k", "model": "m", "probes": [],
                                "retry": {"max_tries": None, "retry_on": [429, "timeout"],
                                          "honor_retry_after": False, "max_delay_s": 0.5}}).retry
    assert not retry.gives_up({"kind": "http", "status": 429}, 1000)  # null: without limit
    assert retry.gives_up({"kind": "http", "status": 400}, 1)
    assert not retry.gives_up({"kind": "timeout", "status": None}, 1)
    assert retry.gives_up({"kind": "connection", "status": None}, 1)
    assert retry.delay_s(1, retry_after_s=3) == 0.005  # Retry-After not honoured here
    assert retry.delay_s(10) == 0.5


def test_outcomes_are_plain_data():
    prompt = xph_sut.Prompt("multi", "multi#1", "t")
    assert xph_sut.ok(prompt, ["a", None], pid=7) == {"probe": "multi", "id": "multi#1", "pid": 7, "outcome": "ok",
                                                      "outputs": ["a", None]}
    with pytest.raises(TypeError, match="output 0 of multi#1 is bytes"):
        xph_sut.ok(prompt, [b"a"])
    outcome = xph_sut.error(prompt, ConnectionResetError("reset by peer"))
    assert outcome["pid"] == os.getpid() and outcome["error"]["kind"] == "connection"
    with pytest.raises(ValueError, match="not an error envelope"):
        xph_sut.error(prompt, {"kind": "http"})


def test_a_boundary_failure_quotes_pythons_own_line():
    try:
        pickle.dumps(threading.RLock())
    except TypeError as e:
        failure = xph_sut.failure("dispatch", "multi", e)
    assert failure["stage"] == "dispatch" and failure["probe"] == "multi"
    assert failure["message"] == "TypeError: cannot pickle '_thread.RLock' object"
    assert failure["traceback"].startswith("Traceback (most recent call last):")
    assert xph_sut.failure("other", "p", message="m") == {"stage": "other", "probe": "p", "message": "m",
                                                          "traceback": ""}
    with pytest.raises(ValueError, match="stage 'pool' is not one of dispatch, result, worker, other"):
        xph_sut.failure("pool", "p", message="m")


def test_the_result_is_written_whole_or_not_at_all(tmp_path, monkeypatch):
    target = tmp_path / "result.json"
    monkeypatch.setenv("XPH_RESULT", str(target))
    renamed = []
    real_rename = os.rename
    monkeypatch.setattr(os, "rename", lambda a, b: (renamed.append((a, b)), real_rename(a, b)))
    xph_sut.write_result("mine 1.0", [{"id": "p#0"}])
    assert json.loads(target.read_text()) == {"xph": 1, "sut": "mine 1.0", "attempts": [{"id": "p#0"}],
                                              "failures": [], "pid": os.getpid()}
    ((source, dest),) = renamed
    assert os.path.dirname(source) == str(tmp_path) and dest == str(target)  # a rename within one folder
    with pytest.raises(TypeError):  # not JSON: nothing written, the old result intact
        xph_sut.write_result("mine 1.0", [{"id": object()}])
    assert json.loads(target.read_text())["attempts"] == [{"id": "p#0"}]
    assert sorted(os.listdir(tmp_path)) == ["result.json"]


# Set at run time in this process, as a SUT's main() would: a forked worker
# inherits it, a spawned or forkserver worker imports this module afresh.
RUN_TIME = {}


def _seen_by_worker(_):
    return os.getpid(), RUN_TIME.get("set"), _INITIALISED.get("with")


_INITIALISED = {}


def _initialise(value):
    _INITIALISED["with"] = value


@pytest.mark.parametrize("method", xph_sut.START_METHODS)
def test_spec_pool_runs_workers_under_the_spec_start_method(tmp_path, method, monkeypatch):
    spec = xph_sut.load_spec(write_spec(str(tmp_path), start_method=method))
    monkeypatch.setitem(RUN_TIME, "set", "in main")
    # The process default says otherwise: the spec wins.
    other = "spawn" if method == "fork" else "fork"
    monkeypatch.setattr(__import__("multiprocessing").context._default_context, "_actual_context",
                        __import__("multiprocessing").get_context(other))
    with spec.pool(2, initializer=_initialise, initargs=("passed",)) as pool:
        seen = pool.map(_seen_by_worker, range(4))
    assert {pid for pid, _, _ in seen}.isdisjoint({os.getpid()})
    # A run-time global reaches only a forked worker; initargs reach every one (pickled when not forked).
    assert {s for _, s, _ in seen} == ({"in main"} if method == "fork" else {None})
    assert {i for _, _, i in seen} == {"passed"}


@pytest.mark.parametrize("endpoint", xph_sut.ENDPOINTS)
def test_request_for_and_outputs_of_speak_each_endpoint_to_the_real_oaimock(oaimock, endpoint):
    import urllib.request
    oaimock.script({"k#0": "200", "k#1": "tool_call", "k#2": '200="said"'})

    def ask(key, n):
        path, body = xph_sut.request_for(endpoint, "m", "say [xph:%s]" % key, n)
        request = urllib.request.Request(oaimock.base_url + path, json.dumps(body).encode(),
                                         {"Authorization": "Bearer " + oaimock.api_key,
                                          "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                return xph_sut.outputs_of(endpoint, json.load(response))
        except urllib.error.HTTPError as e:
            return e.code

    many = 1 if endpoint == "responses" else 2
    assert ask("k#0", 2) == ["xph:k#0:r0:c%d" % i for i in range(many)]
    # A tool call says nothing where an endpoint can carry one; elsewhere it is refused.
    assert ask("k#1", 2) == ([None] * many if endpoint in ("chat", "responses") else 400)
    if endpoint != "embeddings":  # an embedding is the label it encodes, never scripted text
        assert ask("k#2", 2) == ["said"] * many


def test_outputs_of_names_the_endpoint_when_the_answer_is_not_its_shape():
    with pytest.raises(ValueError, match="not a chat answer"):
        xph_sut.outputs_of("chat", {"data": []})
    with pytest.raises(ValueError, match="no endpoint 'images'"):
        xph_sut.request_for("images", "m", "t", 1)
