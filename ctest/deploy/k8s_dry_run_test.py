"""`kubectl apply --dry-run=client` of scripts/deploy/k8s/*.yaml.

There is no cluster here, and a client-side dry run still asks a server:
for discovery (which kinds exist, at which resource paths; with no answer
kubectl cannot map a Job to jobs.batch) and, when validating, for the
cluster's OpenAPI schema. So kubectl gets a throwaway kubeconfig naming a
stub API server on loopback that answers discovery for exactly the kinds
the manifests use (ConfigMap, PersistentVolumeClaim and Pod in v1, Job in
batch/v1), and 404 for any object (none exists yet, so `apply` creates).
It serves no OpenAPI schema (this project cannot ship Kubernetes' own),
hence `--validate=false`: the manifests' fields are checked by
k8s_manifest_test.py, not by a schema here.

kubectl must parse every document, map every kind and print each object as
created; kubectl's own reading of each object (-o json) must equal the
YAML's (no YAML 1.1 surprises, nothing dropped). A control: the same file
with a Job of an API version that does not exist must fail, so a pass here
means kubectl did check against the stub's discovery.

usage: k8s_dry_run_test.py SOURCE_DIR
Exit 77 (skipped) when there is no kubectl.
"""
import json
import os
import shutil
import sys
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from deploylib import check, clean_env, finish, run  # noqa: E402

source = sys.argv[1]
kubectl = shutil.which("kubectl")
if not kubectl:
    print("SKIP: no kubectl on PATH")
    sys.exit(77)
files = [os.path.join(source, "scripts/deploy/k8s", f) for f in ("xph-fuzz-job.yaml", "xph-merge-job.yaml")]

VERBS = ["create", "delete", "get", "list", "patch", "update", "watch"]


def resources(group_version, kinds):
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version,
            "resources": [{"name": plural, "singularName": plural[:-1], "namespaced": True, "kind": kind,
                           "verbs": VERBS} for plural, kind in kinds]}


DISCOVERY = {
    "/api": {"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": []},
    "/apis": {"kind": "APIGroupList", "apiVersion": "v1",
              "groups": [{"name": "batch", "versions": [{"groupVersion": "batch/v1", "version": "v1"}],
                          "preferredVersion": {"groupVersion": "batch/v1", "version": "v1"}}]},
    "/api/v1": resources("v1", [("configmaps", "ConfigMap"), ("persistentvolumeclaims", "PersistentVolumeClaim"),
                                ("pods", "Pod")]),
    "/apis/batch/v1": resources("batch/v1", [("jobs", "Job")]),
}
asked = []


class Stub(BaseHTTPRequestHandler):
    def do_GET(self):
        path = self.path.split("?")[0]
        asked.append(path)
        if path in DISCOVERY:
            code, body = 200, DISCOVERY[path]
        else:
            code, body = 404, {"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "NotFound",
                               "code": 404, "message": "%s not found" % path}
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):  # a dry run must never write
        asked.append("POST " + self.path)
        self.send_response(405)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_PUT = do_PATCH = do_DELETE = do_POST

    def log_message(self, *args):
        pass


server = ThreadingHTTPServer(("127.0.0.1", 0), Stub)
threading.Thread(target=server.serve_forever, daemon=True).start()
home = tempfile.mkdtemp(prefix="xph-deploy-kubectl-")
try:
    kubeconfig = os.path.join(home, "kubeconfig")
    with open(kubeconfig, "w") as f:
        yaml.safe_dump({"apiVersion": "v1", "kind": "Config", "current-context": "stub",
                        "clusters": [{"name": "stub", "cluster": {"server": "http://127.0.0.1:%d" % server.server_port}}],
                        "contexts": [{"name": "stub", "context": {"cluster": "stub", "user": "stub",
                                                                  "namespace": "default"}}],
                        "users": [{"name": "stub", "user": {"token": "throwaway"}}]}, f)
    # kubectl caches discovery under HOME/.kube: a fresh HOME, so nothing
    # of this machine's is read or left behind.
    env = clean_env(KUBECONFIG=kubeconfig, HOME=home)
    env.pop("KUBERNETES_SERVICE_HOST", None)

    def kubectl_apply(paths, *extra):
        argv = [kubectl, "apply", "--dry-run=client", "--validate=false"] + list(extra)
        for p in paths:
            argv += ["-f", p]
        return run(argv, 120, "kubectl apply --dry-run=client", env=env)

    docs = [d for p in files for d in yaml.safe_load_all(open(p)) if d]
    group = lambda d: "" if "/" not in d["apiVersion"] else "." + d["apiVersion"].split("/")[0]  # noqa: E731
    want = sorted("%s%s/%s created (dry run)" % (d["kind"].lower(), group(d), d["metadata"]["name"]) for d in docs)

    code, out, err = kubectl_apply(files)
    check(code == 0, "kubectl apply --dry-run=client exits 0%s" % ("" if code == 0 else ": " + err[-600:]))
    check(sorted(out.splitlines()) == want, "it creates every object of both files: %s" % out.splitlines())
    check("/apis/batch/v1" in asked and "/api/v1" in asked, "kubectl mapped the kinds through discovery")
    check(not [a for a in asked if a.startswith("POST")], "nothing was sent to be stored")

    code, out, err = kubectl_apply(files, "-o", "json")
    printed = json.loads(out) if code == 0 and out.strip() else {}
    items = printed.get("items", [printed]) if printed else []
    check(len(items) == len(docs), "kubectl -o json prints %d objects: %d" % (len(docs), len(items)))
    for doc, item in zip(docs, items):
        name = "%s/%s" % (doc["kind"], doc["metadata"]["name"])
        for key in ("spec", "data"):
            if key in doc:
                check(item.get(key) == doc[key], "%s: kubectl reads its %s as the YAML says" % (name, key))

    bad = os.path.join(home, "bad.yaml")
    with open(files[0]) as f:
        open(bad, "w").write(f.read().replace("apiVersion: batch/v1", "apiVersion: batch/v9"))
    code, out, err = kubectl_apply([bad])
    check(code != 0 and "batch/v9" in err, "control: a Job of batch/v9 fails the dry run: %s %r" % (code, err.strip()[-200:]))
finally:
    server.shutdown()
    shutil.rmtree(home, ignore_errors=True)

finish()
