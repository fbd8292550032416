#!/usr/bin/python3
"""The HTML report in a real browser (headless Chromium), stdlib only.

  report_test.py --template harness/report/template.html --data ctest/report/fixture.json --out DIR
      builds the page from data by the same substitution the C++ writer does
      (embed() below), then checks it;
  report_test.py --html FILE --out DIR
      checks a page `xph run --html FILE` wrote, with every expectation derived
      from the data embedded in that page;
  report_test.py --xph BIN --out DIR -- RUN-ARGS...
      runs `BIN run RUN-ARGS --html DIR/xph-report.html --json DIR/xph-report.json`,
      checks that page, and that it holds the same cases and verdicts as the
      JSON report (exit 77, skipped, while `xph run --help` has no --html).

Exit 0 passed, 1 failed, 77 skipped (no Chromium).

The page's own #selftest opens every case and writes what it drew into
<pre id="xph-selftest">; this script compares that with what the data says
must be drawn (lanes = the processes of each run, one mark per request, one
matrix cell per scenario x SUT with the worst verdict and the unmet count), and
fails on any script error, CSP violation or console.error. It then saves
screenshots (report-overview.png, report-case.png) in DIR. No timing is
asserted here: scripts/bench-html measures speed.
"""
import argparse
import ctypes
import html
import json
import os
import pathlib
import re
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
import uuid

TOKEN = "@@" + "XPH_DATA_JSON" + "@@"  # split so this file never holds the token itself
ORDER = ["TRANSPORT_BROKEN", "HANG", "CRASH", "LOST", "MISMATCH", "RETRY_POLICY", "VACUOUS", "PASS"]
CHROMIUM = os.environ.get("XPH_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--enable-logging=stderr", "--v=0"]


def embed(template: str, data_json: str) -> str:
    """The substitution the C++ writer mirrors, byte for byte.

    data_json is the report object serialised as JSON (UTF-8, invalid bytes
    already replaced by U+FFFD). Every "<" in it becomes the JSON escape
    \\u003c: "<" only occurs inside JSON strings, where the escape means the
    same, and with none left the HTML parser can see neither "</script" nor
    "<!--" in the data. The template holds the token exactly once.
    """
    if template.count(TOKEN) != 1:
        raise ValueError("template must hold the data token exactly once, holds %d" % template.count(TOKEN))
    return template.replace(TOKEN, data_json.replace("<", "\\u003c"))


def extract_data(page: str):
    """The report object embedded in a page (what --html mode checks against)."""
    m = re.search(r'<script type="application/json" id="xph-data">(.*?)</script>', page, re.S)
    if not m:
        raise ValueError("no <script id=xph-data> in the page")
    return json.loads(m.group(1))


# ---------------------------------------------------------------- chromium

def _our_pids(token):
    """Every process whose environment carries this run's token: Chromium and
    all it started (crashpad leaves the process group, never the environment)."""
    mine = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open("/proc/%s/environ" % entry, "rb") as f:
                if token in f.read():
                    mine.append(int(entry))
        except OSError:
            pass
    return mine


