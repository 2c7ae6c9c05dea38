#!/usr/bin/env bash
# A real Spark cluster on this machine: starts a standalone master and two workers on
# 127.0.0.1, submits spark/feeds.py on the default world, checks that the feeds equal
# `feedrank generate` (sorted lines), and stops the cluster it started (also on error).
#
#   spark/standalone.sh [--mode partitioned|shard] [--partitions N]
#
# Environment: FEEDRANK_SPARK_SUBMIT (default: spark-submit on PATH, else the venv of .ci/run),
# FEEDRANK_BIN (default: target/release/feedrank), SPARK_MASTER_PORT (7077),
# SPARK_MASTER_WEBUI_PORT (18080; workers use the next two), FEEDRANK_SPARK_KEEP=1 keeps the
# temporary directory (logs, output).
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
mode=partitioned
partitions=4
while [ $# -gt 0 ]; do
    case "$1" in
        --mode) mode=$2; shift 2 ;;
        --partitions) partitions=$2; shift 2 ;;
        *) echo "usage: $0 [--mode partitioned|shard] [--partitions N]" >&2; exit 2 ;;
    esac
done

venv_submit="${FEEDRANK_SPARK_VENV:-$HOME/.cache/feedrank/spark-venv}/bin/spark-submit"
submit=${FEEDRANK_SPARK_SUBMIT:-$(command -v spark-submit || echo "$venv_submit")}
[ -x "$submit" ] || { echo "error: no spark-submit ($submit); run .ci/run or set FEEDRANK_SPARK_SUBMIT" >&2; exit 1; }
bin=${FEEDRANK_BIN:-$repo/target/release/feedrank}
[ -x "$bin" ] || { echo "error: no feedrank binary at $bin; run cargo build --release or set FEEDRANK_BIN" >&2; exit 1; }
spark_home=$(dirname "$(readlink -f "$submit")")/..
if [ ! -x "$spark_home/bin/spark-class" ]; then
    # a pip install: spark-submit is a wrapper in the venv's bin; Spark lives in the package
    python=$(dirname "$submit")/python3
    spark_home=$("$python" -c 'import os, pyspark; print(os.path.dirname(pyspark.__file__))')
fi
[ -x "$spark_home/bin/spark-class" ] || { echo "error: no bin/spark-class under $spark_home" >&2; exit 1; }
if [ -x "$(dirname "$submit")/python3" ]; then
    export PYSPARK_PYTHON=${PYSPARK_PYTHON:-$(dirname "$submit")/python3}
fi

port=${SPARK_MASTER_PORT:-7077}
ui=${SPARK_MASTER_WEBUI_PORT:-18080}
master="spark://127.0.0.1:$port"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/feedrank-standalone.XXXXXX")
export SPARK_LOCAL_IP=127.0.0.1
export SPARK_LOCAL_DIRS=$tmp/local
export SPARK_WORKER_DIR=$tmp/work
mkdir -p "$SPARK_LOCAL_DIRS" "$SPARK_WORKER_DIR"
pids=()

cleanup() {
    local status=$?
    for pid in "${pids[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${pids[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    if [ "${FEEDRANK_SPARK_KEEP:-0}" = 1 ] || [ $status -ne 0 ]; then
        echo "logs and output kept in $tmp"
    else
        rm -rf "$tmp"
    fi
    echo "cluster stopped (${#pids[@]} processes)"
    exit $status
}
trap cleanup EXIT INT TERM

# Waits until `file` contains `pattern` (the daemon logs it once ready).
wait_for() {
    local file=$1 pattern=$2 what=$3
    for _ in $(seq 1 120); do
        grep -q "$pattern" "$file" 2>/dev/null && return 0
        sleep 1
    done
    echo "error: $what did not start; its log:" >&2
    tail -20 "$file" >&2
    return 1
}

echo "starting the master at $master (web UI 127.0.0.1:$ui)"
"$spark_home/bin/spark-class" org.apache.spark.deploy.master.Master \
    --host 127.0.0.1 --port "$port" --webui-port "$ui" >"$tmp/master.log" 2>&1 &
pids+=($!)
wait_for "$tmp/master.log" "I have been elected leader" "the master"
for i in 1 2; do
    echo "starting worker $i (1 core, 2 GiB)"
    "$spark_home/bin/spark-class" org.apache.spark.deploy.worker.Worker \
        --host 127.0.0.1 --cores 1 --memory 2g --webui-port $((ui + i)) \
        --work-dir "$SPARK_WORKER_DIR/worker$i" "$master" >"$tmp/worker$i.log" 2>&1 &
    pids+=($!)
done
for i in 1 2; do
    wait_for "$tmp/worker$i.log" "Successfully registered with master" "worker $i"
done

world=$repo/graph_data/sample
model=$repo/models/sample.frm
out=$tmp/out
echo "submitting spark/feeds.py --mode $mode --partitions $partitions to $master"
start=$(date +%s)
"$submit" --master "$master" \
    --conf spark.driver.bindAddress=127.0.0.1 --conf spark.driver.host=127.0.0.1 \
    --conf spark.ui.enabled=false --conf spark.task.maxFailures=2 \
    "$repo/spark/feeds.py" --world "$world" --model "$model" --out "$out" \
    --partitions "$partitions" --mode "$mode" --bin "$bin" >"$tmp/submit.log" 2>&1 ||
    { echo "error: spark-submit failed; the end of its log:" >&2; tail -40 "$tmp/submit.log" >&2; exit 1; }
echo "job finished in $(( $(date +%s) - start )) s"
grep -h "feeds.py:" "$tmp/submit.log" || true
executors=$(find "$SPARK_WORKER_DIR" -mindepth 2 -maxdepth 2 -type d | wc -l)
echo "executors launched by the workers: $executors"

"$bin" generate --world "$world" --model "$model" --out - 2>/dev/null | sort >"$tmp/reference.sorted"
cat "$out"/feeds/part-* | sort >"$tmp/spark.sorted"
lines=$(wc -l <"$tmp/reference.sorted")
if cmp -s "$tmp/reference.sorted" "$tmp/spark.sorted"; then
    echo "OK: the cluster's $lines feed lines are identical to feedrank generate's (sorted)"
else
    echo "MISMATCH: $(comm -23 "$tmp/reference.sorted" "$tmp/spark.sorted" | wc -l) lines missing," \
        "$(comm -13 "$tmp/reference.sorted" "$tmp/spark.sorted" | wc -l) extra" >&2
    exit 1
fi
[ -f "$out/_SUCCESS" ] || { echo "error: no _SUCCESS" >&2; exit 1; }
python3 -c 'import json,sys; m=json.load(open(sys.argv[1])); print("partitions:", [(p["partition"], p["viewers"], p["events"]) for p in m["partitions"]], "(partition, viewers, events)")' "$out/_metrics.json"
