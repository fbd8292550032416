"""Sharding is right: 4 shards of `xph fuzz --seed 1 --cases 24`, run as
parallel processes and combined by `xph merge`, find what the unsharded run
finds.

- the shards split the 24 cases: 6 each, each case in the shard i % 4, and
  the same number of failures per verdict as the unsharded run;
- the merged findings are the unsharded run's: the same (SUT, signature)
  pairs and the same files (the file name is a hash of the shrunk case, and
  the shrink ends at the same case from any start), equal but for the words
  that say which case it was found in;
- the merged report.json holds every case the shards reported, once;
- the merged report.xml is well-formed JUnit whose counts are the shards'.

A finding that the fuzzer itself marks as not replaying (`replays: false`:
it depended on timing, e.g. on this shared machine's load) says nothing about
sharding; it is listed and left out of the comparison.

usage: shard_merge_test.py XPH
"""
import collections
import glob
import json
import os
import re
import shutil
import sys
import tempfile
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from deploylib import check, clean_env, finish, run, start, stop, wait  # noqa: E402

xph = sys.argv[1]
SEED, CASES, SHARDS = 1, 24, 4
BOUND = 900  # seconds for any one run; a normal one takes well under a minute


def fuzz_args(out, extra):
    return [xph, "fuzz", "--sut", "ref-naive", "--seed", str(SEED), "--cases", str(CASES), "--out", out,
            "--json", out + "/report.json", "--junit", out + "/report.xml", "-q"] + extra


def summary(stdout):
    """(cases run, {verdict: count}) from the closing line."""
    m = re.search(r"^(\d+) case\(s\) in .*seed %d: (.*)$" % SEED, stdout, re.M)
    if not m:
        return None, {}
    words = m.group(2).split()
    return int(m.group(1)), {words[i]: int(words[i + 1]) for i in range(0, len(words) - 1, 2)}


def findings(folder):
    """{file name: scenario} of the finding files in a folder."""
    out = {}
    for path in sorted(glob.glob(folder + "/*.json")):
        with open(path) as f:
            j = json.load(f)
        if "finding" in j:
            out[os.path.basename(path)] = j
    return out


def by_signature(found):
    """{(sut, signature): [file name]} of the findings that replay."""
    out = collections.defaultdict(list)
    for name, j in found.items():
        if j["finding"].get("replays", True):
            out[(j["finding"]["sut"], j["finding"]["signature"])].append(name)
    return out


def timing_only(found, where):
    for name, j in found.items():
        if not j["finding"].get("replays", True):
            print("note %s: %s did not replay (it depended on timing); not compared" % (where, name))


def comparable(j):
    """A finding without what says where it was found (the case and the
    original case it was shrunk from, and how many runs that took)."""
    j = json.loads(json.dumps(j))
    j.pop("description", None)
    j["finding"].pop("case", None)
    return j


def report_cases(folder):
    try:
        with open(folder + "/report.json") as f:
            return json.load(f)["cases"]
    except FileNotFoundError:
        return []


def junit(path):
    root = ET.parse(path).getroot()
    cases = root.findall(".//testcase")
    return root, cases, [c for c in cases if c.find("failure") is not None]


