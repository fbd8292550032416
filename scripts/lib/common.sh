# Shared by scripts/run, scripts/test and scripts/bench-*: install what is
# missing (as root) or print the line to run, then configure and build.
set -euo pipefail

XPH_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
XPH_BUILD=${XPH_BUILD:-$XPH_ROOT/build}

# Debian 12 package names; everything comes from Debian, nothing is vendored.
XPH_PACKAGES=(g++ cmake make pkg-config libcpp-httplib-dev nlohmann-json3-dev libboost1.81-dev
  libboost-filesystem1.81-dev libcli11-dev libgtest-dev libgmock-dev googletest
  python3 python3-httpx python3-backoff python3-pytest python3-yaml curl chromium
  # real garak and its openai SDK (../shared/third_party/README.md)
  python3-tqdm python3-pydantic python3-distro python3-anyio python3-sniffio python3-jinja2
  python3-markdown python3-requests python3-numpy python3-pil python3-pandas python3-colorama
  python3-aiohttp python3-nltk)
# Tools a machine may already have from elsewhere (a newer Node.js, Google's
# kubectl): Debian's package only when the command is missing.
command -v node >/dev/null 2>&1 || XPH_PACKAGES+=(nodejs npm)
command -v kubectl >/dev/null 2>&1 || XPH_PACKAGES+=(kubernetes-client)

xph_missing() {
  local p missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  echo "${missing[@]:-}"
}

# xph_install [extra packages...]
xph_install() {
  local missing
  missing=$(xph_missing "${XPH_PACKAGES[@]}" "$@")
  [ -z "$missing" ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    echo "missing Debian packages; run:" >&2
    echo "  sudo apt-get update && sudo apt-get install -y $missing" >&2
    exit 1
  fi
  xph_say "installing Debian packages: $missing"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
}

# What the script is doing, on stderr: a user on a fresh machine waits
# minutes for installs and the build.
xph_say() { echo "[xph] $*" >&2; }

# xph_build [extra cmake args...]
xph_build() {  # later -D flags override the default build type
  xph_say "configuring $XPH_BUILD"
  # -O2 without -g: debug info was a fifth of the compile time (measured on
  # xph_cli_test.cpp, 42 s against 34 s), and CI builds from scratch. The
  # sanitizer builds keep -g for their reports.
  cmake -S "$XPH_ROOT" -B "$XPH_BUILD" -DCMAKE_BUILD_TYPE=Release "-DCMAKE_CXX_FLAGS_RELEASE=-O2 -DNDEBUG" "$@" >/dev/null
  xph_say "building (a first build takes several minutes)"
  local targets=()
  for t in ${XPH_TARGETS:-}; do targets+=(--target "$t"); done
  cmake --build "$XPH_BUILD" -j "$(nproc)" "${targets[@]}"
}

# Processes of this build, or running a test SUT of this checkout, that are
# still alive: after the tests there must be none. One line each: PID ARGV.
xph_leftovers() {
  local dir pid exe cmd
  for dir in /proc/[0-9]*; do
    pid=${dir#/proc/}
    [ "$pid" = "$$" ] && continue
    exe=$(readlink "$dir/exe" 2>/dev/null) || continue
    cmd=$(tr '\0' ' ' <"$dir/cmdline" 2>/dev/null) || continue
    case "$exe $cmd" in
      *"$XPH_BUILD/"* | *"$XPH_ROOT/fixtures/sut/"* | *"$XPH_ROOT/ctest/suts/"*) echo "$pid $cmd" ;;
    esac
  done
}
