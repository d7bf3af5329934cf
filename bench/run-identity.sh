#!/usr/bin/env bash
# Identity store benchmark of idex (issues 3 and 11), from a built jar (mvn -B -q -DskipTests package).
#
#   bench/run-identity.sh                       # the full run (about an hour on 2 cores, most of it the fill)
#   RECORDS=200000 FILL_RECORDS=0 LOOKUP_DURATION=10 CHURN_REQUESTS=20000 bench/run-identity.sh   # a quick look
#   SAVE_STORE=/tmp/store-10m bench/run-identity.sh   # the same, keeping a copy of the filled store (before lookups)
#   FILL=fast SAVE_STORE=/tmp/store-10m bench/run-identity.sh   # 10M identifiers in minutes (IdentityBench fill), kept
#   STORE=/tmp/store-10m RECORDS=0 bench/run-identity.sh         # lookups (and churn) only, on a copy of a kept store
#   DB_URL=jdbc:postgresql://… RECORDS=0 FILL_RECORDS=4600000 FILL=fast bench/run-identity.sh   # an external PostgreSQL
#
# The store is the embedded PostgreSQL (a data dir with the cluster in postgres/), as `idex serve` runs it.
# 1. On a new store: the raw batched insert rate of the identifier rows of RECORDS event records, then
#    the rate of resolving the same records through IdentityStore (2-3 identifiers each, 30% reusing an earlier
#    person's email), both in transactions of BATCH records, single-threaded, as one account's records are.
# 2. Fills the store with FILL_RECORDS more records by resolution (to about 10 million identifiers); or, with
#    FILL=fast, fills a new store with the rows of RECORDS + FILL_RECORDS records inserted directly in key order
#    (minutes, but its disk figures are not those of a store resolution filled).
#    Disk bytes per identifier after 1 and after 2 (IdentityBench disk: du of the cluster with and without pg_wal,
#    pg_database_size, table and index sizes).
#    SAVE_STORE=DIR copies the filled store there (cp -a of the stopped data dir); STORE=DIR skips 1 and 2 and runs
#    the rest on a copy of DIR.
# 3. Starts the server on that store as ./idex does and sends GET /v1/identity?email=… at LOOKUP_RATE per second
#    (open loop) for LOOKUP_WARMUP + LOOKUP_DURATION seconds; reports p50/p99/p99.9 of the measured part, and the
#    server's allocation, collections and CPU over it.
# 4. A day's churn on the same server (CHURN_REQUESTS single-event POST /v1/event, 1% deletes, a filter change
#    every 2,000: IdentityBench churn), then disk bytes per identifier at once and again after CHURN_SETTLE seconds
#    (autovacuum's turn); VACUUM_AFTER=1 then runs VACUUM and measures once more (reported as such).
# Settings (environment): JAR (target/idex.jar) PORT (18081) RECORDS (1000000) BATCH (2000) FILL_RECORDS (3600000)
#   FILL (resolve) SAVE_STORE STORE DB_URL LOOKUP_RATE (1000) LOOKUP_WARMUP (20) LOOKUP_DURATION (60)
#   CHURN_REQUESTS (200000: 0 skips 4) CHURN_CONNECTIONS (8) CHURN_MAX_SECONDS (1800: stops the churn early)
#   CHURN_SETTLE (180) VACUUM_AFTER (0)
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
CHURN_REQUESTS=${CHURN_REQUESTS:-200000}
CHURN_CONNECTIONS=${CHURN_CONNECTIONS:-8}
CHURN_SETTLE=${CHURN_SETTLE:-180}
CHURN_MAX_SECONDS=${CHURN_MAX_SECONDS:-1800}
VACUUM_AFTER=${VACUUM_AFTER:-0}
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
    for d in "$WORK"/*/; do # a cluster left running (an interrupted step): stop it, not leave it orphaned
        if [ -f "$d/postgres/postmaster.pid" ]; then bench stop-store --dir "$d" || true; fi
    done
    if [ "$KEEP" = 1 ]; then echo "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
bench() { java $CLIENT_OPTS -cp "$JAR" "$ROOT/bench/IdentityBench.java" "$@" 2> >(grep -v ' DEBUG ' >&2); }

if [ -n "$STORE" ]; then
    echo "== store: a copy of $STORE =="
    cp -a "$STORE" "$WORK/store"   # a stopped data dir (no server on it) copies as it is
    # The copy leaves gigabytes of dirty pages; their write-back stalled the server's reads and commits for seconds
    # in the middle of the measured minute (p99 1.7 s). Written out before the server starts, they cannot.
    sync
else
    if [ "$RECORDS" -gt 0 ]; then
        echo "== resolve $RECORDS records (raw insert first) =="
        bench resolve --dir "$WORK/resolved" --records "$RECORDS" --batch "$BATCH" "${DB[@]}" --out "$WORK/resolve.json"
        [ -n "$DB_URL" ] || bench disk --dir "$WORK/resolved" --label "after resolving $RECORDS records" --out "$WORK/disk-resolved.json"
    fi
    if [ "$FILL" = fast ]; then
        echo "== fill: a new store with the rows of $((RECORDS + FILL_RECORDS)) records, in key order =="
        rm -rf "$WORK/resolved"
        java $FILL_OPTS -cp "$JAR" "$ROOT/bench/IdentityBench.java" fill --dir "$WORK/store" \
            --records "$((RECORDS + FILL_RECORDS))" "${DB[@]}" 2> >(grep -v ' DEBUG ' >&2)
    else
        [ -d "$WORK/resolved" ] || { echo "nothing to look up: set RECORDS, FILL=fast or STORE" >&2; exit 1; }
        mv "$WORK/resolved" "$WORK/store"
        if [ "$FILL_RECORDS" -gt 0 ]; then
            echo "== fill: $FILL_RECORDS more records =="
            bench resolve --dir "$WORK/store" --records "$FILL_RECORDS" --batch 5000 --raw false --seed 2 --out "$WORK/fill.json"
        fi
    fi
    [ -n "$DB_URL" ] || bench disk --dir "$WORK/store" --label "filled ($FILL)" --out "$WORK/disk-filled.json"
    if [ -n "$SAVE_STORE" ]; then
        rm -rf "$SAVE_STORE" && cp -a "$WORK/store" "$SAVE_STORE" && echo "saved the store in $SAVE_STORE"
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
if [ "$CHURN_REQUESTS" -gt 0 ] && [ -z "$DB_URL" ]; then
    echo "== churn: $CHURN_REQUESTS requests =="
    bench churn --dir "$WORK/store" --port "$PORT" --requests "$CHURN_REQUESTS" --connections "$CHURN_CONNECTIONS" \
        --max-seconds "$CHURN_MAX_SECONDS" --out "$WORK/churn.json"
    bench disk --dir "$WORK/store" --label "right after the churn" --out "$WORK/disk-churn.json"
    echo "(waiting $CHURN_SETTLE s: autovacuum's turn)"
    sleep "$CHURN_SETTLE"
    bench disk --dir "$WORK/store" --label "$CHURN_SETTLE s after the churn" --out "$WORK/disk-churn-settled.json"
    if [ "$VACUUM_AFTER" = 1 ]; then
        bench disk --dir "$WORK/store" --label "after VACUUM" --sql VACUUM --checkpoint true --out "$WORK/disk-vacuum.json"
    fi
fi
kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=

mkdir -p "$(dirname "$OUT")"
STORED=$(cat "$WORK/store/bench-stored.txt" 2>/dev/null || echo '?')
python3 - "$WORK" "$RSS" "$OUT" "$STORED" <<'PY'
import json, sys, os
work, rss, out, stored = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
def load(name):
    f = os.path.join(work, name)
    return json.load(open(f)) if os.path.exists(f) else None
r = {"lookup": load("lookup.json"), "serverPeakRssMb": rss / 1024}
for k, f in (("resolve", "resolve.json"), ("fill", "fill.json"), ("churn", "churn.json"),
             ("diskResolved", "disk-resolved.json"), ("diskFilled", "disk-filled.json"), ("diskChurn", "disk-churn.json"),
             ("diskChurnSettled", "disk-churn-settled.json"), ("diskVacuum", "disk-vacuum.json")):
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
for k in ("diskResolved", "diskFilled", "diskChurn", "diskChurnSettled", "diskVacuum"):
    d = r.get(k)
    if d:
        print(f"disk, {d['label']}: {d['identifiers']:,} identifiers; {d['bytesPerIdentifierIdentityTables']:,.0f} B/identifier"
              f" (identity tables with indexes), {d['bytesPerIdentifierCluster']:,.0f} B/identifier"
              f" (cluster), {d['bytesPerIdentifierClusterWithoutWal']:,.0f} without pg_wal, {d['bytesPerIdentifierDatabase']:,.0f}"
              f" pg_database_size")
if r.get("churn"):
    c = r["churn"]
    print(f"churn:       {c['requests']:,} requests at {c['requestsPerSecond']:,.0f}/s, p99 {c['p99ms']:.1f} ms, errors {c['errors']}")
print(f"results: {out}")
PY
