"""`xph fuzz --shard auto`, as a Kubernetes Indexed Job's pod runs it: with
JOB_COMPLETION_INDEX and JOB_COMPLETIONS set it runs that shard, the same
cases and findings as `--shard I/N`; without them, or with values that are
no shard, it prints one line and exits 2, having run nothing.

usage: shard_auto_test.py XPH
"""
import os
import re
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from deploylib import check, clean_env, finish, run  # noqa: E402

xph = sys.argv[1]
work = tempfile.mkdtemp(prefix="xph-deploy-auto-")


def fuzz(out, shard, env):
    # ref-naive fails case 2 of seed 1, so shard 2/4 of 8 cases (2 and 6)
    # has a finding to compare.
    return run([xph, "fuzz", "--sut", "ref-naive", "--seed", "1", "--cases", "8", "--shard", shard,
                "--out", out, "--json", out + "/report.json", "-j", "1", "-q"], 600, "xph fuzz --shard " + shard,
               env=env)


def finding_files(out):
    return sorted(f for f in os.listdir(out) if f != "report.json") if os.path.isdir(out) else []


try:
    auto = work + "/auto"
    code, out, err = fuzz(auto, "auto", clean_env(JOB_COMPLETION_INDEX="2", JOB_COMPLETIONS="4"))
    check(code == 1, "JOB_COMPLETION_INDEX=2 JOB_COMPLETIONS=4: exit 1 (case 2 fails): %s %s" % (code, err[-300:]))
    first = out.splitlines()[0] if out else ""
    check("shard 2/4" in first, "it runs shard 2/4: %r" % first)
    check(re.search(r"^2 case\(s\) in ", out, re.M) is not None, "it runs 2 of the 8 cases")

    explicit = work + "/explicit"
    code2, out2, err2 = fuzz(explicit, "2/4", clean_env())
    check(code2 == code, "--shard 2/4 exits the same: %s" % code2)
    check(finding_files(auto) and finding_files(auto) == finding_files(explicit),
          "the same findings as --shard 2/4: %s, %s" % (finding_files(auto), finding_files(explicit)))

    # Missing: the line names the variables to set. Set but no shard: it
    # shows what it read from them.
    for what, extra, says in (("neither variable set", {}, "JOB_COMPLETION_INDEX and JOB_COMPLETIONS"),
                              ("only JOB_COMPLETION_INDEX set", {"JOB_COMPLETION_INDEX": "0"},
                               "JOB_COMPLETION_INDEX and JOB_COMPLETIONS"),
                              ("only JOB_COMPLETIONS set", {"JOB_COMPLETIONS": "4"},
                               "JOB_COMPLETION_INDEX and JOB_COMPLETIONS"),
                              ("an index past the count", {"JOB_COMPLETION_INDEX": "4", "JOB_COMPLETIONS": "4"},
                               "environment: 4/4"),
                              ("a count that is no number", {"JOB_COMPLETION_INDEX": "0", "JOB_COMPLETIONS": "four"},
                               "environment: 0/four")):
        out_dir = work + "/bad"
        code, out, err = run([xph, "fuzz", "--sut", "ref", "--seed", "1", "--cases", "4", "--shard", "auto",
                              "--out", out_dir], 60, "xph fuzz --shard auto, " + what, env=clean_env(**extra))
        lines = err.strip().splitlines()
        check(code == 2 and len(lines) == 1 and "--shard auto" in lines[0],
              "%s: exit 2 and one line naming --shard auto: %s %r" % (what, code, err.strip()))
        check(says in err, "%s: the line says %r" % (what, says))
        check(not os.path.exists(out_dir) and "case(s)" not in out, "%s: nothing ran, nothing written" % what)
finally:
    shutil.rmtree(work, ignore_errors=True)

finish()
