#!/usr/bin/env bash
# Compare, on one machine and one disk, the same 3-step approval workflow
# (create, then 承办 → 审核 → 批准) in tongban's engine and in SpiffWorkflow.
# Each instance is 1 create + 3 steps = 4 durable writes to SQLite (WAL, synchronous=FULL,
# one commit per write). Throughput is instances/s; the ratio is tongban / SpiffWorkflow.
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

ours="$(target/release/tongban bench engine --instances "$N" --database-url "sqlite://$DATA/engine.db")"
ours="$(grep '^engine:' <<<"$ours")"
echo "$ours"
spiff="$("$VENV/bin/python" bench/spiff_approval.py --instances "$N" --db "$DATA/spiff.db")"
echo "$spiff"

r_ours="$(rate "$ours")"
r_spiff="$(rate "$spiff")"
[ -n "$r_ours" ] && [ -n "$r_spiff" ] || { echo "could not parse a rate" >&2; exit 1; }
awk -v a="$r_ours" -v b="$r_spiff" 'BEGIN { printf "ratio (tongban / SpiffWorkflow): %.1fx\n", a / b }'
