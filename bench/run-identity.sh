#!/usr/bin/env bash
# Identity store benchmark of idex (issue 3), from a built jar (mvn -B -q -DskipTests package).
#
#   bench/run-identity.sh                       # the full run (about an hour on 2 cores, most of it the fill)
#   RECORDS=200000 FILL_RECORDS=0 LOOKUP_DURATION=10 bench/run-identity.sh     # a quick look
#   FILL=fast SAVE_STORE=/tmp/store-10m bench/run-identity.sh   # 10M identifiers in minutes (IdentityBench fill), kept
#   STORE=/tmp/store-10m RECORDS=0 bench/run-identity.sh         # lookups only, on a copy of a kept store
#   DB_URL=jdbc:postgresql://… RECORDS=0 FILL_RECORDS=4600000 FILL=fast bench/run-identity.sh   # on PostgreSQL (empty db)
#
# 1. On a new embedded store: the raw batched insert rate of the identifier rows of RECORDS event records, then
#    the rate of resolving the same records through IdentityStore (2-3 identifiers each, 30% reusing an earlier
#    person's email), both in transactions of BATCH records, single-threaded, as one account's records are.
# 2. Fills the store with FILL_RECORDS more records by resolution (to about 10 million identifiers); or, with
#    FILL=fast, fills a new store with the rows of RECORDS + FILL_RECORDS records inserted directly in key order,
#    which takes minutes but leaves a compact file where resolution leaves a fragmented one (BENCHMARKS.md).
#    SAVE_STORE=DIR copies the filled store there; STORE=DIR skips 1 and 2 and runs the lookups on a copy of DIR.
# 3. Starts the server on that store as ./idex does and sends GET /v1/identity?email=… at LOOKUP_RATE per second
#    (open loop) for LOOKUP_WARMUP + LOOKUP_DURATION seconds; reports p50/p99/p99.9 of the measured part, and the
#    server's allocation, collections and CPU over it.
# Settings (environment): JAR (target/idex.jar) PORT (18081) RECORDS (1000000) BATCH (2000) FILL_RECORDS (3600000)
#   FILL (resolve) SAVE_STORE STORE DB_URL LOOKUP_RATE (1000) LOOKUP_WARMUP (20) LOOKUP_DURATION (60)
#   SERVER_OPTS (-Xmx320m -Xmn64m -XX:+UseSerialGC) CLIENT_OPTS (-Xmx1500m) FILL_OPTS (-Xmx3g)
#   KEEP (0: 1 keeps the temp dir) OUT (bench/results/identity-<date>.json)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
JAR=${JAR:-$ROOT/target/idex.jar}
PORT=${PORT:-18081}
RECORDS=${RECORDS:-1000000}
BATCH=${BATCH:-2000}
FILL_RECORDS=${FILL_RECORDS:-3600000}
FILL=${FILL:-resolve}
SAVE_STORE=${SAVE_STORE:-}
STORE=${STORE:-}
DB_URL=${DB_URL:-}
DB=()
if [ -n "$DB_URL" ]; then DB=(--db-url "$DB_URL"); fi
LOOKUP_RATE=${LOOKUP_RATE:-1000}
LOOKUP_WARMUP=${LOOKUP_WARMUP:-20}
LOOKUP_DURATION=${LOOKUP_DURATION:-60}
SERVER_OPTS=${SERVER_OPTS:--Xmx320m -Xmn64m -XX:+UseSerialGC}
CLIENT_OPTS=${CLIENT_OPTS:--Xmx1500m}
FILL_OPTS=${FILL_OPTS:--Xmx3g}
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

if [ -n "$STORE" ]; then
    echo "== store: a copy of $STORE =="
    cp -r "$STORE" "$WORK/store"
