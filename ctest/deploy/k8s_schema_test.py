"""scripts/deploy/k8s/*.yaml against Kubernetes' own schema, as the official
Python client (Debian's python3-kubernetes, generated from Kubernetes'
OpenAPI) carries it, since kubectl's client dry run has no cluster here to
fetch the schema from (k8s_dry_run_test.py).

Every field of every object must be one the schema has (a typo such as
`completionmode` or `backofLimit` would be dropped or refused by a real API
server), of the schema's type (`value: 8` for an env var is refused), and
every required field present (the client's models refuse None for them).
The schema is that of python3-kubernetes 22 (Kubernetes 1.22): the
manifests use nothing newer. Stricter than a server in one way: a quantity
(cpu: "1") must be a string, as the client types it.

Controls: copies with an unknown field, a wrongly typed value and a missing
required field must each fail, so a pass means the walk did check.

usage: k8s_schema_test.py SOURCE_DIR
Exit 77 (skipped) when python3-kubernetes is not installed.
"""
import copy
import os
import re
import sys

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from deploylib import check, finish  # noqa: E402

try:
    import kubernetes.client as k8s
    from kubernetes.client import ApiClient
except ImportError:
    print("SKIP: python3-kubernetes is not installed (apt-get install python3-kubernetes)")
    sys.exit(77)

source = sys.argv[1]
files = [os.path.join(source, "scripts/deploy/k8s", f) for f in ("xph-fuzz-job.yaml", "xph-merge-job.yaml")]
KINDS = {("v1", "ConfigMap"): "V1ConfigMap", ("v1", "PersistentVolumeClaim"): "V1PersistentVolumeClaim",
         ("v1", "Pod"): "V1Pod", ("batch/v1", "Job"): "V1Job"}
SCALARS = {"str": str, "int": int, "bool": bool, "float": (int, float)}


def problems(value, type_name, path):
    """What in value does not fit the schema's type_name."""
    if value is None:
        return []
    m = re.fullmatch(r"list\[(.+)\]", type_name)
    if m:
        if not isinstance(value, list):
            return ["%s: expected a list, got %r" % (path, value)]
        return [p for i, v in enumerate(value) for p in problems(v, m.group(1), "%s[%d]" % (path, i))]
    m = re.fullmatch(r"dict\(str, (.+)\)", type_name)
    if m:
        if not isinstance(value, dict):
            return ["%s: expected a map, got %r" % (path, value)]
        return [p for k, v in value.items() for p in problems(v, m.group(1), "%s.%s" % (path, k))]
    if type_name == "object":
        return []
    if type_name in SCALARS:
        ok = isinstance(value, SCALARS[type_name]) and not (type_name != "bool" and isinstance(value, bool))
        return [] if ok else ["%s: expected %s, got %r" % (path, type_name, value)]
    if type_name in ("datetime", "date"):
        return [] if isinstance(value, str) else ["%s: expected a time, got %r" % (path, value)]
    model = getattr(k8s, type_name)
    if not isinstance(value, dict):
        return ["%s: expected a %s object, got %r" % (path, type_name, value)]
    by_json = {j: attr for attr, j in model.attribute_map.items()}
    out = []
    for key, v in value.items():
        if key not in by_json:
            out.append("%s.%s: no such field in %s" % (path, key, type_name))
        else:
            out += problems(v, model.openapi_types[by_json[key]], "%s.%s" % (path, key))
    return out


def validate(doc):
    """The problems of one document, [] when it fits."""
    name = KINDS.get((doc.get("apiVersion"), doc.get("kind")))
    if not name:
        return ["%s %s: not a kind this test knows" % (doc.get("apiVersion"), doc.get("kind"))]
    found = problems(doc, name, doc["kind"])
    try:  # the models' own checks: required fields
        ApiClient()._ApiClient__deserialize(copy.deepcopy(doc), name)
    except ValueError as e:
        found.append("%s: %s" % (doc["kind"], e))
    return found


docs = [(os.path.basename(p), d) for p in files for d in yaml.safe_load_all(open(p)) if d]
check(len(docs) == 5, "five objects in the two files: %d" % len(docs))
for file, doc in docs:
    found = validate(doc)
    check(not found, "%s: %s %s fits the schema%s" % (file, doc["kind"], doc["metadata"]["name"],
                                                      "" if not found else ": " + "; ".join(found)))

job = next(d for _, d in docs if d["kind"] == "Job" and d["metadata"]["name"] == "xph-fuzz")
typo = copy.deepcopy(job)
typo["spec"]["completionmode"] = typo["spec"].pop("completionMode")
wrong_type = copy.deepcopy(job)
wrong_type["spec"]["template"]["spec"]["containers"][0]["env"][0]["value"] = 8
no_containers = copy.deepcopy(job)
del no_containers["spec"]["template"]["spec"]["containers"]
for what, bad in (("an unknown field (completionmode)", typo), ("an env value that is a number", wrong_type),
                  ("a pod without containers", no_containers)):
    check(validate(bad), "control: %s fails: %s" % (what, validate(bad)[:1]))

finish()
