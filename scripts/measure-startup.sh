#!/usr/bin/env bash
# Start-up cost of the installed client, against `node -e 0` in the same run: builds the
# packs, installs the client pack into a temporary prefix, and prints the median wall
# time and maximum RSS of 10 runs of each command (GNU time). `warren status` needs no
# network: with no daemon running it reads the (empty) local state and answers.
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${RUNS:-10}"
npm run --silent pack >/dev/null
prefix="$(mktemp -d)"
home="$(mktemp -d)"
trap 'rm -rf "$prefix" "$home"' EXIT
npm install -g --prefix "$prefix" --offline --no-audit --no-fund dist/packs/warren-[0-9]*.tgz >/dev/null
warren="$prefix/bin/warren"
measure() {
  local label="$1"
  shift
  local out
  out="$(for _ in $(seq "$runs"); do
    HOME="$home" WARREN_CONFIG_DIR="$home/warren" /usr/bin/time -f '%e %M' "$@" 2>&1 >/dev/null | tail -1
  done)"
  local wall rss
  wall="$(echo "$out" | awk '{print $1}' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')"
  rss="$(echo "$out" | awk '{print $2}' | sort -n | awk '{a[NR]=$1} END {printf "%.0f", a[int((NR+1)/2)]/1024}')"
  printf '| `%s` | %s s | %s MiB |\n' "$label" "$wall" "$rss"
}
echo "node $(node --version), $(nproc) cores, median of $runs runs"
echo "| command | wall time | max RSS |"
echo "| --- | --- | --- |"
measure "node -e 0" node -e 0
measure "warren --version" "$warren" --version
measure "warren status" "$warren" status