else
    if [ "$RECORDS" -gt 0 ]; then
        echo "== resolve $RECORDS records (raw insert first) =="
        bench resolve --dir "$WORK/resolved" --records "$RECORDS" --batch "$BATCH" "${DB[@]}" --out "$WORK/resolve.json"
    fi
    if [ "$FILL" = fast ]; then
        echo "== fill: a new store with the rows of $((RECORDS + FILL_RECORDS)) records, in key order =="
        rm -rf "$WORK/resolved"
        java $FILL_OPTS -cp "$JAR" "$ROOT/bench/IdentityBench.java" fill --dir "$WORK/store" \
            --records "$((RECORDS + FILL_RECORDS))" --cache-mb 512 "${DB[@]}" 2> >(grep -v ' DEBUG ' >&2)
    else
        [ -d "$WORK/resolved" ] || { echo "nothing to look up: set RECORDS, FILL=fast or STORE" >&2; exit 1; }
        mv "$WORK/resolved" "$WORK/store"
        if [ "$FILL_RECORDS" -gt 0 ]; then
            echo "== fill: $FILL_RECORDS more records =="
            bench resolve --dir "$WORK/store" --records "$FILL_RECORDS" --batch 5000 --raw false --seed 2 --cache-mb 400 --out "$WORK/fill.json"
        fi
    fi
    if [ -n "$SAVE_STORE" ]; then
        rm -rf "$SAVE_STORE" && cp -r "$WORK/store" "$SAVE_STORE" && echo "saved the store in $SAVE_STORE"
    fi
fi

echo "== lookups at $LOOKUP_RATE/s =="
java $SERVER_OPTS -jar "$JAR" serve --data-dir "$WORK/store" "${DB[@]}" --port "$PORT" --rotation-schedule off > "$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 240); do
    if curl -fs "http://127.0.0.1:$PORT/ops/healthcheck" >/dev/null 2>&1; then break; fi
    sleep 0.5
done
bench lookup --dir "$WORK/store" --port "$PORT" --rate "$LOOKUP_RATE" --warmup "$LOOKUP_WARMUP" \
    --duration "$LOOKUP_DURATION" --server-pid "$SERVER_PID" --out "$WORK/lookup.json"
RSS=$(awk '/VmHWM/ {print $2}' "/proc/$SERVER_PID/status")

mkdir -p "$(dirname "$OUT")"
STORED=$(cat "$WORK/store/bench-stored.txt" 2>/dev/null || echo '?')
python3 - "$WORK" "$RSS" "$OUT" "$STORED" <<'PY'
import json, sys, os
work, rss, out, stored = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
def load(name):
    f = os.path.join(work, name)
    return json.load(open(f)) if os.path.exists(f) else None
r = {"lookup": load("lookup.json"), "serverPeakRssMb": rss / 1024}
for k, f in (("resolve", "resolve.json"), ("fill", "fill.json")):
    if load(f):
        r[k] = load(f)
res, look = r.get("resolve"), r["lookup"]
if res and "rawRowsPerSecond" in res:
    print(f"raw insert:  {res['rawRowsPerSecond']:,.0f} rows/s")
    print(f"resolution:  {res['resolvedIdentifiersPerSecond']:,.0f} identifiers/s = {res['resolvedRecordsPerSecond']:,.0f} records/s"
          f" ({res['resolutionToRaw']:.2f} of raw)")
r["storedIdentifiers"] = stored
json.dump(r, open(out, "w"), indent=2)
print(f"lookups:     {look['achievedRate']:,.0f}/s on {stored} identifiers: p50 {look['p50ms']:.2f} ms, p99 {look['p99ms']:.2f} ms,"
      f" p99.9 {look['p999ms']:.2f} ms, errors {look['errors']}, not found {look['notFound']}; server peak RSS {rss/1024:.0f} MB")
if "youngGcs" in look:
    print(f"server:      {look.get('serverAllocatedKbPerRequest', float('nan')):,.1f} KB allocated a request"
          f" ({look.get('serverAllocatedMbPerSecond', float('nan')):,.0f} MB/s), {look['youngGcs']:.0f} young collections"
          f" (mean {look['youngGcMeanMs']:.1f} ms), {look['fullGcs']:.0f} full ({look['fullGcSeconds']:.2f} s),"
          f" CPU {look['serverCpuMsPerRequest']:.3f} ms a request, over {look['serverSeconds']:.0f} s")
print(f"results: {out}")
PY
