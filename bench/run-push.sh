#!/usr/bin/env bash
# Push export vs pull export of idex (issue 15), from a built jar (mvn -B -q -DskipTests package).
#
#   bench/run-push.sh                      # 10,000,000 rows (about 1 GB; needs ~8 GB of free disk)
#   ROWS=1000000 bench/run-push.sh         # a quick look
#
# One server, one generated CSV (email, cookieId), the same segment export (email → EMAIL_SHA256, cookieId copied)
# two ways, taking turns REPEAT times (the order swapped every round, so that neither always runs on a warmer VM):
#   pull: upload (streamed) → processing → download of every segment data file (curl, two at a time): ExportBench export
#   push: upload (streamed) → processing → every file delivered by the server to a receiver of the segment API in the
#         bench JVM (two files at a time, as the server sends them), each body streamed to a file named by its
#         webhook-id (SINK=disk) or only counted (SINK=count: data rows counted and CRC32C-summed per file as they
#         arrive, headers checked), answered 204; ends when the job is COMPLETE: ExportBench push
# Every round, the pushed data rows (headers left out) must equal the pulled ones: same header, count, bytes, CRC32C,
# and with SINK=disk the same SHA-256 (ExportBench digest); round 1's pulled files are also checked row by row against
# the upload (VERIFY=0 skips that).
# The server's RSS is sampled every 100 ms. It is warmed up first with WARM_RUNS exports each way of the same file.
# Settings (environment): JAR (target/idex.jar) PORT (18083) ROWS (10000000) WARM_RUNS (1) REPEAT (3) VERIFY (1) SINK (disk)
#   SERVE_ARGS (more options of idex serve, e.g. --delivery-timeout 60s; --delivery-allow-private-networks is always on)
#   SERVER_OPTS (-Xmx320m -Xmn64m -XX:+UseSerialGC) KEEP (0: 1 keeps the temp dir) OUT (bench/results/push-<date>.json)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
JAR=${JAR:-$ROOT/target/idex.jar}
PORT=${PORT:-18083}
ROWS=${ROWS:-10000000}
WARM_RUNS=${WARM_RUNS:-1}
REPEAT=${REPEAT:-3}
VERIFY=${VERIFY:-1}
SINK=${SINK:-disk}
SERVE_ARGS=${SERVE_ARGS:-}
SERVER_OPTS=${SERVER_OPTS:--Xmx320m -Xmn64m -XX:+UseSerialGC}
KEEP=${KEEP:-0}
OUT=${OUT:-$ROOT/bench/results/push-$(date -u +%Y%m%dT%H%M%SZ).json}

[ -f "$JAR" ] || { echo "no $JAR: build it first (mvn -B -q -DskipTests package)" >&2; exit 1; }
WORK=$(mktemp -d "${TMPDIR:-/tmp}/idex-push-bench.XXXXXX")
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

echo "== generate $ROWS rows; load average $(cut -d' ' -f1-3 /proc/loadavg) =="
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
bench generate --file "$WORK/audience.csv" --rows "$ROWS" | tee "$WORK/generate.json"
key=$(java $SERVER_OPTS -jar "$JAR" account create Bench --json --data-dir "$WORK/store" \
    | sed -n 's/.*"key":"\([^"]*\)".*/\1/p')
java $SERVER_OPTS -jar "$JAR" serve --data-dir "$WORK/store" --port "$PORT" --rotation-schedule off \
    --delivery-allow-private-networks $SERVE_ARGS > "$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 240); do
    if curl -fs "http://127.0.0.1:$PORT/ops/healthcheck" >/dev/null 2>&1; then break; fi
    sleep 0.5
done
for _ in $(seq 1 "$WARM_RUNS"); do
    echo "== warm-up: one pull export and one push export of the same file =="
    bench export --file "$WORK/audience.csv" --port "$PORT" --key "$key" --out "$WORK/warm" > /dev/null
    rm -rf "$WORK/warm"
    bench push --file "$WORK/audience.csv" --port "$PORT" --key "$key" --out "$WORK/warm" --sink "$SINK" > /dev/null
    rm -rf "$WORK/warm"
done

