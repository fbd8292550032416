"""scripts/deploy/Containerfile, as far as it can be checked without a
container engine: the build stage installs every package scripts/lib/common.sh
lists (read from common.sh itself, so the two cannot drift apart), its cmake
configure line configures this tree, and it installs with `cmake --install`;
a real `cmake --install` of this build into a temporary prefix has the
image's entrypoint; the final stage installs every Debian package that the
installed binaries link and the bundled Python SUTs import (beyond what
debian:12 has); and the installed tree runs a fuzz case as a non-root user
with the tree read-only and only TMPDIR and --out writable, as the Jobs in
scripts/deploy/k8s/ run it.

usage: containerfile_test.py SOURCE_DIR BUILD_DIR CMAKE
"""
import ast
import glob
import json
import os
import re
import shlex
import shutil
import stat
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from deploylib import check, finish, run  # noqa: E402

source, build, cmake = sys.argv[1:4]
recipe_path = os.path.join(source, "scripts/deploy/Containerfile")
PREFIX_IN_IMAGE = "/usr/local"


def instructions(text):
    """[(INSTRUCTION, arguments)], continuation lines joined, comments dropped."""
    out, current = [], ""
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("#") or not stripped:
            continue
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        current += stripped
        word, _, rest = current.partition(" ")
        out.append((word.upper(), rest.strip()))
        current = ""
    return out


def stages(instrs):
    """[{from, name, instrs}] in order."""
    result = []
    for word, rest in instrs:
        if word == "FROM":
            parts = rest.split()
            name = parts[2] if len(parts) >= 3 and parts[1].upper() == "AS" else None
            result.append({"from": parts[0], "name": name, "instrs": []})
        elif result:
            result[-1]["instrs"].append((word, rest))
    return result


def commands(run_args):
    """The simple commands of a RUN line (split at && and ;)."""
    out, current = [], []
    for word in shlex.split(run_args):
        if word in ("&&", ";", "||"):
            out.append(current)
            current = []
        else:
            current.append(word)
    out.append(current)
    return [c for c in out if c]


def apt_installs(stage):
    packages = set()
    for word, rest in stage["instrs"]:
        if word != "RUN":
            continue
        for cmd in commands(rest):
            words = [w for w in cmd if "=" not in w or w.startswith("-")]  # drop VAR=value prefixes
            if words[:2] == ["apt-get", "install"]:
                packages.update(w for w in words[2:] if not w.startswith("-"))
    return packages


def runs(stage):
    return [cmd for word, rest in stage["instrs"] if word == "RUN" for cmd in commands(rest)]


def common_sh_packages():
    code, out, err = run(["bash", "-c", 'source "$1"; printf "%s\\n" "${XPH_PACKAGES[@]}"', "bash",
                          os.path.join(source, "scripts/lib/common.sh")], 60, "reading XPH_PACKAGES")
    return code, [p for p in out.split() if p]


# --- Debian's view of packages, from dpkg's own database on this Debian 12 machine.

def dpkg_fields(packages):
    """{package: (depends, provides)} for the installed ones."""
    if not packages:
        return {}
    code, out, _ = run(["dpkg-query", "-W", "-f=${Package}\t${Status}\t${Depends}, ${Pre-Depends}\t${Provides}\n"]
                       + sorted(packages), 60, "dpkg-query")
    fields = {}
    for line in out.splitlines():
        name, status, depends, provides = (line.split("\t") + ["", "", ""])[:4]
        if "install ok installed" in status:
            fields[name] = (depends, provides)
    return fields


def installed_providers():
    code, out, _ = run(["dpkg-query", "-W", "-f=${Package}\t${Provides}\t${Status}\n"], 60, "dpkg-query")
    providers = {}
    for line in out.splitlines():
        name, provides, status = (line.split("\t") + ["", ""])[:3]
        if "install ok installed" not in status:
            continue
        providers.setdefault(name, set()).add(name)
        for p in provides.split(","):
            p = p.strip().split(" ")[0]
            if p:
                providers.setdefault(p, set()).add(name)
    return providers


def closure(roots):
    """The roots and everything they depend on, as installed here (where a
    dependency has alternatives, the installed ones)."""
    providers = installed_providers()
    seen, todo = set(), list(roots)
    while todo:
        batch = [p for p in set(todo) if p not in seen]
        todo = []
        seen.update(batch)
        for name, (depends, _) in dpkg_fields(batch).items():
            for clause in depends.split(","):
                for alternative in clause.split("|"):
                    dep = alternative.strip().split(" ")[0].split(":")[0]
                    for real in providers.get(dep, ()):
                        if real not in seen:
                            todo.append(real)
    return seen


