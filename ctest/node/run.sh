#!/bin/sh
# ctest -L node: install the pinned OpenAI Node SDK into the build tree (npm
# ci from the committed lock, once per lock), then run sdk_test.mjs with
# node's own test runner against the real oaimock binary.
# Usage: run.sh WORK_DIR OAIMOCK_BIN
set -u
src=$(cd "$(dirname "$0")" && pwd)
work=$1
oaimock=$2
mkdir -p "$work"
cp "$src/package.json" "$src/package-lock.json" "$src/sdk_test.mjs" "$work/"
if ! cmp -s "$src/package-lock.json" "$work/node_modules/.xph-installed-lock" 2>/dev/null; then
  if ! (cd "$work" && npm ci --no-audit --no-fund --fetch-retries=1 > npm.log 2>&1); then
    reason=$(grep -m1 -E 'npm (ERR!|error) (code|network|request)' "$work/npm.log" || tail -n 1 "$work/npm.log")
    echo "oaimock_node_sdk: npm could not install the pinned openai package from the registry: $reason (log: $work/npm.log)"
    exit 1
  fi
  cp "$src/package-lock.json" "$work/node_modules/.xph-installed-lock"
fi
cd "$work" && OAIMOCK_BIN="$oaimock" exec node --test --test-reporter=spec sdk_test.mjs
