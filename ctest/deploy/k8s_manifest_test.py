"""scripts/deploy/k8s/: the shape the fuzz and merge Jobs need, and their
shell scripts run here for real.

- the fuzz Job is Indexed, with completions, parallelism and JOB_COMPLETIONS
  equal (and the merge Job's JOB_COMPLETIONS too), restartPolicy Never, a
  backoffLimit, non-root pods, resources, its ConfigMap and volume claim
  defined beside it; the ConfigMap's SUT is a built-in one;
- every flag the scripts give xph is in `xph fuzz --help` / `xph merge --help`;
- the pods' scripts, with /findings pointed at a scratch folder and the
  image's /usr/local/bin/xph at this build's, run two shards (exit 0 though
  each found something: a finding is no reason to retry a pod), then the
  merge script combines them (exit 0, the findings merged); a shard missing
  fails the merge, and bad input fails a shard (exit 2, not masked).

usage: k8s_manifest_test.py SOURCE_DIR XPH
"""
import glob
import os
import shlex
import shutil
import sys
import tempfile

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from deploylib import check, clean_env, finish, flags_in, help_flags, run  # noqa: E402

source, xph = sys.argv[1:3]
k8s = os.path.join(source, "scripts/deploy/k8s")
IMAGE_XPH = "/usr/local/bin/xph"


def load(name):
    with open(os.path.join(k8s, name)) as f:
        return [d for d in yaml.safe_load_all(f) if d]


def find(docs, kind, name):
    return next((d for d in docs if d.get("kind") == kind and d["metadata"]["name"] == name), None)


def env_value(container, name):
    return next((e.get("value") for e in container.get("env", []) if e["name"] == name), None)


def script_of(container):
    check(container.get("command") == ["/bin/sh", "-c"] and len(container.get("args", [])) == 1,
          "%s runs one /bin/sh -c script" % container["name"])
    return container["args"][0]


def xph_calls(script):
    """Argument vectors of the script's xph commands (continuations joined)."""
    calls = []
    for line in script.replace("\\\n", " ").splitlines():
        words = shlex.split(line, comments=True)
        if words and words[0] == IMAGE_XPH:
            calls.append(words)
    return calls


fuzz_docs, merge_docs = load("xph-fuzz-job.yaml"), load("xph-merge-job.yaml")
config = find(fuzz_docs, "ConfigMap", "xph-fuzz")
pvc = find(fuzz_docs, "PersistentVolumeClaim", "xph-findings")
job = find(fuzz_docs, "Job", "xph-fuzz")
merge_job = find(merge_docs, "Job", "xph-merge")
reader = find(merge_docs, "Pod", "xph-findings-reader")
for what, doc in (("ConfigMap xph-fuzz", config), ("PersistentVolumeClaim xph-findings", pvc),
                  ("Job xph-fuzz", job), ("Job xph-merge", merge_job), ("Pod xph-findings-reader", reader)):
    check(doc is not None, "%s is defined" % what)
if None in (config, pvc, job, merge_job, reader):
    finish()

spec = job["spec"]
check(spec.get("completionMode") == "Indexed", "the fuzz Job is Indexed")
fuzz = spec["template"]["spec"]["containers"][0]
merge = merge_job["spec"]["template"]["spec"]["containers"][0]
n = spec.get("completions")
check(isinstance(n, int) and n > 1 and spec.get("parallelism") == n,
      "completions and parallelism are one number above 1: %s, %s" % (n, spec.get("parallelism")))
check(env_value(fuzz, "JOB_COMPLETIONS") == str(n), "the fuzz pods' JOB_COMPLETIONS is completions (%s)" % n)
check(env_value(merge, "JOB_COMPLETIONS") == str(n), "the merge pod's JOB_COMPLETIONS is completions (%s)" % n)
check(not any(e["name"] == "JOB_COMPLETION_INDEX" for e in fuzz.get("env", [])),
      "JOB_COMPLETION_INDEX is left to the job controller")

for what, j in (("fuzz", job), ("merge", merge_job)):
    pod = j["spec"]["template"]["spec"]
    check(pod.get("restartPolicy") == "Never", "%s: restartPolicy Never (a retry is a new pod)" % what)
    check(isinstance(j["spec"].get("backoffLimit"), int), "%s: a backoffLimit" % what)
    check(isinstance(j["spec"].get("activeDeadlineSeconds"), int), "%s: an activeDeadlineSeconds" % what)