def _become_subreaper():
    """Chromium's helpers double-fork; as a subreaper this process inherits and
    reaps them instead of leaving zombies to an init that may not."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
    except (OSError, AttributeError):
        pass


def _reap():
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def _end_all(token, deadline_s=10.0):
    end = time.monotonic() + deadline_s
    while True:
        _reap()
        pids = _our_pids(token)
        if not pids:
            return
        if time.monotonic() > end:
            raise RuntimeError("chromium processes left behind: %s" % pids)
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.1)


def chromium(url, args, timeout_s, scratch):
    """Run headless Chromium once on url; return (stdout, stderr). Bounded by
    timeout_s; afterwards no process it started is left."""
    token = "XPH_REPORT_TEST_%s" % uuid.uuid4().hex
    home = tempfile.mkdtemp(prefix="chromium-", dir=scratch)
    env = dict(os.environ, HOME=home, XDG_CONFIG_HOME=home, XDG_CACHE_HOME=home)
    env[token] = "1"
    cmd = [CHROMIUM] + CHROMIUM_FLAGS + ["--user-data-dir=" + os.path.join(home, "profile")] + args + [url]
    proc = subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        _end_all(token.encode())
        proc.communicate()
        raise RuntimeError("chromium did not finish within %d s: %s" % (timeout_s, " ".join(cmd)))
    finally:
        _end_all(token.encode())
        shutil.rmtree(home, ignore_errors=True)
    return out.decode("utf-8", "replace"), err.decode("utf-8", "replace")


def console_errors(stderr):
    """Uncaught errors Chromium logged from the page (a second channel beside
    the page's own hooks, which cannot see errors thrown before they exist)."""
    return [l for l in stderr.splitlines() if "CONSOLE" in l and ("Uncaught" in l or "Error" in l)]


# ---------------------------------------------------------------- expectations

def rank(v):
    return ORDER.index(v) if v in ORDER else 6.5


def ordered(listed, cases, key):
    out = []
    for x in list(listed) + [c.get(key) for c in cases]:
        if x is not None and x not in out:
            out.append(x)
    return out


def pid_key(pid):
    if isinstance(pid, float) and pid.is_integer():
        pid = int(pid)
    return "pid:%s" % pid


def expected_lanes(run):
    parent = "parent" if run.get("sut_pid") is None else pid_key(run["sut_pid"])
    lanes = [parent]
    reqs = sorted(run.get("requests") or [], key=lambda q: (q.get("t_ms") or 0, q.get("k") or 0))
    attempts = run.get("attempts")
    if not isinstance(attempts, list):
        attempts = (run.get("result") or {}).get("attempts") or []
    for pid in [q.get("pid") for q in reqs] + [b.get("pid") for b in run.get("boundary") or []] + \
               [a.get("pid") for a in attempts]:
        if pid is not None and pid_key(pid) not in lanes:
            lanes.append(pid_key(pid))
    if any(q.get("pid") is None for q in reqs):
        lanes.append("unknown")
    return lanes


def expected_retries(run):
    per_key = {}
    for q in run.get("requests") or []:
        per_key[q.get("key")] = per_key.get(q.get("key"), 0) + 1
    return sum(n - 1 for n in per_key.values())


ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]")


class Checks:
    def __init__(self):
        self.failures = []
        self.passed = 0

    def eq(self, what, got, want):
        if got == want:
            self.passed += 1
        else:
            self.failures.append("%s: got %r, want %r" % (what, got, want))

    def true(self, what, cond, detail=""):
        if cond:
            self.passed += 1
        else:
            self.failures.append("%s%s" % (what, (": " + detail) if detail else ""))


