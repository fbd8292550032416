"""Cold vs warm start of a small SUT that imports httpx and backoff
(suts/small_sut.py), one single-attempt case each against a real oaimock.
A benchmark, not a test: it prints figures and asserts nothing about them.

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


def summary(name, seconds):
    seconds = sorted(seconds)
    return "%-5s median %6.1f ms   min %6.1f ms   p90 %6.1f ms   (%d cases)" % (
        name, 1000 * statistics.median(seconds), 1000 * seconds[0],
        1000 * seconds[int(0.9 * (len(seconds) - 1))], len(seconds))


def main():
    cases = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    root = tempfile.mkdtemp(prefix="xphb-")
    server = OaimockServer(find_binary("oaimock"), root)
    wd.become_subreaper()
    zygote = wd.Zygote(SUT)
    cold, warm = [], []
    try:
        for i in range(cases):
            for mode, times in (("cold", cold), ("warm", warm)):
                folder = os.path.join(root, "%s%d" % (mode, i))
                os.mkdir(folder)
                write_spec(folder, base_url=server.url + "/v1", api_key="%s%d" % (mode, i))
                env = wd.case_env(folder, OPENAI_BASE_URL=server.url + "/v1", OPENAI_API_KEY="%s%d" % (mode, i))
                started = time.monotonic()
                if mode == "cold":
                    code = subprocess.run(SUT, cwd=folder, env=env, stdin=subprocess.DEVNULL,
                                          stdout=subprocess.DEVNULL, timeout=60).returncode
                else:
                    reply = zygote.start(mode + str(i), folder, env, "xph-bench")
                    code = wd.wait_case(reply["pid"], 60).code
                times.append(time.monotonic() - started)
                if code != 0 or not os.path.exists(env["XPH_RESULT"]):
                    sys.exit("%s case %d failed (exit %d)" % (mode, i, code))
    finally:
        zygote.close()
        server.stop()
        shutil.rmtree(root)
    print("one single-attempt case of a SUT importing httpx %s + backoff, start to exit:" %
          __import__("httpx").__version__)
    print(summary("cold", cold))
    print(summary("warm", warm))


if __name__ == "__main__":
    main()
