#!/usr/bin/env bash
# Identity store benchmark of idex (issue 3), from a built jar (mvn -B -q -DskipTests package).
#
#   bench/run-identity.sh                       # the full run (about 15 minutes on 2 cores)
#   RECORDS=200000 FILL_RECORDS=0 LOOKUP_DURATION=10 bench/run-identity.sh     # a quick look
#
# 1. On a new embedded store: the raw batched insert rate of the identifier rows of RECORDS event records, then
#    the rate of resolving the same records through IdentityStore (2-3 identifiers each, 30% reusing an earlier
#    person's email), both in transactions of BATCH records, single-threaded, as one account's records are.
# 2. Fills the store with FILL_RECORDS more records (to about 10 million identifiers).
# 3. Starts the server on that store as ./idex does and sends GET /v1/identity?email=… at LOOKUP_RATE per second
#    (open loop) for LOOKUP_WARMUP + LOOKUP_DURATION seconds; reports p50/p99/p99.9 of the measured part.
# Settings (environment): JAR (target/idex.jar) PORT (18081) RECORDS (1000000) BATCH (2000) FILL_RECORDS (3600000)
#   LOOKUP_RATE (1000) LOOKUP_WARMUP (20) LOOKUP_DURATION (60) SERVER_OPTS (-Xmx320m -Xmn64m -XX:+UseSerialGC)
#   CLIENT_OPTS (-Xmx1500m) KEEP (0: 1 keeps the temp dir) OUT (bench/results/identity-<date>.json)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
JAR=${JAR:-$ROOT/target/idex.jar}
PORT=${PORT:-18081}
RECORDS=${RECORDS:-1000000}
BATCH=${BATCH:-2000}
FILL_RECORDS=${FILL_RECORDS:-3600000}
LOOKUP_RATE=${LOOKUP_RATE:-1000}
LOOKUP_WARMUP=${LOOKUP_WARMUP:-20}
LOOKUP_DURATION=${LOOKUP_DURATION:-60}
SERVER_OPTS=${SERVER_OPTS:--Xmx320m -Xmn64m -XX:+UseSerialGC}
CLIENT_OPTS=${CLIENT_OPTS:--Xmx1500m}
KEEP=${KEEP:-0}
OUT=${OUT:-$ROOT/bench/results/identity-$(date -u +%Y%m%dT%H%M%SZ).json}

[ -f "$JAR" ] || { echo "no $JAR: build it first (mvn -B -q -DskipTests package)" >&2; exit 1; }
WORK=$(mktemp -d "${TMPDIR:-/tmp}/idex-identity-bench.XXXXXX")
SERVER_PID=
cleanup() {
    if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    if [ "$KEEP" = 1 ]; then echo "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
bench() { java $CLIENT_OPTS -cp "$JAR" "$ROOT/bench/IdentityBench.java" "$@" 2> >(grep -v ' DEBUG ' >&2); }

echo "== resolve $RECORDS records (raw insert first) =="
bench resolve --dir "$WORK/store" --records "$RECORDS" --batch "$BATCH" --out "$WORK/resolve.json"
if [ "$FILL_RECORDS" -gt 0 ]; then
    echo "== fill: $FILL_RECORDS more records =="
    bench resolve --dir "$WORK/store" --records "$FILL_RECORDS" --batch 5000 --raw false --seed 2 --cache-mb 400 --out "$WORK/fill.json"
fi

echo "== lookups at $LOOKUP_RATE/s =="
java $SERVER_OPTS -jar "$JAR" serve --data-dir "$WORK/store" --port "$PORT" --rotation-schedule off > "$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 240); do
    if curl -fs "http://127.0.0.1:$PORT/ops/healthcheck" >/dev/null 2>&1; then break; fi
    sleep 0.5
done
bench lookup --dir "$WORK/store" --port "$PORT" --rate "$LOOKUP_RATE" --warmup "$LOOKUP_WARMUP" \
    --duration "$LOOKUP_DURATION" --out "$WORK/lookup.json"
RSS=$(awk '/VmHWM/ {print $2}' "/proc/$SERVER_PID/status")

mkdir -p "$(dirname "$OUT")"
python3 - "$WORK" "$RSS" "$OUT" <<'PY'
import json, sys, os
work, rss, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
r = {"resolve": json.load(open(os.path.join(work, "resolve.json"))), "lookup": json.load(open(os.path.join(work, "lookup.json"))),
     "serverPeakRssMb": rss / 1024}
if os.path.exists(os.path.join(work, "fill.json")):
    r["fill"] = json.load(open(os.path.join(work, "fill.json")))
json.dump(r, open(out, "w"), indent=2)
res, look = r["resolve"], r["lookup"]
stored = r.get("fill", res)["storedIdentifiers"]
print(f"raw insert:  {res['rawRowsPerSecond']:,.0f} rows/s")
print(f"resolution:  {res['resolvedIdentifiersPerSecond']:,.0f} identifiers/s = {res['resolvedRecordsPerSecond']:,.0f} records/s"
      f" ({res['resolutionToRaw']:.2f} of raw)")
print(f"lookups:     {look['achievedRate']:,.0f}/s on {stored:,} identifiers: p50 {look['p50ms']:.2f} ms, p99 {look['p99ms']:.2f} ms,"
      f" p99.9 {look['p999ms']:.2f} ms, errors {look['errors']}, not found {look['notFound']}; server peak RSS {rss/1024:.0f} MB")
print(f"results: {out}")
PY
