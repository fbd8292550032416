""".github/workflows/xph-fuzz.yml: its shape, and its steps' shell run here.

GitHub is not here, so the workflow's own scripts are: each `run:` step runs
under bash with the env its `env:` block gives it (expressions resolved from
a run's contexts), in a scratch workspace laid out as the actions would lay
it out, against this build's xph.

- shape: workflow_dispatch with sut, seed, cases and shards, and a schedule;
  plan -> build -> fuzz (a matrix over the plan's shard indices) -> merge,
  which runs even when a shard failed; no expression pasted into a script;
  every `needs.plan.outputs.X` used is one plan declares;
- every flag a step gives `xph fuzz` or `xph merge` is in their --help;
- the plan step turns inputs into the matrix ([0..N-1]), takes the run
  number as the seed on a scheduled run, and refuses bad input;
- two fuzz shards exit 0 though they found something, upload the folder the
  upload step names, and the merge step, over the folders download-artifact
  makes, merges them, writes the step summary, sets exit=1 so that the last
  step fails the run; a shard that left nothing fails the merge.

usage: github_workflow_test.py SOURCE_DIR XPH
"""
import glob
import json
import os
import re
import shlex
import shutil
import sys
import tempfile

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from deploylib import check, clean_env, finish, flags_in, help_flags, run  # noqa: E402

source, xph = sys.argv[1:3]
with open(os.path.join(source, ".github/workflows/xph-fuzz.yml")) as f:
    wf = yaml.safe_load(f)
# YAML 1.1 (PyYAML) reads the key `on` as true; GitHub reads it as "on".
triggers = wf.get("on", wf.get(True)) or {}
jobs = wf.get("jobs", {})

inputs = (triggers.get("workflow_dispatch") or {}).get("inputs", {})
check(sorted(inputs) == ["cases", "seed", "shards", "sut"], "workflow_dispatch inputs: %s" % sorted(inputs))
crons = [s.get("cron", "") for s in triggers.get("schedule", [])]
check(crons and all(len(c.split()) == 5 for c in crons), "a schedule with a cron line: %s" % crons)
check(sorted(jobs) == ["build", "fuzz", "merge", "plan"], "jobs plan, build, fuzz, merge: %s" % sorted(jobs))
if sorted(jobs) != ["build", "fuzz", "merge", "plan"]:
    finish()


def needs(job):
    n = jobs[job].get("needs", [])
    return [n] if isinstance(n, str) else n


check("plan" in needs("build"), "build needs plan")
check({"plan", "build"} <= set(needs("fuzz")), "fuzz needs plan and build")
check({"plan", "fuzz"} <= set(needs("merge")), "merge needs plan and fuzz")
matrix = jobs["fuzz"].get("strategy", {}).get("matrix", {})
check(re.fullmatch(r"\$\{\{\s*fromJSON\(needs\.plan\.outputs\.indices\)\s*\}\}", str(matrix.get("shard", ""))),
      "the fuzz matrix is over the plan's shard indices: %s" % matrix)
check(jobs["fuzz"]["strategy"].get("fail-fast") is False, "one shard failing does not cancel the others")
check("!cancelled()" in str(jobs["merge"].get("if", "")), "merge runs when a shard failed: if %s" % jobs["merge"].get("if"))
plan_outputs = set(jobs["plan"].get("outputs", {}))
text = open(os.path.join(source, ".github/workflows/xph-fuzz.yml")).read()
used = set(re.findall(r"needs\.plan\.outputs\.([A-Za-z_]+)", text))
check(used and used <= plan_outputs, "every needs.plan.outputs.X used is declared: %s" % sorted(used - plan_outputs))

steps = {job: jobs[job].get("steps", []) for job in jobs}
for job, job_steps in steps.items():
    for s in job_steps:
        if "run" in s:
            check("${{" not in s["run"], "%s / %s: no expression pasted into the script" % (job, s.get("name", "?")))


def step(job, needle):
    return next(s for s in steps[job] if needle in s.get("run", ""))


def xph_calls(script):
    calls = []
    for line in script.replace("\\\n", " ").splitlines():
        try:
            words = shlex.split(line, comments=True)
        except ValueError:
            continue
        for i, w in enumerate(words[:-1]):
            if (w == "$XPH" or w.endswith("/xph")) and words[i + 1] in ("fuzz", "merge"):
                calls.append(words[i + 1:])
    return calls


fuzz_step, merge_step, plan_step = step("fuzz", " fuzz "), step("merge", " merge "), step("plan", "GITHUB_OUTPUT")
known = {c: help_flags(xph, c)[1] for c in ("fuzz", "merge")}
calls = [c for s in (fuzz_step, merge_step) for c in xph_calls(s["run"])]
check(sorted(c[0] for c in calls) == ["fuzz", "merge"], "the steps run xph fuzz and xph merge: %s" % calls)
for call in calls:
    unknown = [f for f in flags_in(call[1:]) if f not in known[call[0]]]
    check(not unknown, "xph %s: every flag is in its --help%s" % (call[0], "" if not unknown else ": %s" % unknown))

# --- The steps' shell, here.

EXPR = re.compile(r"\$\{\{\s*([A-Za-z_][A-Za-z0-9_.-]*)\s*\}\}")


