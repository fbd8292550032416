#!/usr/bin/env python3
"""xph installed, and nothing else: `cmake --install` into a temporary prefix,
then, in a mount namespace where the source and build trees are hidden
under an empty tmpfs, `PREFIX/bin/xph matrix` run from / must work, find
its bundled scenarios, SUTs and Python package under PREFIX/share/xph, and
judge. Also: `cpack -G DEB` makes a package that holds the same tree.

    install_test.py BUILD_DIR SOURCE_DIR
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

build, source = map(os.path.abspath, sys.argv[1:3])


def run(args, timeout, **kw):
    r = subprocess.run(args, capture_output=True, text=True, timeout=timeout, start_new_session=True, **kw)
    return r


def fail(what, r=None):
    print("FAIL: " + what)
    if r is not None:
        print("exit %s\nstdout:\n%s\nstderr:\n%s" % (r.returncode, r.stdout[-4000:], r.stderr[-4000:]))
    sys.exit(1)


work = tempfile.mkdtemp(prefix="xph-install-")
try:
    prefix = os.path.join(work, "prefix")
    r = run(["cmake", "--install", build, "--prefix", prefix], 300)
    if r.returncode != 0:
        fail("cmake --install", r)
    for path in ["bin/xph", "bin/oaimock", "bin/xph-refsut", "share/xph/scenarios/single_then_multi.json",
                 "share/xph/sut/garaklike/__main__.py", "share/xph/python/xph_sut/__init__.py"]:
        if not os.path.exists(os.path.join(prefix, path)):
            fail("not installed: " + path)

    # Hide the trees xph was built from: a compiled-in source path would
    # find nothing there. Root (as in CI) or a user namespace (unshare -r).
    trees = [d for d in {source, build} if not any(d != o and d.startswith(o + "/") for o in {source, build})]
    hide = " && ".join("mount -t tmpfs none %s" % d for d in sorted(trees))
    report = os.path.join(work, "matrix.json")
    script = ("%s && cd / && env -i PATH=/usr/bin:/bin HOME=%s %s/bin/xph matrix --sut ref --sut ref-naive "
              "--sut garaklike-leaky-client --sut garaklike --filter 'single_then_multi/g1/n' --json %s"
              % (hide, work, prefix, report))
    r = run(["unshare", "--mount", "--map-root-user", "sh", "-c", script], 600)
    if r.returncode != 0:
        fail("installed xph matrix, trees hidden, from /", r)
    cases = {c["sut"]: c["verdict"] for c in json.load(open(report))["cases"]}
    want = {"ref": "PASS", "ref-naive": "TRANSPORT_BROKEN", "garaklike-leaky-client": "TRANSPORT_BROKEN",
            "garaklike": "PASS"}
    if cases != want:
        fail("verdicts %s, expected %s" % (cases, want), r)
    if source in r.stdout or build in r.stdout:
        fail("the installed xph names the source or build tree", r)

    r = run(["cpack", "-G", "DEB", "-B", os.path.join(work, "deb")], 300, cwd=build)
    if r.returncode != 0:
        fail("cpack -G DEB", r)
    debs = [f for f in os.listdir(os.path.join(work, "deb")) if f.endswith(".deb")]
    if len(debs) != 1:
        fail("cpack made %s" % debs, r)
    listing = run(["dpkg-deb", "-c", os.path.join(work, "deb", debs[0])], 60).stdout
    for path in ["/bin/xph", "/share/xph/scenarios/single_then_multi.json", "/share/xph/python/xph_sut/"]:
        if path not in listing:
            fail("the package lacks " + path + ":\n" + listing)
    print("ok: installed xph judges from / with its trees hidden; the package holds it")
finally:
    shutil.rmtree(work, ignore_errors=True)
