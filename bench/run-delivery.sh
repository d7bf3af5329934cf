#!/usr/bin/env bash
# Event delivery benchmark of idex (issue 14), from a built jar (mvn -B -q -DskipTests package; built here if missing).
#
#   bench/run-delivery.sh                                # the full run (about 5 minutes on 2 cores)
#   DURATION=10 PENDING=100000 bench/run-delivery.sh     # a quick look
#
# Starts `idex serve` on a fresh data dir (with --delivery-allow-private-networks: the receivers are on loopback)
# and runs bench/DeliveryBench.java against it: 1. the accepted events/s with no subscription; 2. latency from the
# 200 to a fast receiver at RATE events/s; 3. the most events/s that reach the fast receiver; 4. 2 again with a
# dead destination (never answers) subscribed to the same events; 5. the server's heap while PENDING deliveries for
# a dead destination (a closed port) accumulate. See BENCHMARKS.md, "Event delivery".
# Settings (environment): JAR (target/idex.jar) PORT (18083) CLIENTS (8) WARMUP (30: the JIT warm) DURATION (15) RATE (1000)
#   BATCH (1: events per request; phases 1-4) PENDING (1000000) PHASES (1,2,3,4,5) SERVE_ARGS (more options of idex serve)
#   SERVER_OPTS (-Xmx320m -Xmn64m -XX:+UseSerialGC) KEEP (0: 1 keeps the temp dir) OUT (bench/results/delivery-<date>.json)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
JAR=${JAR:-$ROOT/target/idex.jar}
PORT=${PORT:-18083}
CLIENTS=${CLIENTS:-8}
WARMUP=${WARMUP:-30}
DURATION=${DURATION:-15}
RATE=${RATE:-1000}
BATCH=${BATCH:-1}
PENDING=${PENDING:-1000000}
PHASES=${PHASES:-1,2,3,4,5}
SERVE_ARGS=${SERVE_ARGS:-}
SERVER_OPTS=${SERVER_OPTS:--Xmx320m -Xmn64m -XX:+UseSerialGC}
KEEP=${KEEP:-0}
OUT=${OUT:-$ROOT/bench/results/delivery-$(date -u +%Y%m%dT%H%M%SZ).json}

if [ ! -f "$JAR" ]; then (cd "$ROOT" && mvn -B -ntp -q -DskipTests package); fi
WORK=$(mktemp -d "${TMPDIR:-/tmp}/idex-delivery-bench.XXXXXX")
SERVER_PID=
cleanup() {
    if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    if [ "$KEEP" = 1 ]; then echo "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

key=$(java $SERVER_OPTS -jar "$JAR" account create Bench --json --data-dir "$WORK/store" \
    | sed -n 's/.*"key":"\([^"]*\)".*/\1/p')
# Attempts to the dead destinations time out after 5 s; the closed port's deliveries stay pending for hours.
java $SERVER_OPTS -jar "$JAR" serve --data-dir "$WORK/store" --port "$PORT" --rotation-schedule off \
    --delivery-allow-private-networks --delivery-timeout 5s --delivery-retry-schedule 1s,10s,1m,10m,1h,5h $SERVE_ARGS \
    > "$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 240); do
    if curl -fs "http://127.0.0.1:$PORT/ops/healthcheck" >/dev/null 2>&1; then break; fi
    sleep 0.5
done
mkdir -p "$(dirname "$OUT")"
java -Xmx1g -cp "$JAR" "$ROOT/bench/DeliveryBench.java" --port "$PORT" --key "$key" --clients "$CLIENTS" \
    --warmup "$WARMUP" --duration "$DURATION" --rate "$RATE" --batch "$BATCH" --pending "$PENDING" --phases "$PHASES" \
    --server-pid "$SERVER_PID" > "$OUT"
echo "server peak RSS: $(awk '/VmHWM/ {print $2 / 1024 " MB"}' "/proc/$SERVER_PID/status")"
cat "$OUT"; echo
echo "results: $OUT"