for what, pod in (("fuzz", job["spec"]["template"]["spec"]), ("merge", merge_job["spec"]["template"]["spec"]),
                  ("reader", reader["spec"])):
    sc = pod.get("securityContext", {})
    check(sc.get("runAsNonRoot") is True and sc.get("runAsUser", 0) > 0 and sc.get("fsGroup") == sc.get("runAsGroup"),
          "%s: runs as a non-root user whose group owns the volume: %s" % (what, sc))
    for c in pod["containers"]:
        csc = c.get("securityContext", {})
        check(csc.get("allowPrivilegeEscalation") is False and csc.get("capabilities", {}).get("drop") == ["ALL"],
              "%s/%s: no privilege escalation, no capabilities" % (what, c["name"]))
        res = c.get("resources", {})
        check(all(k in res.get(r, {}) for r in ("requests", "limits") for k in ("cpu", "memory")),
              "%s/%s: cpu and memory requests and limits" % (what, c["name"]))
        if csc.get("readOnlyRootFilesystem"):
            if c["name"] == "fuzz":
                check(any(m["mountPath"] == "/tmp" for m in c.get("volumeMounts", [])),
                      "%s/%s: a read-only root, and a volume at /tmp for the case folders" % (what, c["name"]))
    claims = [v["persistentVolumeClaim"]["claimName"] for v in pod["volumes"] if "persistentVolumeClaim" in v]
    check(claims == ["xph-findings"], "%s: mounts the findings claim defined beside the Job" % what)
    mounts = {m["name"]: m["mountPath"] for c in pod["containers"] for m in c.get("volumeMounts", [])}
    check(all(mounts.get(v["name"]) for v in pod["volumes"]), "%s: every volume is mounted" % what)
for c in (fuzz, merge):
    check([e["configMapRef"]["name"] for e in c.get("envFrom", [])] == ["xph-fuzz"],
          "%s: takes SUT, SEED and CASES from the ConfigMap" % c["name"])
check(all(k in config["data"] for k in ("SUT", "SEED", "CASES")), "the ConfigMap has SUT, SEED and CASES")
check(config["data"]["SEED"].isdigit() and config["data"]["CASES"].isdigit(),
      "SEED and CASES are numbers: %s, %s" % (config["data"]["SEED"], config["data"]["CASES"]))
code, out, err = run([xph, "suts"], 120, "xph suts")
check(code == 0 and config["data"]["SUT"] in out.split(),
      "the ConfigMap's SUT, %s, is one `xph suts` lists" % config["data"]["SUT"])
images = {c["image"] for c in (fuzz, merge, reader["spec"]["containers"][0])}
check(len(images) == 1, "every pod runs the one image: %s" % sorted(images))

# The scripts' xph flags are xph's.
fuzz_script, merge_script = script_of(fuzz), script_of(merge)
# Kubernetes expands $(NAME) in args before the shell sees them: a script
# that needs the shell's $( would be rewritten under it.
check("$(" not in fuzz_script + merge_script, "the pod scripts leave Kubernetes no $( to expand")
for script, command in ((fuzz_script, "fuzz"), (merge_script, "merge")):
    code, known = help_flags(xph, command)
    calls = [c for c in xph_calls(script) if c[1:2] == [command]]
    check(code == 0 and len(calls) == 1, "the %s script runs `xph %s` once" % (command, command))
    for call in calls:
        unknown = [f for f in flags_in(call[2:]) if f not in known]
        check(not unknown, "xph %s: every flag the script gives is in --help%s"
              % (command, "" if not unknown else "; unknown: %s" % unknown))
check(any("--shard" in c and c[c.index("--shard") + 1] == "auto" for c in xph_calls(fuzz_script)),
      "the fuzz script shards with --shard auto")

# The scripts themselves, here: two shards, then the merge.
work = tempfile.mkdtemp(prefix="xph-deploy-k8s-")
try:
    findings = work + "/findings"
    os.mkdir(findings)

    def pod(script, **env):
        text = script.replace(IMAGE_XPH, xph).replace("/findings", findings)
        values = {"SUT": "ref-naive", "SEED": "1", "CASES": "8"}
        values.update(env)
        return run(["/bin/sh", "-c", text], 600, "the pod script", env=clean_env(**values))

    for i in range(2):
        code, out, err = pod(fuzz_script, JOB_COMPLETION_INDEX=str(i), JOB_COMPLETIONS="2")
        shard = "%s/ref-naive/seed-1/shard-%d" % (findings, i)
        found = glob.glob(shard + "/TRANSPORT_BROKEN-*.json")
        check(code == 0 and found and os.path.exists(shard + "/report.json") and os.path.exists(shard + "/report.xml"),
              "fuzz pod %d of 2 exits 0 with its findings and reports in shard-%d: %s %s%s"
              % (i, i, code, [os.path.basename(f) for f in found], "" if code == 0 else " " + err[-400:]))
    code, out, err = pod(merge_script, JOB_COMPLETIONS="2")
    merged = findings + "/ref-naive/seed-1/merged"
    check(code == 0 and "merged 2 folder(s)" in out and glob.glob(merged + "/TRANSPORT_BROKEN-*.json"),
          "the merge pod exits 0 having merged both shards' findings: %s %r" % (code, (out + err)[-300:]))
    code, out, err = pod(merge_script, JOB_COMPLETIONS="3")
    check(code == 2 and "shard-2" in err, "a shard that wrote nothing fails the merge (exit 2, named): %s %r"
          % (code, err.strip()))
    code, out, err = pod(fuzz_script, JOB_COMPLETION_INDEX="0", JOB_COMPLETIONS="2", CASES="0")
    check(code == 2, "bad input fails the fuzz pod (exit 2, not taken for a finding): %s %r" % (code, err.strip()))
finally:
    shutil.rmtree(work, ignore_errors=True)

finish()
