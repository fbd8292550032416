"""`garak_adapter --check`: one line naming what is missing, exit 1; or
`ok: ...`, exit 0. What `xph suts` shows for garak@COMMIT comes from here.

    adapter_check_test.py --adapter DIR --third-party DIR
"""
import argparse
import os
import subprocess
import sys
import tempfile

PYTHON = "/usr/bin/python3"


def check(args, garak, pythonpath, env_pythonpath=None):
    cmd = [PYTHON, args.adapter, "--garak", os.path.join(args.third_party, garak), "--check"]
    for p in pythonpath:
        cmd += ["--pythonpath", p if os.path.isabs(p) else os.path.join(args.third_party, p)]
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    if env_pythonpath:
        env["PYTHONPATH"] = env_pythonpath
    proc = subprocess.run(cmd, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120)
    return proc.returncode, proc.stdout


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--adapter", required=True)
    parser.add_argument("--third-party", required=True)
    args = parser.parse_args()
    old = ["typing_extensions-4.11.0/src", "openai-python-1.30.1/src"]
    new = ["typing_extensions-4.16.0rc2/src", "openai-python-2.54.0/src", "xdg-base-dirs-6.0.2/src"]
    with tempfile.TemporaryDirectory(prefix="xph-check-") as folder:
        # A Python path entry on which `import backoff` fails as if absent: the
        # stand-in for a Debian package that is not installed.
        with open(os.path.join(folder, "backoff.py"), "w") as f:
            f.write("raise ModuleNotFoundError(\"No module named 'backoff'\", name='backoff')\n")
        cases = [
            ("ready, 2024", ("garak-60675d25", old), 0, "ok: garak 0.9.0.13.post2 at "),
            ("ready, HEAD", ("garak-cafbe992", new), 0, "ok: garak 0.16.1.pre1 at "),
            ("no unpacked tree", ("garak-0000000", old), 1, "missing: garak source tree "),
            ("no SDK", ("garak-60675d25", []), 1, "missing: Python module openai "),
            ("Debian's typing_extensions", ("garak-60675d25", ["openai-python-1.30.1/src"]), 1,
             "missing: a newer typing_extensions than 4.4"),
            ("no xdg-base-dirs", ("garak-cafbe992", new[:2]), 1, "missing: Python module xdg_base_dirs "),
            ("wrong SDK", ("garak-cafbe992", old + ["xdg-base-dirs-6.0.2/src"]), 1,
             "mismatch: garak at "),
            ("no Debian package", ("garak-60675d25", [folder] + old), 1, "missing: Debian package python3-backoff "),
        ]
        failed = 0
        for name, (garak, path), want_code, want_start in cases:
            code, out = check(args, garak, path)
            lines = out.splitlines()
            ok = code == want_code and len(lines) == 1 and lines[0].startswith(want_start)
            failed += not ok
            print("%s %-28s exit %d: %s" % ("ok  " if ok else "FAIL", name, code, out.strip()[:200]))
            if not ok:
                print("     expected exit %d and one line starting %r" % (want_code, want_start))
    print("%d passed, %d failed" % (len(cases) - failed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
