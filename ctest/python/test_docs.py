"""docs/python-sut.md runs as written."""
import os
import re
import subprocess

import xph_sut
import xph_sut.pytest_plugin as plugin
from conftest import PYTHON, REPO

DOC = os.path.join(REPO, "docs", "python-sut.md")


def read(path):
    with open(path) as f:
        return f.read()


def python_blocks():
    return re.findall(r"```python\n(.*?)```", read(DOC), re.S)


def test_the_example_is_the_adapter_file():
    assert read(os.path.join(REPO, "docs", "examples", "adapter.py")) in python_blocks()


def test_every_public_name_is_documented():
    doc = read(DOC)
    missing = [name for name in xph_sut.__all__ if "`%s" % name not in doc and "%s(" % name not in doc]
    assert missing == []


def test_the_scanner_suite_example_passes_as_written(tmp_path):
    (suite,) = [b for b in python_blocks() if "xph_sut.pytest_plugin" in b.split("\n")[0]]
    (tmp_path / "test_xph_regressions.py").write_text(suite)
    env = dict(os.environ, PYTHONPATH=plugin.PACKAGE_PARENT)
    done = subprocess.run([PYTHON, "-m", "pytest", "-p", "xph_sut.pytest_plugin", "-p", "no:cacheprovider",
                           "-q", "--basetemp", str(tmp_path / "t"), str(tmp_path / "test_xph_regressions.py")],
                          cwd=REPO, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "3 passed" in done.stdout