def owner(path):
    """The Debian package that ships path (resolving /lib vs /usr/lib)."""
    for candidate in (path, os.path.realpath(path)):
        for variant in (candidate, "/usr" + candidate if not candidate.startswith("/usr/") else candidate[4:]):
            code, out, _ = run(["dpkg", "-S", variant], 60, "dpkg -S")
            if code == 0 and out:
                return out.split(":")[0].strip()
    return None


# --- The recipe.

with open(recipe_path) as f:
    recipe = stages(instructions(f.read()))
check(len(recipe) == 2, "the recipe has two stages (build, then the image): %s" % [s["from"] for s in recipe])
build_stage, image = recipe[0], recipe[-1]
check(all(s["from"] == "debian:12" for s in recipe), "every stage starts from debian:12")

code, wanted = common_sh_packages()
check(code == 0 and len(wanted) > 5, "scripts/lib/common.sh lists XPH_PACKAGES (%d)" % len(wanted))
missing = sorted(set(wanted) - apt_installs(build_stage))
check(not missing, "the build stage installs every package of XPH_PACKAGES%s"
      % ("" if not missing else "; missing: " + " ".join(missing)))

build_runs = runs(build_stage)
configure = next((c for c in build_runs if c[:1] == ["cmake"] and "-S" in c), None)
install = next((c for c in build_runs if c[:2] == ["cmake", "--install"]), None)
check(install is not None and "--prefix" in install and install[install.index("--prefix") + 1] == PREFIX_IN_IMAGE,
      "the build stage installs with `cmake --install ... --prefix %s`: %s" % (PREFIX_IN_IMAGE, install))
check(any(c[:2] == ["cmake", "--build"] for c in build_runs), "the build stage builds with `cmake --build`")

# The configure line as the recipe has it, on this tree, into a scratch
# folder: its -D flags must configure (a configure only; the compile is the
# one this build already did).
if check(configure is not None, "the build stage configures with `cmake -S ... -B ...`"):
    scratch = tempfile.mkdtemp(prefix="xph-deploy-configure-")
    try:
        args = list(configure[1:])
        args[args.index("-S") + 1] = source
        args[args.index("-B") + 1] = scratch
        code, out, err = run([cmake] + args, 300, "the recipe's cmake configure")
        check(code == 0, "the recipe's configure line configures this tree (%s)" % " ".join(configure[1:])
              + ("" if code == 0 else ": " + (err or out)[-600:]))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

entrypoints = [rest for word, rest in image["instrs"] if word == "ENTRYPOINT"]
entry = json.loads(entrypoints[-1]) if entrypoints else None
check(entry is not None and entry[0] == PREFIX_IN_IMAGE + "/bin/xph",
      "the image's ENTRYPOINT is exec form %s/bin/xph: %s" % (PREFIX_IN_IMAGE, entry))
copies = [rest.split() for word, rest in image["instrs"] if word == "COPY"]
check(any(c[0] == "--from=" + (build_stage["name"] or "0") and c[1:] == [PREFIX_IN_IMAGE, PREFIX_IN_IMAGE]
          for c in copies), "the image copies the whole installed tree from the build stage")
users = [rest for word, rest in image["instrs"] if word == "USER"]
user = users[-1].split(":")[0] if users else "0"
check(user.isdigit() and int(user) != 0,
      "the image runs as a numeric non-root user (runAsNonRoot can verify it): USER %s" % (users or ["(none)"])[-1])
k8s_job = open(os.path.join(source, "scripts/deploy/k8s/xph-fuzz-job.yaml")).read()
check(re.search(r"runAsUser: %s\b" % re.escape(user), k8s_job) is not None,
      "the fuzz Job runs as the image's user (%s), so its fsGroup matches the files it writes" % user)

# --- A real install of this build, and what it needs at run time.

