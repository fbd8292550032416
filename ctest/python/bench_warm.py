"""Cold vs warm start of a small SUT that imports httpx and backoff: first a
SUT whose main() returns at once (the start alone), then suts/small_sut.py
running one single-attempt case against a real oaimock. A benchmark, not a
test: it prints figures and asserts nothing about them.

    PYTHONPATH=harness/python XPH_OAIMOCK=build/mock_server/oaimock \\
        /usr/bin/python3 ctest/python/bench_warm.py [CASES]
"""
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [HERE, os.path.join(os.path.dirname(os.path.dirname(HERE)), "harness", "python")]

import warm_driver as wd  # noqa: E402
from conftest import PYTHON, SUTS, write_spec  # noqa: E402
from xph_sut.pytest_plugin import OaimockServer, find_binary  # noqa: E402

SUT = [PYTHON, os.path.join(SUTS, "small_sut.py")]
EMPTY_SUT = """import backoff, httpx, xph_sut
def main():
    return 0
xph_sut.serve(main)
"""


def summary(name, seconds):
    seconds = sorted(seconds)
    return "%-5s median %6.1f ms   min %6.1f ms   p90 %6.1f ms   (%d cases)" % (
        name, 1000 * statistics.median(seconds), 1000 * seconds[0],
        1000 * seconds[int(0.9 * (len(seconds) - 1))], len(seconds))


def measure(argv, root, server, cases, label):
    zygote = wd.Zygote(argv)
    cold, warm = [], []
    try:
        for i in range(cases):
            for mode, times in (("cold", cold), ("warm", warm)):
                folder = os.path.join(root, "%s-%s%d" % (label, mode, i))
                os.mkdir(folder)
                key = "%s-%s%d" % (label, mode, i)
                write_spec(folder, base_url=server.url + "/v1", api_key=key)
                env = wd.case_env(folder, OPENAI_BASE_URL=server.url + "/v1", OPENAI_API_KEY=key)
                started = time.monotonic()
                if mode == "cold":
                    code = subprocess.run(argv, cwd=folder, env=env, stdin=subprocess.DEVNULL,
                                          stdout=subprocess.DEVNULL, timeout=60).returncode
                else:
                    reply = zygote.start(key, folder, env, "xph-bench")
                    code = wd.wait_case(reply["pid"], 60).code
                times.append(time.monotonic() - started)
                if code != 0:
                    sys.exit("%s %s case %d failed (exit %d)" % (label, mode, i, code))
    finally:
        zygote.close()
    return cold, warm


def main():
    cases = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    root = tempfile.mkdtemp(prefix="xphb-")
    server = OaimockServer(find_binary("oaimock"), root)
    wd.become_subreaper()
    empty = os.path.join(root, "empty_sut.py")
    with open(empty, "w") as f:
        f.write(EMPTY_SUT)
    try:
        start = measure([PYTHON, empty], root, server, cases, "start")
        case = measure(SUT, root, server, cases, "case")
    finally:
        server.stop()
        shutil.rmtree(root)
    print("SUT importing httpx %s + backoff; cold: a new interpreter, warm: a fork of the zygote" %
          __import__("httpx").__version__)
    print("main() returns at once, start to exit:")
    print(summary("cold", start[0]))
    print(summary("warm", start[1]))
    print("one single-attempt case against oaimock, start to exit:")
    print(summary("cold", case[0]))
    print(summary("warm", case[1]))


if __name__ == "__main__":
    main()
