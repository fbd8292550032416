"""The run spec (contract section 4) as a small typed, picklable view."""
import dataclasses
import json
import multiprocessing
import os

START_METHODS = ("fork", "spawn", "forkserver")
# Contract section 3's defaults: a spec written by an older xph may lack a field.
DEFAULT_RETRY_ON = (408, 409, 429, 500, 502, 503, 504, "connection", "timeout")


class SpecError(ValueError):
    """The spec cannot be read or breaks the contract; the message names the field."""


@dataclasses.dataclass(frozen=True)
class Prompt:
    probe: str
    id: str
    text: str


@dataclasses.dataclass(frozen=True)
class Probe:
    name: str
    prompts: tuple


@dataclasses.dataclass(frozen=True)
class Retry:
    max_tries: object  # int, or None: retry without limit
    retry_on: frozenset  # statuses (int) and the words connection, timeout, decode
    honor_retry_after: bool
    max_delay_s: float

    def retryable(self, error):
        """Whether an error envelope is one the policy retries."""
        return error.get("status") in self.retry_on or error.get("kind") in self.retry_on

    def gives_up(self, error, tries):
        """After `tries` requests (first included) ending in `error`: stop?"""
        return not self.retryable(error) or (self.max_tries is not None and tries >= self.max_tries)

    def delay_s(self, tries, retry_after_s=None):
        """Wait before request tries+1: exponential up to max_delay_s, never
        shorter than the server's Retry-After when the policy honours it."""
        delay = min(self.max_delay_s, 0.005 * 2 ** (tries - 1))
        if self.honor_retry_after and retry_after_s is not None:
            delay = max(delay, retry_after_s)
        return delay


@dataclasses.dataclass(frozen=True)
class Spec:
    base_url: str
    api_key: str
    model: str
    endpoint: str  # "chat", "completions", "embeddings" or "responses"
    generations: int
    multi_generation: str  # "n" or "loop"
    start_method: str  # "fork", "spawn" or "forkserver"
    parallel_attempts: int
    retry: Retry
    request_timeout_s: float
    probes: tuple
    raw: dict = dataclasses.field(repr=False, compare=False)

    @property
    def prompts(self):
        """Every prompt of every probe, in the spec's order."""
        return tuple(p for probe in self.probes for p in probe.prompts)

    @property
    def calls(self):
        """(generation calls per attempt, n per call): `n` mode asks once for
        n=generations; `loop` mode asks generations times for n=1."""
        return (self.generations, 1) if self.multi_generation == "loop" else (1, self.generations)

    def pooled(self, probe):
        """Whether garak would run this probe's attempts in a pool."""
        return self.parallel_attempts > 1 and len(probe.prompts) > 1

    def pool(self, processes=None, initializer=None, initargs=(), maxtasksperchild=None):
        """A multiprocessing.Pool under the spec's start method, whatever
        the process's default is. Under spawn and forkserver a worker
        inherits nothing made at run time: what it needs comes with each
        task or through `initializer(*initargs)`, which are pickled too."""
        return multiprocessing.get_context(self.start_method).Pool(
            processes, initializer=initializer, initargs=initargs, maxtasksperchild=maxtasksperchild)


def _field(data, name, kind, where="spec", default=dataclasses.MISSING):
    if name not in data:
        if default is dataclasses.MISSING:
            raise SpecError("%s: missing field %r" % (where, name))
        return default
    value = data[name]
    kinds = kind if isinstance(kind, tuple) else (kind,)
    # bool is an int to Python, never to the contract.
    if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
        raise SpecError("%s: field %r is %r, not %s" % (
            where, name, value, " or ".join("null" if k is type(None) else k.__name__ for k in kinds)))
    return value


def parse_spec(data):
    """A Spec from the decoded JSON of a run spec."""
    if not isinstance(data, dict):
        raise SpecError("spec: not a JSON object")
    retry = _field(data, "retry", dict, default={})
    max_tries = _field(retry, "max_tries", (int, type(None)), "spec.retry", 3)
    retry_on = _field(retry, "retry_on", list, "spec.retry", list(DEFAULT_RETRY_ON))
    start_method = _field(data, "start_method", str, default="fork")
    if start_method not in START_METHODS:
        raise SpecError("spec: field 'start_method' is %r, not one of %s" % (start_method, ", ".join(START_METHODS)))
    probes = []
    for i, p in enumerate(_field(data, "probes", list)):
        where = "spec.probes[%d]" % i
        if not isinstance(p, dict):
            raise SpecError("%s: not an object" % where)
        name = _field(p, "name", str, where)
        prompts = []
        for j, q in enumerate(_field(p, "prompts", list, where)):
            qwhere = "%s.prompts[%d]" % (where, j)
            if not isinstance(q, dict):
                raise SpecError("%s: not an object" % qwhere)
            prompts.append(Prompt(name, _field(q, "id", str, qwhere), _field(q, "text", str, qwhere)))
        probes.append(Probe(name, tuple(prompts)))
    return Spec(
        base_url=_field(data, "base_url", str),
        api_key=_field(data, "api_key", str),
        model=_field(data, "model", str),
        endpoint=_field(data, "endpoint", str, default="chat"),
        generations=_field(data, "generations", int, default=1),
        multi_generation=_field(data, "multi_generation", str, default="n"),
        start_method=start_method,
        parallel_attempts=_field(data, "parallel_attempts", int, default=1),
        retry=Retry(max_tries=max_tries, retry_on=frozenset(retry_on),
                    honor_retry_after=_field(retry, "honor_retry_after", bool, "spec.retry", True),
                    max_delay_s=float(_field(retry, "max_delay_s", (int, float), "spec.retry", 0.05))),
        request_timeout_s=float(_field(data, "request_timeout_s", (int, float), default=30)),
        probes=tuple(probes),
        raw=data)


def load_spec(path=None):
    """The spec at `path`, default $XPH_SPEC."""
    path = path or os.environ.get("XPH_SPEC")
    if not path:
        raise SpecError("XPH_SPEC is not set (xph contract section 4)")
    try:
        with open(path) as f:
            data = json.load(f)
    except (OSError, ValueError) as e:
        raise SpecError("%s: %s" % (path, e)) from None
    return parse_spec(data)