def check_selftest(data, st, ck):
    cases = data.get("cases") or []
    ck.true("the self-test ran to the end", "fatal" not in st, st.get("fatal", ""))
    ck.eq("script errors, CSP violations, console.error", st.get("errors"), [])
    if "fatal" in st:
        return
    ck.eq("timelines drawn before any case was opened", st["timelines_before_open"], 0)
    hdr = st["header"]
    ck.true("a string in the data was executed as markup", not hdr["pwned"])
    ck.eq("interrupted banner", hdr["interrupted_banner"], bool(data.get("interrupted")))
    unmet = sum(1 for c in cases if not c.get("met"))
    ck.true("the header counts the unmet cases", ("%d unmet" % unmet) in hdr["unmet_button"], hdr["unmet_button"])

    # The matrix: every scenario x SUT, worst verdict as text, unmet marked.
    scens = ordered([s.get("name") for s in data.get("scenarios") or []], cases, "scenario")
    suts = ordered(data.get("suts") or [], cases, "sut")
    ck.eq("matrix cells", len(st["matrix"]), len(scens) * len(suts))
    cells = {(m["scenario"], m["sut"]): m for m in st["matrix"]}
    for s in scens:
        for u in suts:
            mine = [c for c in cases if c.get("scenario") == s and c.get("sut") == u]
            m = cells.get((s, u))
            if m is None:
                ck.true("matrix cell %s x %s drawn" % (s, u), False)
                continue
            if not mine:
                ck.eq("empty cell %s x %s" % (s, u), m["verdict"], None)
                continue
            worst = min((c.get("verdict") for c in mine), key=rank)
            n_unmet = sum(1 for c in mine if not c.get("met"))
            ck.eq("cell %s x %s verdict" % (s, u), (m["verdict"] or "").replace("\u200b", ""), worst)
            ck.eq("cell %s x %s unmet" % (s, u), m["unmet"], n_unmet)
            ck.eq("cell %s x %s outlined" % (s, u), m["outlined"], n_unmet > 0)
            ck.true("cell %s x %s readable without colour" % (s, u),
                    worst in m["text"] and (("%d unmet" % n_unmet) in m["text"] if n_unmet else "unmet" not in m["text"]),
                    m["text"])

    for click in st["clicks"]:
        n = sum(1 for c in cases if c.get("scenario") == click["scenario"] and c.get("sut") == click["sut"])
        ck.eq("clicking cell %s x %s lists its cases" % (click["scenario"], click["sut"]), click["listed"], n)
    ck.eq("cells clicked", len(st["clicks"]), min(200, sum(1 for m in st["matrix"] if m["verdict"] is not None)))
    ck.eq("the unmet button lists the unmet cases", st["unmet_listed"], unmet if unmet else len(cases))
    ck.eq("show all lists every case", st["all_listed"], len(cases))

    # Every case: opened, its runs drawn with one lane per process and one mark per request.
    ck.eq("cases in the list", len(st["cases"]), len(cases))
    for c, got in zip(cases, st["cases"]):
        name = "%s on %s" % (c.get("id"), c.get("sut"))
        ck.eq(name + ": id", got["id"], c.get("id"))
        ck.eq(name + ": verdict", got["verdict"], c.get("verdict"))
        ck.eq(name + ": met mark", got["met_text"], "ok" if c.get("met") else "FAIL")
        ck.eq(name + ": findings rows", got["findings"], len(c.get("findings") or []))
        ck.eq(name + ": shrunk shown", got["shrunk"], bool(c.get("shrunk")))
        want_buttons = (1 if c.get("replay") else 0) + (1 if (c.get("shrunk") or {}).get("replay") else 0) + \
            (1 if data.get("command") else 0) * 0
        ck.true(name + ": replay copy buttons", got["replay_buttons"] >= want_buttons, str(got["replay_buttons"]))
        runs = c.get("runs") or []
        ck.eq(name + ": runs", len(got["runs"]), len(runs))
        if "ORDER_DEPENDENT" in (c.get("flags") or []) and len(runs) > 1:
            ck.true(name + ": ORDER_DEPENDENT shows its solo run", len(got["runs"]) > 1)
        for r, g in zip(runs, got["runs"]):
            rn = "%s, %s" % (name, r.get("label"))
            want = expected_lanes(r)
            ck.eq(rn + ": lanes", sorted(g["lanes"]), sorted(want))
            ck.eq(rn + ": parent lane first", g["lanes"][:1], want[:1])
            ck.eq(rn + ": request marks", g["marks"], len(r.get("requests") or []))
            ck.eq(rn + ": boundary marks", g["boundary"], len(r.get("boundary") or []))
            ck.eq(rn + ": retry connectors", g["retries"], expected_retries(r))
            se = r.get("stderr") or ""
            if se:
                shown = g["stderr"] or ""
                ck.true(rn + ": stderr shown", bool(shown))
                ck.true(rn + ": no escape sequence left in stderr", "\x1b" not in shown)
                ck.true(rn + ": no carriage return left in stderr", "\r" not in shown)
                for line in se.replace("\r\n", "\n").split("\n"):
                    if "\r" in line:
                        states = [p for p in ANSI.sub("", line).split("\r") if p.strip()]
                        if states:
                            ck.true(rn + ": a progress line shows its last state", states[-1] in shown, states[-1])


def png_size(path):
    with open(path, "rb") as f:
        head = f.read(24)
    if head[:8] != b"\x89PNG\r\n\x1a\n":
        return None
    return struct.unpack(">II", head[16:24])


def interesting_case(cases):
    """The case the README screenshot shows: an order-dependent one with both runs, else the first unmet."""
    for i, c in enumerate(cases):
        if "ORDER_DEPENDENT" in (c.get("flags") or []) and len(c.get("runs") or []) > 1 and c.get("sut", "").startswith("garak"):
            return i
    for i, c in enumerate(cases):
        if "ORDER_DEPENDENT" in (c.get("flags") or []) and len(c.get("runs") or []) > 1:
            return i
    for i, c in enumerate(cases):
        if not c.get("met"):
            return i
    return 0


SKIP = 77


def run_xph(xph, args, out, timeout_s):
    """The page and JSON report of a real run; None when xph has no --html yet."""
    helptext = subprocess.run([xph, "run", "--help"], capture_output=True, text=True, timeout=60).stdout
    if "--html" not in helptext:
        return None
    page, js = os.path.join(out, "xph-report.html"), os.path.join(out, "xph-report.json")
    cmd = [xph, "run"] + args + ["--html", page, "--json", js]
    p = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout_s)
    if p.returncode not in (0, 1):  # 1: some case did not meet its expectation, still a whole report
        raise RuntimeError("%s exited %d:\n%s%s" % (" ".join(cmd), p.returncode, p.stdout, p.stderr))
    return page, js


