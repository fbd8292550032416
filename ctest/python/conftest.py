"""Tests of xph_sut. Run (from the repository root):

    PYTHONPATH=harness/python XPH_BIN=... XPH_OAIMOCK=... \\
        /usr/bin/python3 -m pytest -p xph_sut.pytest_plugin -p pytester ctest/python
"""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path[:0] = [HERE, os.path.join(REPO, "harness", "python")]

SUTS = os.path.join(HERE, "suts")
PYTHON = "/usr/bin/python3"


def write_spec(folder, probes=(("p", 1),), **fields):
    """A run spec as xph writes one; probes: (name, attempts) pairs."""
    spec = {"xph": 1, "base_url": "http://127.0.0.1:9/v1", "api_key": "none", "model": "xph-mock",
            "endpoint": "chat", "generations": 1, "multi_generation": "n", "parallel_attempts": 1,
            "retry": {"max_tries": 3, "retry_on": [408, 409, 429, 500, 502, 503, 504, "connection", "timeout"],
                      "honor_retry_after": True, "max_delay_s": 0.02},
            "request_timeout_s": 1.0,
            "probes": [{"name": name, "prompts": [{"id": "%s#%d" % (name, i), "text": "say [xph:%s#%d]" % (name, i)}
                                                  for i in range(n)]} for name, n in probes]}
    spec.update(fields)
    path = os.path.join(folder, "spec.json")
    with open(path, "w") as f:
        json.dump(spec, f)
    return path
