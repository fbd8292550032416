"""Makes a temporary file the usual way, writes where it went and what
TMPDIR, TMP and TEMP say to argv[1], then blocks until it is ended. On SIGTERM it
writes argv[1] + ".term" before exiting, as a SUT's cleanup handler would."""
import json
import os
import signal
import sys
import tempfile


def on_term(signum, frame):
    with open(sys.argv[1] + ".term", "w") as f:
        f.write("terminated\n")
    sys.exit(0)


signal.signal(signal.SIGTERM, on_term)
fd, path = tempfile.mkstemp(prefix="xph-sut-")
os.write(fd, b"scratch")
os.close(fd)
seen = {"file": path, "env": {v: os.environ.get(v) for v in ("TMPDIR", "TMP", "TEMP")}, "cwd": os.getcwd()}
with open(sys.argv[1] + ".tmp", "w") as f:
    json.dump(seen, f)
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
while True:
    signal.pause()
