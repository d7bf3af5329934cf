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
# Settings (environment): JAR (target/idex.jar) PORT (18082) ROWS (10000000) WARM_ROWS (ROWS) WARM_RUNS (1)
#   SERVE_ARGS (more options of idex serve, e.g. --no-follow-uploads)
#   SERVER_OPTS (-Xmx320m -Xmn64m -XX:+UseSerialGC) KEEP (0: 1 keeps the temp dir) OUT (bench/results/export-<date>.json)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
JAR=${JAR:-$ROOT/target/idex.jar}
PORT=${PORT:-18082}
ROWS=${ROWS:-10000000}
WARM_ROWS=${WARM_ROWS:-$ROWS}
WARM_RUNS=${WARM_RUNS:-1}
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
echo "== baseline: FastCSV parse + write =="
bench baseline --file "$WORK/audience.csv" --out "$WORK/baseline" | tee "$WORK/baseline.json"

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
echo "== export end to end =="
bench export --file "$WORK/audience.csv" --port "$PORT" --key "$key" --out "$WORK/download" --pid "$SERVER_PID" \
    | tee "$WORK/export.json"

mkdir -p "$(dirname "$OUT")"
{
    echo "{\"date\":\"$(date -u +%FT%TZ)\",\"rows\":$ROWS,\"cores\":$(nproc),\"loadavg\":\"$(cut -d' ' -f1-3 /proc/loadavg)\","
    echo "\"serverOpts\":\"$SERVER_OPTS\",\"java\":\"$(java -version 2>&1 | head -1 | tr -d '"')\","
    echo "\"baseline\":$(cat "$WORK/baseline.json"),\"export\":$(cat "$WORK/export.json")}"
} > "$OUT"
python3 - "$OUT" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
b, e = r["baseline"], r["export"]
print(f"baseline FastCSV parse+write: {b['rowsPerSecond']:,.0f} rows/s ({b['seconds']:.1f} s)")
print(f"export end to end: {e['rowsPerSecond']:,.0f} rows/s ({e['totalSeconds']:.1f} s: upload {e['uploadSeconds']:.1f},"
      f" processing {e['processSeconds']:.1f}, download {e['downloadSeconds']:.1f}); ratio {e['rowsPerSecond']/b['rowsPerSecond']:.2f}")
print(f"server peak RSS {e['serverPeakRssMb']} MB; results in {sys.argv[1]}")
PY
