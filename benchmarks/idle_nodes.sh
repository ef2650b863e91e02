#!/usr/bin/env bash
# A/B of "only the nodes with work" (plugins/main_image/idle_nodes.py) on a task-format warehouse:
# a small run (every hundredth line of each delivery-1 file, same date) on fresh copies of the
# warehouse that `bench.py --size task-100k` leaves, alternately with every node
# (MAIN_IMAGE_ALWAYS_TRANSFORM=1) and with the idle feeds' nodes left out. Prints one line per run
# and checks that each pair's exports are byte-identical.
#
#   python benchmarks/bench.py --size task-100k --skip floor --skip floor_typed --skip no_input
#   bash benchmarks/idle_nodes.sh [pairs] [size]
set -euo pipefail
cd "$(dirname "$0")/.."
pairs=${1:-3}
size=${2:-task-100k}
python=${PYTHON:-.venv/bin/python}
data=benchmarks/data/$size/delivery-01
base=benchmarks/data/work/$size/warehouse.duckdb
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
[ -f "$base" ] || { echo "no $base: run bench.py --size $size first" >&2; exit 2; }
for feed in images image_tags main_images; do
    awk 'NR % 100 == 1' "$data/$feed.jsonl" > "$work/$feed.jsonl"
done
export MAIN_IMAGE_DUCKDB_TEMP_DIR=$work/tmp
# nodes are left out only after a build of the same dbt project: a run without input first
# (it builds, since the project may differ from the one the bench's full run built)
cp "$base" "$work/prepared.duckdb"
MAIN_IMAGE_ALWAYS_TRANSFORM=1 "$python" -m main_image.cli run --warehouse "$work/prepared.duckdb" \
    --run-id prepare --as-of 2024-07-01 --output-cdc "$work/prepare/changes.jsonl" \
    --output-snapshot "$work/prepare/snapshot.jsonl" \
    --output-metrics "$work/prepare/metrics.json" > /dev/null 2> "$work/log-prepare.txt"
base=$work/prepared.duckdb
run() {  # mode pair
    local warehouse=$work/$1-$2.duckdb out=$work/out-$1-$2
    cp "$base" "$warehouse"
    local started ended
    started=$(date +%s.%N)
    if [ "$1" = every ]; then export MAIN_IMAGE_ALWAYS_TRANSFORM=1; else unset MAIN_IMAGE_ALWAYS_TRANSFORM; fi
    "$python" -m main_image.cli run --warehouse "$warehouse" --run-id "small-$1-$2" \
        --as-of 2024-07-01 --output-cdc "$out/changes.jsonl" \
        --output-snapshot "$out/snapshot.jsonl" --output-metrics "$out/metrics.json" \
        --images "$work/images.jsonl" --tags "$work/image_tags.jsonl" \
        --main_images "$work/main_images.jsonl" > /dev/null 2> "$work/log-$1-$2.txt"
    ended=$(date +%s.%N)
    printf '%-6s pair %s: wall %6.1f s; %s\n' "$1" "$2" "$(echo "$ended - $started" | bc)" \
        "$(grep -o '[0-9]* nodes in [0-9.]*s' "$work/log-$1-$2.txt" | tail -1)"
    rm -f "$warehouse" "$warehouse.lock"
}
for pair in $(seq 1 "$pairs"); do
    run every "$pair"
    run idle "$pair"
    for file in changes.jsonl snapshot.jsonl; do
        cmp -s "$work/out-every-$pair/$file" "$work/out-idle-$pair/$file" \
            || { echo "pair $pair: $file differs" >&2; exit 1; }
    done
done
grep -h -o "transform: [0-9]* model.*left out" "$work"/log-idle-1.txt || echo "(no node left out)"
