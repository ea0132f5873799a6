#!/usr/bin/env bash
# Compare, on one machine and one disk, the same 3-step approval workflow
# (create, then 承办 → 审核 → 批准) in tongban's engine and in SpiffWorkflow.
# Each instance is 1 create + 3 steps = 4 durable writes to SQLite: SpiffWorkflow with
# synchronous=FULL and one commit per write; tongban through its store (group commit, each
# write acknowledged after the WAL sync). Throughput is instances/s; the ratio is
# tongban / SpiffWorkflow.
#
# Usage: bench/compare.sh [N]      (N instances on each side, default 500)
# Needs cargo and python3 (with venv). SpiffWorkflow is installed with pip into a throwaway
# virtualenv; nothing else touches the network. Temp dirs are under $TMPDIR (default /tmp):
# point TMPDIR at a real disk if /tmp is a tmpfs, or fsync costs nothing.
set -euo pipefail

N="${1:-500}"
SPIFF_VERSION=3.2.0
cd "$(dirname "$0")/.."

VENV="$(mktemp -d)"
DATA="$(mktemp -d)"
trap 'rm -rf "$VENV" "$DATA"' EXIT
if [ "$(stat -f -c %T "$DATA")" = tmpfs ]; then
  echo "warning: $DATA is on tmpfs; set TMPDIR to a directory on disk" >&2
fi

cargo build --release -p tongban

python3 -m venv "$VENV"
"$VENV/bin/pip" install --quiet --disable-pip-version-check "SpiffWorkflow==$SPIFF_VERSION"
echo "SpiffWorkflow $("$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("SpiffWorkflow"))'), $("$VENV/bin/python" --version)"
echo "data dir: $DATA ($(stat -f -c %T "$DATA")), N=$N"

rate() { sed -n 's#.*= \([0-9.]*\) instances/s.*#\1#p' <<<"$1"; }

# Ours twice: one instance at a time (step for step against a single-threaded engine), and
# 32 instances at a time (each instance's steps still one after another, each durable
# before the next; concurrent steps share commits, which is how the server runs).
ours1="$(target/release/tongban bench engine --instances "$N" --concurrency 1 --database-url "sqlite://$DATA/engine1.db" | grep '^engine:')"
echo "$ours1"
ours32="$(target/release/tongban bench engine --instances "$N" --concurrency 32 --database-url "sqlite://$DATA/engine32.db" | grep '^engine:')"
echo "$ours32"
spiff="$("$VENV/bin/python" bench/spiff_approval.py --instances "$N" --db "$DATA/spiff.db")"
echo "$spiff"

r1="$(rate "$ours1")"
r32="$(rate "$ours32")"
r_spiff="$(rate "$spiff")"
[ -n "$r1" ] && [ -n "$r32" ] && [ -n "$r_spiff" ] || { echo "could not parse a rate" >&2; exit 1; }
awk -v a="$r1" -v c="$r32" -v b="$r_spiff" 'BEGIN {
  printf "ratio (tongban / SpiffWorkflow), one at a time: %.1fx\n", a / b
  printf "ratio (tongban / SpiffWorkflow), 32 at a time:  %.1fx\n", c / b
}'
