#!/usr/bin/env bash
# Segment export benchmark of idex (issue 4), from a built jar (mvn -B -q -DskipTests package).
#
#   bench/run-export.sh                    # 10,000,000 rows (about 1 GB; needs ~5 GB of free disk)
#   ROWS=1000000 bench/run-export.sh       # a quick look
#
# 1. Generates a CSV of ROWS rows with two identifiers (email, cookieId).
# 2. Baseline: FastCSV parses it and writes every record to a new file (the floor of any CSV pipeline).
# 3. Starts the server as ./idex does, warms it up with WARM_RUNS exports of WARM_ROWS rows (by default one export of
#    the same file: a server runs for long, and the measured export should not pay for compiling the code it runs —
#    the JIT compiles the per-chunk HTTP code fully only after some 10^4 chunks), then runs the export end to end: upload
#    (streamed), processing with email → EMAIL_SHA256 and cookieId copied (while the upload arrives, as the server
#    does by default), download of every segment data file; samples the server's RSS.
# 4. Repeats baseline and export REPEAT times, taking turns, and compares the medians; the files of the first export
#    are checked row by row against the upload (VERIFY=0 skips that).
# Settings (environment): JAR (target/idex.jar) PORT (18082) ROWS (10000000) WARM_ROWS (ROWS) WARM_RUNS (1) REPEAT (3)
#   SERVE_ARGS (more options of idex serve, e.g. --no-follow-uploads)
#   SERVER_OPTS (-Xmx320m -Xmn64m -XX:+UseSerialGC) KEEP (0: 1 keeps the temp dir) OUT (bench/results/export-<date>.json)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
JAR=${JAR:-$ROOT/target/idex.jar}
PORT=${PORT:-18082}
ROWS=${ROWS:-10000000}
WARM_ROWS=${WARM_ROWS:-$ROWS}
WARM_RUNS=${WARM_RUNS:-1}
REPEAT=${REPEAT:-3}
VERIFY=${VERIFY:-1}
SERVE_ARGS=${SERVE_ARGS:-}
SERVER_OPTS=${SERVER_OPTS:--Xmx320m -Xmn64m -XX:+UseSerialGC}
KEEP=${KEEP:-0}
OUT=${OUT:-$ROOT/bench/results/export-$(date -u +%Y%m%dT%H%M%SZ).json}

[ -f "$JAR" ] || { echo "no $JAR: build it first (mvn -B -q -DskipTests package)" >&2; exit 1; }
WORK=$(mktemp -d "${TMPDIR:-/tmp}/idex-export-bench.XXXXXX")
SERVER_PID=
cleanup() {
    if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    if [ "$KEEP" = 1 ]; then echo "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
bench() { java -Xmx1g -cp "$JAR" "$ROOT/bench/ExportBench.java" "$@"; }

echo "== generate $ROWS rows =="
bench generate --file "$WORK/audience.csv" --rows "$ROWS" | tee "$WORK/generate.json"
key=$(java $SERVER_OPTS -jar "$JAR" account create Bench --json --data-dir "$WORK/store" \
    | sed -n 's/.*"key":"\([^"]*\)".*/\1/p')
java $SERVER_OPTS -jar "$JAR" serve --data-dir "$WORK/store" --port "$PORT" --rotation-schedule off $SERVE_ARGS > "$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 240); do
    if curl -fs "http://127.0.0.1:$PORT/ops/healthcheck" >/dev/null 2>&1; then break; fi
    sleep 0.5
done
if [ "$WARM_ROWS" -gt 0 ] && [ "$WARM_RUNS" -gt 0 ]; then
    echo "== warm-up: $WARM_RUNS exports of $WARM_ROWS rows =="
    warm="$WORK/audience.csv" # the same file by default: a second job of the same size
    if [ "$WARM_ROWS" != "$ROWS" ]; then
        warm="$WORK/warm.csv"
        bench generate --file "$warm" --rows "$WARM_ROWS" --seed 2 > /dev/null
    fi
    for _ in $(seq 1 "$WARM_RUNS"); do
        bench export --file "$warm" --port "$PORT" --key "$key" --out "$WORK/warm" > /dev/null
        rm -rf "$WORK/warm"
    done
    rm -f "$WORK/warm.csv"
fi
# Baseline and export take turns, REPEAT times: this VM's speed drifts by ±20 % from one minute to the next (more
# for writes that need fresh memory from the host), so the medians of interleaved runs are compared.
: > "$WORK/baseline.jsonl"
: > "$WORK/export.jsonl"
for i in $(seq 1 "$REPEAT"); do
    echo "== round $i of $REPEAT: baseline (FastCSV parse + write) =="
    bench baseline --file "$WORK/audience.csv" --out "$WORK/baseline" | tee -a "$WORK/baseline.jsonl"
    echo "== round $i of $REPEAT: export end to end =="
    bench export --file "$WORK/audience.csv" --port "$PORT" --key "$key" --out "$WORK/download" --pid "$SERVER_PID" \
        | tee -a "$WORK/export.jsonl"
    if [ "$i" = 1 ] && [ "$VERIFY" = 1 ]; then
        echo "== round 1: the downloaded files hold every row, translated, in order =="
        bench verify --file "$WORK/audience.csv" --dir "$WORK/download"
    fi
    rm -rf "$WORK/download"
done

mkdir -p "$(dirname "$OUT")"
{
    echo "{\"date\":\"$(date -u +%FT%TZ)\",\"rows\":$ROWS,\"cores\":$(nproc),\"loadavg\":\"$(cut -d' ' -f1-3 /proc/loadavg)\","
    echo "\"serverOpts\":\"$SERVER_OPTS\",\"serveArgs\":\"$SERVE_ARGS\",\"java\":\"$(java -version 2>&1 | head -1 | tr -d '"')\","
    echo "\"baseline\":[$(paste -sd, "$WORK/baseline.jsonl")],\"export\":[$(paste -sd, "$WORK/export.jsonl")]}"
} > "$OUT"
python3 - "$OUT" <<'PY'
import json, statistics, sys
r = json.load(open(sys.argv[1]))
for i, (b, e) in enumerate(zip(r["baseline"], r["export"]), 1):
    print(f"round {i}: baseline {b['seconds']:.1f} s; export {e['totalSeconds']:.1f} s (upload {e['uploadSeconds']:.1f},"
          f" processing after it {e['processSeconds']:.1f}, download {e['downloadSeconds']:.1f}); ratio"
          f" {e['rowsPerSecond'] / b['rowsPerSecond']:.2f}; server peak RSS {e['serverPeakRssMb']} MB")
b = statistics.median(x["rowsPerSecond"] for x in r["baseline"])
e = statistics.median(x["rowsPerSecond"] for x in r["export"])
print(f"median baseline FastCSV parse+write: {b:,.0f} rows/s; median export end to end: {e:,.0f} rows/s;"
      f" ratio {e / b:.2f}; peak RSS {max(x['serverPeakRssMb'] for x in r['export'])} MB; results in {sys.argv[1]}")
PY