work = tempfile.mkdtemp(prefix="xph-deploy-shards-")
env = clean_env()
try:
    # The unsharded run, then the shards side by side: each shard its own
    # process, folder and reports, as each pod or CI job has.
    whole = work + "/whole"
    code, whole_out, whole_err = run(fuzz_args(whole, []), BOUND, "the unsharded run", env=env)
    check(code == 1, "the unsharded run exits 1 (ref-naive fails): %s %s" % (code, whole_err[-300:]))
    whole_n, whole_verdicts = summary(whole_out)
    check(whole_n == CASES, "the unsharded run ran %d cases: %s" % (CASES, whole_n))

    procs, folders = [], []
    for i in range(SHARDS):
        folders.append("%s/shard-%d" % (work, i))
        procs.append(start(fuzz_args(folders[-1], ["--shard", "%d/%d" % (i, SHARDS), "-j", "1"]), env=env))
    outs = []
    try:
        for i, p in enumerate(procs):
            outs.append(wait(p, BOUND, "shard %d/%d" % (i, SHARDS)))
    finally:
        for p in procs:
            stop(p)

    shard_verdicts = collections.Counter()
    shard_cases = []
    for i, (code, out, err) in enumerate(outs):
        check(code in (0, 1), "shard %d/%d exits 0 or 1: %s %s" % (i, SHARDS, code, err[-300:]))
        check("shard %d/%d" % (i, SHARDS) in out.splitlines()[0] if out else False,
              "shard %d/%d says which shard it is in its first line" % (i, SHARDS))
        n, verdicts = summary(out)
        check(n == CASES // SHARDS, "shard %d/%d ran %d cases: %s" % (i, SHARDS, CASES // SHARDS, n))
        shard_verdicts.update(verdicts)
        cases = report_cases(folders[i])
        shard_cases += cases
        indices = [int(c["id"].rsplit("case", 1)[1]) for c in cases]
        check(all(k % SHARDS == i for k in indices),
              "shard %d/%d reported only its own cases (i %% %d == %d): %s" % (i, SHARDS, SHARDS, i, indices))
        for name, j in findings(folders[i]).items():
            check(j["finding"]["case"] % SHARDS == i, "shard %d/%d found %s in its own case %d"
                  % (i, SHARDS, name, j["finding"]["case"]))

    whole_found = findings(whole)
    timing_only(whole_found, "unsharded")
    whole_sigs = by_signature(whole_found)
    check(whole_sigs, "the unsharded run has findings that replay: %s" % sorted(whole_sigs))
    for verdict in sorted({sig.split(" ")[0] for _, sig in whole_sigs}):
        check(shard_verdicts[verdict] == whole_verdicts.get(verdict),
              "%s: the shards saw it in as many cases as the unsharded run (%d, %s)"
              % (verdict, shard_verdicts[verdict], whole_verdicts.get(verdict)))

    merged = work + "/merged"
    code, merge_out, merge_err = run([xph, "merge"] + folders + ["--out", merged], 120, "xph merge", env=env)
    check(code == 1, "xph merge exits 1 (findings merged): %s %s" % (code, merge_err[-300:]))
    check("merged %d folder(s)" % SHARDS in merge_out, "xph merge says it merged %d folders" % SHARDS)

    merged_found = findings(merged)
    timing_only(merged_found, "merged")
    merged_sigs = by_signature(merged_found)
    check(sorted(merged_sigs) == sorted(whole_sigs),
          "the merged findings have the unsharded run's signatures: %s vs %s" % (sorted(merged_sigs), sorted(whole_sigs)))
    keys = collections.Counter((j["finding"]["sut"], j["finding"]["signature"]) for j in merged_found.values())
    check(all(n == 1 for n in keys.values()), "one merged finding per SUT and signature: %s" % dict(keys))
    for key in sorted(set(whole_sigs) & set(merged_sigs)):
        check(merged_sigs[key] == whole_sigs[key], "%s: the same file, %s" % (key[1], whole_sigs[key]))
        for name in set(merged_sigs[key]) & set(whole_sigs[key]):
            check(comparable(merged_found[name]) == comparable(whole_found[name]),
                  "%s: the same shrunk scenario as the unsharded run's" % name)
    shard_files = {}
    for folder in folders:
        for name, j in findings(folder).items():
            shard_files.setdefault(name, []).append(j)
    for name, j in merged_found.items():
        check(any(j == s for s in shard_files.get(name, [])), "%s is one shard's file, unchanged" % name)

    # Reports: every case a shard reported, once; JUnit counts add up.
    merged_cases = report_cases(merged)
    dump = lambda cases: sorted(json.dumps(c, sort_keys=True) for c in cases)  # noqa: E731
    check(len(shard_cases) > 0 and dump(merged_cases) == dump(shard_cases),
          "the merged report.json holds the %d cases the shards reported, each once (%d)"
          % (len(shard_cases), len(merged_cases)))
    with open(merged + "/report.json") as f:
        check(json.load(f).get("finished") is True, "the merged report.json says the run finished")
    try:
        root, cases, failing = junit(merged + "/report.xml")
        check(True, "the merged report.xml is well-formed XML")
        shard_tests = shard_failures = 0
        for folder in folders:
            _, c, fl = junit(folder + "/report.xml")
            shard_tests += len(c)
            shard_failures += len(fl)
        check(root.tag == "testsuites" and root.get("tests") == str(len(cases)) == str(shard_tests),
              "JUnit tests=%s: its testcases (%d), the shards' (%d)" % (root.get("tests"), len(cases), shard_tests))
        check(root.get("failures") == str(len(failing)) == str(shard_failures),
              "JUnit failures=%s: its failing testcases (%d), the shards' (%d)"
              % (root.get("failures"), len(failing), shard_failures))
        suites = root.findall("testsuite")
        check(len(suites) == 1 and suites[0].get("tests") == str(len(cases)),
              "one testsuite, with the same count")
        check(sorted(c.get("name") for c in cases) == sorted(c["id"] for c in merged_cases),
              "the JUnit testcases are the report.json cases")
    except (ET.ParseError, FileNotFoundError) as e:
        check(False, "the merged report.xml is well-formed XML: %s" % e)
finally:
    shutil.rmtree(work, ignore_errors=True)

finish()