def resolve(value, contexts):
    """A step's env value with `${{ a.b.c }}` looked up in contexts; an
    expression that names nothing there is an error (a typo on GitHub
    would be an empty string)."""
    def one(m):
        node = contexts
        for part in m.group(1).split("."):
            if not isinstance(node, dict) or part not in node:
                raise KeyError(m.group(1))
            node = node[part]
        return str(node)
    return EXPR.sub(one, str(value))


def run_step(s, contexts, cwd, extra=None):
    """(exit code, stdout, stderr, GITHUB_OUTPUT as a dict, step summary)."""
    output, summary = os.path.join(cwd, ".output"), os.path.join(cwd, ".summary")
    open(output, "w").close()
    open(summary, "w").close()
    env = clean_env(GITHUB_OUTPUT=output, GITHUB_STEP_SUMMARY=summary)
    try:
        env.update({k: resolve(v, contexts) for k, v in (s.get("env") or {}).items()})
    except KeyError as e:
        check(False, "%s: its env names %s, which is not in the run's contexts" % (s.get("name"), e))
    env.update(extra or {})
    # As GitHub runs `shell: bash`.
    code, out, err = run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", s["run"]], 900,
                         s.get("name", "a step"), env=env, cwd=cwd)
    values = dict(line.split("=", 1) for line in open(output).read().splitlines() if "=" in line)
    return code, out, err, values, open(summary).read()


check(wf.get("defaults", {}).get("run", {}).get("shell") == "bash", "steps run under bash")
work = tempfile.mkdtemp(prefix="xph-deploy-gha-")
try:
    def plan(**given):
        inputs_ctx = {"sut": "", "seed": "", "cases": "", "shards": ""}
        inputs_ctx.update(given)
        return run_step(plan_step, {"inputs": inputs_ctx, "github": {"run_number": 41}}, work)

    code, out, err, values, _ = plan()
    check(code == 0 and values.get("seed") == "41" and values.get("sut") == "garaklike"
          and json.loads(values.get("indices", "null")) == list(range(int(values.get("shards", 0)))),
          "a scheduled run (no inputs): the run number as seed, the defaults, indices 0..shards-1: %s" % values)
    code, out, err, values, _ = plan(sut="ref-naive", seed="7", cases="24", shards="3")
    check(code == 0 and json.loads(values.get("indices", "null")) == [0, 1, 2] and values.get("seed") == "7",
          "shards 3 gives the matrix [0, 1, 2]: %s" % values)
    for bad in ({"shards": "0"}, {"shards": "65"}, {"shards": "4; touch x"}, {"cases": "many"},
                {"sut": "ref; touch x"}):
        code, out, err, values, _ = plan(**bad)
        check(code != 0 and "::error::" in out and not values, "refused: %s (exit %s)" % (bad, code))
    check(not os.path.exists(os.path.join(work, "x")), "no input ran as a command")

    contexts = {"needs": {"plan": {"outputs": {"sut": "ref-naive", "seed": "1", "cases": "8", "shards": "2"}}}}
    upload = next(s for s in steps["fuzz"] if str(s.get("uses", "")).startswith("actions/upload-artifact"))
    shards_dir = os.path.join(work, "shards")
    for i in range(2):
        ws = os.path.join(work, "job-%d" % i)
        os.mkdir(ws)
        ctx = dict(contexts, matrix={"shard": i})
        code, out, err, _, _ = run_step(fuzz_step, ctx, ws, {"XPH": xph})
        path = os.path.join(ws, resolve(upload["with"]["path"], ctx))
        found = glob.glob(path + "/TRANSPORT_BROKEN-*.json")
        check(code == 0 and found and os.path.exists(path + "/report.xml"),
              "fuzz shard %d of 2 exits 0 with findings and reports in the folder it uploads: %s %s"
              % (i, code, err[-300:]))
        # download-artifact with a pattern puts each artifact in path/<name>/.
        shutil.copytree(path, os.path.join(shards_dir, resolve(upload["with"]["name"], ctx)))
    merge_ws = os.path.join(work, "merge")
    shutil.copytree(shards_dir, os.path.join(merge_ws, "shards"))
    code, out, err, values, summary = run_step(merge_step, contexts, merge_ws, {"XPH": xph})
    merged = os.path.join(merge_ws, "merged")
    check(code == 0 and values.get("exit") == "1" and glob.glob(merged + "/TRANSPORT_BROKEN-*.json")
          and os.path.exists(merged + "/report.xml"),
          "the merge step merges both shards, exit=1 for findings: %s %s %s" % (code, values, err[-300:]))
    check("merged 2 folder(s)" in summary and "distinct finding(s)" in summary,
          "the step summary shows what xph merge said")
    last = steps["merge"][-1]
    check("steps.merge.outputs.exit == '1'" in str(last.get("if", "")) and
          run_step(last, contexts, merge_ws)[0] != 0, "then the last step fails the run, as exit=1 asks")
    code, out, err, values, summary = run_step(merge_step, {"needs": {"plan": {"outputs": dict(
        contexts["needs"]["plan"]["outputs"], shards="3")}}}, merge_ws, {"XPH": xph})
    check(code != 0 and "shard(s) 2 left no results" in out, "a shard that left nothing fails the merge: %s %r"
          % (code, out[-200:]))
finally:
    shutil.rmtree(work, ignore_errors=True)

finish()