prefix = tempfile.mkdtemp(prefix="xph-deploy-install-")
os.chmod(prefix, 0o755)  # read by another user below
try:
    code, out, err = run([cmake, "--install", build, "--prefix", prefix], 300, "cmake --install")
    check(code == 0, "cmake --install %s --prefix %s%s" % (build, prefix, "" if code == 0 else ": " + err[-400:]))
    entry_here = prefix + entry[0][len(PREFIX_IN_IMAGE):] if entry else prefix + "/bin/xph"
    check(os.access(entry_here, os.X_OK), "the entrypoint is installed and executable: %s" % entry_here)
    for piece in ("bin/oaimock", "bin/xph-refsut", "share/xph/scenarios", "share/xph/regressions",
                  "share/xph/sut/garaklike", "share/xph/python/xph_sut"):
        check(os.path.exists(os.path.join(prefix, piece)), "the install has %s" % piece)
    code, out, err = run([entry_here, "--help"], 60, "xph --help")
    check(code == 0 and "fuzz" in out, "the installed entrypoint runs: xph --help exits 0 and names fuzz")

    # The image's packages: what it installs, with their dependencies, and
    # what debian:12 already has (the essential packages and apt, with theirs).
    image_packages = apt_installs(image)
    essential = [line.split()[0] for line in
                 run(["dpkg-query", "-W", "-f=${Package} ${Essential}\n"], 60, "dpkg-query")[1].splitlines()
                 if line.endswith(" yes")]
    have = closure(image_packages) | closure(essential + ["apt"])
    check(image_packages <= set(dpkg_fields(image_packages)),
          "every package the image installs is a Debian 12 package installed here: %s"
          % sorted(image_packages - set(dpkg_fields(image_packages))))

    libraries = {}
    for binary in sorted(glob.glob(os.path.join(prefix, "bin/*"))):
        code, out, err = run(["ldd", binary], 60, "ldd")
        for line in out.splitlines():
            m = re.search(r"=>\s*(/\S+)", line)
            if m:
                libraries.setdefault(m.group(1), []).append(os.path.basename(binary))
            elif "not found" in line:
                check(False, "%s: %s" % (binary, line.strip()))
    check(len(libraries) > 3, "ldd lists the installed binaries' shared libraries (%d)" % len(libraries))
    for lib, users_of in sorted(libraries.items()):
        package = owner(lib)
        check(package in have, "%s (%s, for %s) is in the image" % (lib, package, ", ".join(users_of)))

    # The bundled Python SUTs' imports beyond the standard library. The
    # pytest plugin is for SUT authors' own test runs, not the image's.
    local = {os.path.basename(p) for p in glob.glob(prefix + "/share/xph/sut/*") + glob.glob(prefix + "/share/xph/python/*")}
    imports = set()
    for py in glob.glob(prefix + "/share/xph/sut/garaklike/*.py") + glob.glob(prefix + "/share/xph/python/xph_sut/*.py"):
        if py.endswith("pytest_plugin.py"):
            continue
        for node in ast.walk(ast.parse(open(py).read())):
            if isinstance(node, ast.Import):
                imports.update(a.name.split(".")[0] for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                imports.add(node.module.split(".")[0])
    third_party = sorted(i for i in imports if i not in sys.stdlib_module_names and i not in local)
    check(third_party, "the bundled Python SUTs import packages beyond the standard library: %s" % third_party)
    for module in third_party:
        code, out, err = run(["/usr/bin/python3", "-c", "import importlib.util as u; print(u.find_spec(%r).origin)" % module],
                             60, "find_spec")
        package = owner(out.strip()) if code == 0 else None
        check(package in have, "Python module %s (%s) is in the image" % (module, package))

    # As the Jobs run it: not root, the installed tree read-only, only TMPDIR
    # and --out writable, no HOME. A C++ SUT and a Python one, one case each
    # (case 2 of seed 1 fails the same way against both, so each writes a
    # finding: the exit code and the file show it ran to the end).
    work = tempfile.mkdtemp(prefix="xph-deploy-nonroot-")
    try:
        os.chmod(work, 0o777)
        if os.geteuid() == 0:
            as_user = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"]
            who = "uid 65534 (nobody)"
        else:
            for dirpath, dirnames, filenames in os.walk(prefix):
                for name in dirnames + filenames + [""]:
                    path = os.path.join(dirpath, name)
                    if not os.path.islink(path):
                        os.chmod(path, os.stat(path).st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
            as_user = []
            who = "uid %d, the tree made read-only" % os.geteuid()
        for sut in ("ref-naive", "garaklike-leaky-client"):
            tmp = os.path.join(work, sut + "-tmp")
            out_dir = os.path.join(work, sut + "-out")
            os.mkdir(tmp)
            os.chmod(tmp, 0o777)
            env = {"PATH": "/usr/bin:/bin", "TMPDIR": tmp, "HOME": "/nonexistent", "LANG": "C.UTF-8"}
            code, out, err = run(as_user + [entry_here, "fuzz", "--sut", sut, "--seed", "1", "--case", "2",
                                            "--out", out_dir, "-q"], 300, "xph fuzz as " + who, env=env, cwd=tmp)
            found = glob.glob(out_dir + "/TRANSPORT_BROKEN-*.json")
            check(code == 1 and len(found) == 1,
                  "as %s, the installed xph fuzzes %s case 2 and writes its finding (exit %s, %s)%s"
                  % (who, sut, code, [os.path.basename(p) for p in found],
                     "" if code == 1 else ": " + (err or out)[-600:]))
            check(not os.listdir(tmp), "%s: every case folder under TMPDIR was removed" % sut)
    finally:
        shutil.rmtree(work, ignore_errors=True)
finally:
    for dirpath, dirnames, filenames in os.walk(prefix):
        os.chmod(dirpath, 0o755)
    shutil.rmtree(prefix, ignore_errors=True)

finish()