def main():
    argv = sys.argv[1:]
    xph_args = []
    if "--" in argv:
        cut = argv.index("--")
        argv, xph_args = argv[:cut], argv[cut + 1:]
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--template")
    ap.add_argument("--data")
    ap.add_argument("--html", help="a page xph wrote; expectations come from its embedded data")
    ap.add_argument("--xph", help="an xph binary: run it with the arguments after -- and check its page")
    ap.add_argument("--out", required=True, help="where the page (fixture mode), DOM dump and screenshots go")
    ap.add_argument("--timeout", type=int, default=90, help="bound of each Chromium run, seconds")
    a = ap.parse_args(argv)
    if sum([bool(a.html), bool(a.xph), bool(a.template and a.data)]) != 1:
        ap.error("give one of --html FILE, --xph BIN -- ARGS, or --template and --data")
    if not os.access(CHROMIUM, os.X_OK):
        print("skipped: no Chromium at %s (apt-get install chromium, or set XPH_CHROMIUM)" % CHROMIUM)
        return SKIP
    os.makedirs(a.out, exist_ok=True)
    out = os.path.abspath(a.out)

    json_report = None
    if a.xph:
        made = run_xph(a.xph, xph_args, out, 600)
        if made is None:
            print("skipped: `%s run --help` has no --html yet" % a.xph)
            return SKIP
        a.html, json_report = made

    if a.html:
        page_path = os.path.abspath(a.html)
        with open(page_path, encoding="utf-8") as f:
            page = f.read()
        data = extract_data(page)
    else:
        with open(a.template, encoding="utf-8") as f:
            template = f.read()
        with open(a.data, encoding="utf-8") as f:
            data = json.load(f)
        page = embed(template, json.dumps(data, ensure_ascii=False))
        page_path = os.path.join(out, "report.html")
        with open(page_path, "w", encoding="utf-8") as f:
            f.write(page)
        if extract_data(page) != data:
            print("FAIL: the embedded data does not parse back to the fixture")
            return 1

    _become_subreaper()
    ck = Checks()
    if json_report:
        with open(json_report, encoding="utf-8") as f:
            jcases = json.load(f).get("cases") or []
        key = lambda c: (c.get("id"), c.get("sut"), c.get("verdict"), c.get("met"), tuple(c.get("flags") or []))
        ck.eq("the page's cases are the JSON report's", sorted(map(key, data.get("cases") or [])), sorted(map(key, jcases)))
    ck.true("no network reference in the page", not re.search(r'(src|href)\s*=\s*["\']?(https?:)?//', page))
    scratch = tempfile.mkdtemp(prefix="xph-report-test-")
    try:
        url = pathlib.Path(page_path).as_uri()
        dom, err = chromium(url + "#selftest", ["--dump-dom", "--virtual-time-budget=2000"], a.timeout, scratch)
        with open(os.path.join(out, "selftest-dom.html"), "w", encoding="utf-8") as f:
            f.write(dom)
        m = re.search(r'<pre id="xph-selftest"[^>]*>(.*?)</pre>', dom, re.S)
        if not m:
            print("FAIL: the page wrote no self-test result (see %s/selftest-dom.html)" % out)
            print("\n".join(l for l in err.splitlines() if "CONSOLE" in l) or "(nothing logged from the page)")
            return 1
        st = json.loads(html.unescape(m.group(1)))
        check_selftest(data, st, ck)
        ck.eq("errors Chromium logged from the page", console_errors(err), [])

        shots = [("report-overview.png", url, "1280,1100"),
                 # In place, not scrolled to: headless screenshots of a scrolled page come out partly blank.
                 ("report-case.png", url + "#open=%d" % interesting_case(data.get("cases") or []), "1280,2000")]
        for name, shot_url, size in shots:
            path = os.path.join(out, name)
            if os.path.exists(path):
                os.unlink(path)
            chromium(shot_url, ["--screenshot=" + path, "--window-size=" + size, "--hide-scrollbars"], a.timeout, scratch)
            dims = png_size(path) if os.path.exists(path) else None
            ck.eq("screenshot %s written at the window's size" % name, dims, tuple(int(x) for x in size.split(",")))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    for f in ck.failures:
        print("FAIL:", f)
    runs = sum(len(c.get("runs") or []) for c in data.get("cases") or [])
    print("%d check(s) passed, %d failed; %d case(s), %d run(s); page, DOM dump and screenshots in %s"
          % (ck.passed, len(ck.failures), len(data.get("cases") or []), runs, out))
    return 1 if ck.failures else 0


if __name__ == "__main__":
    sys.exit(main())
