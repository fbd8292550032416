"""What `multi_alone`'s pooled probe costs CPython with no xph at all.

    /usr/bin/python3 scripts/lib/case_floor.py BASE_URL [REPEATS]

BASE_URL: an oaimock started with `--responses '429@0.01,200'`. As a warm
case of garaklike, less everything but its pool: one interpreter that has
imported garaklike (so httpx and backoff) forks a child; the child runs a
multiprocessing.Pool(4), and each worker makes an httpx client, sends one
chat request, is answered 429 with a Retry-After of 10 ms, waits it, sends
again and is answered 200; the child exits once its pool is closed. No spec
is read, no result written, no process watched: the median is a floor under
any warm case of that shape, whatever the harness around it costs.
Prints the median and the minimum in ms.
"""
import gc
import multiprocessing
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [os.path.join(HERE, "..", "..", "fixtures", "sut"), os.path.join(HERE, "..", "..", "harness", "python")]
import garaklike.generator  # noqa: E402  (what the zygote imports)
import garaklike.probe  # noqa: E402,F401
import httpx  # noqa: E402

BASE_URL = sys.argv[1].rstrip("/")
PLAIN = httpx.create_ssl_context(verify=False)


def attempt(key):
    client = httpx.Client(base_url=BASE_URL, verify=PLAIN, headers={"Authorization": "Bearer floor"})
    body = {"model": "m", "n": 1, "messages": [{"role": "user", "content": "[xph:%s] hi" % key}]}
    for _ in range(3):
        r = client.post("/chat/completions", json=body)
        if r.status_code != 429:
            return r.status_code
        time.sleep(float(r.headers.get("retry-after-ms", "10")) / 1000)
    return r.status_code


def one_case(run):
    start = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            with multiprocessing.Pool(4) as pool:
                if sorted(pool.imap_unordered(attempt, ["f%d#%d" % (run, i) for i in range(4)])) != [200] * 4:
                    code = 1
        except BaseException:
            code = 2
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    if status != 0:
        sys.exit("case_floor.py: run %d ended with status %d (is oaimock scripted 429@0.01,200?)" % (run, status))
    return 1000 * (time.perf_counter() - start)


if __name__ == "__main__":
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 30
    gc.freeze()  # as the zygote does
    times = [one_case(run) for run in range(repeats)]
    print("median %.1f ms  min %.1f ms  (%d runs)" % (statistics.median(times), min(times), repeats))
