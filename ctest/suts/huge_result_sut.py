"""A hostile SUT: its result file is 1 GiB (sparse, so the disk is spared)."""
import os

with open(os.environ["XPH_RESULT"], "wb") as f:
    f.truncate(1 << 30)