pull() {
    echo "== round $1 of $REPEAT: pull export end to end =="
    bench export --file "$WORK/audience.csv" --port "$PORT" --key "$key" --out "$WORK/pulled" --pid "$SERVER_PID" \
        | tee -a "$WORK/pull.jsonl"
}
push() {
    echo "== round $1 of $REPEAT: push export end to end =="
    bench push --file "$WORK/audience.csv" --port "$PORT" --key "$key" --out "$WORK/pushed" --pid "$SERVER_PID" \
        --sink "$SINK" | tee -a "$WORK/push.jsonl"
}
: > "$WORK/pull.jsonl"
: > "$WORK/push.jsonl"
: > "$WORK/check.jsonl"
for i in $(seq 1 "$REPEAT"); do
    if [ $((i % 2)) = 1 ]; then pull "$i"; push "$i"; else push "$i"; pull "$i"; fi
    echo "== round $i: the pushed data rows equal the pulled ones =="
    pulled=$(bench digest --dir "$WORK/pulled")
    pushed=$(if [ "$SINK" = disk ]; then bench digest --dir "$WORK/pushed"; else echo '{}'; fi)
    echo "pulled $pulled"
    echo "pushed $pushed"
    python3 - "$i" "$pulled" "$pushed" "$(tail -1 "$WORK/push.jsonl")" >> "$WORK/check.jsonl" <<'PY'
import json, sys
i, pulled, pushed, run = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3]), json.loads(sys.argv[4])
# what the receiver counted as the files arrived, and (SINK=disk) the digest of the files it stored
seen = {"rows": run["sinkRows"], "dataBytes": run["sinkDataBytes"], "header": run["sinkHeader"], "crc32c": run["sinkCrc32c"]}
if run["sink"] == "disk":
    seen = pushed  # the receiver stored the bodies: the same digest as the pulled files, SHA-256 included
want = {k: pulled[k] for k in seen}
if seen != want or pulled["rows"] != run["rows"] or run["repeatedFiles"] != 0:
    sys.exit(f"round {i}: pushed content {seen} differs from pulled {want} (job rows {run['rows']})")
print(json.dumps({"round": int(i), "equal": True, "compared": seen}))
PY
    if [ "$i" = 1 ] && [ "$VERIFY" = 1 ]; then
        echo "== round 1: the pulled files hold every row, translated, in order =="
        bench verify --file "$WORK/audience.csv" --dir "$WORK/pulled"
    fi
    rm -rf "$WORK/pulled" "$WORK/pushed"
done

mkdir -p "$(dirname "$OUT")"
{
    echo "{\"date\":\"$(date -u +%FT%TZ)\",\"rows\":$ROWS,\"cores\":$(nproc),\"loadavgStart\":\"$LOAD_START\","
    echo "\"loadavgEnd\":\"$(cut -d' ' -f1-3 /proc/loadavg)\",\"serverOpts\":\"$SERVER_OPTS\",\"serveArgs\":\"$SERVE_ARGS\","
    echo "\"java\":\"$(java -version 2>&1 | head -1 | tr -d '"')\",\"pull\":[$(paste -sd, "$WORK/pull.jsonl")],"
    echo "\"push\":[$(paste -sd, "$WORK/push.jsonl")],\"checks\":[$(paste -sd, "$WORK/check.jsonl")]}"
} > "$OUT"
python3 - "$OUT" <<'PY'
import json, statistics, sys
r = json.load(open(sys.argv[1]))
for i, (p, q) in enumerate(zip(r["pull"], r["push"]), 1):
    print(f"round {i}: pull {p['totalSeconds']:.1f} s (upload {p['uploadSeconds']:.1f}, processing after it"
          f" {p['processSeconds']:.1f}, download {p['downloadSeconds']:.1f}); push {q['totalSeconds']:.1f} s (upload"
          f" {q['uploadSeconds']:.1f}, to the first file {q['processSeconds']:.1f}, delivery {q['deliverySeconds']:.1f});"
          f" push/pull {q['rowsPerSecond'] / p['rowsPerSecond']:.2f}; server CPU user+sys pull"
          f" {p['serverUserSeconds']:.1f}+{p['serverSystemSeconds']:.1f} s, push {q['serverUserSeconds']:.1f}+"
          f"{q['serverSystemSeconds']:.1f} s; peak RSS pull {p['serverPeakRssMb']} MB,"
          f" push {q['serverPeakRssMb']} MB")
p = statistics.median(x["rowsPerSecond"] for x in r["pull"])
q = statistics.median(x["rowsPerSecond"] for x in r["push"])
print(f"median pull end to end: {p:,.0f} rows/s; median push end to end: {q:,.0f} rows/s; push/pull {q / p:.2f}"
      f" (goal >= 0.8); peak RSS {max(x['serverPeakRssMb'] for x in r['pull'] + r['push'])} MB;"
      f" content equal in {len(r['checks'])} of {len(r['push'])} rounds; load {r['loadavgStart']} -> {r['loadavgEnd']};"
      f" results in {sys.argv[1]}")
PY
