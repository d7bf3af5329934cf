#!/usr/bin/env bash
# One server start on an existing data dir: wall time to a healthy /ops/healthcheck and the server's own CPU time
# until then (user + system, from /proc), then a graceful stop. For A/B comparisons of start-up code: run two jars
# in turn on the same data dir so that each sees the same load, e.g.
#   for i in 1 2 3; do bench/startup-cpu.sh old.jar /tmp/d; bench/startup-cpu.sh target/idex.jar /tmp/d; done
#   bench/startup-cpu.sh target/idex.jar /tmp/d -XX:SharedArchiveFile=target/idex-serve.jsa '-Xlog:cds*=off'
# Usage: startup-cpu.sh JAR DATA_DIR [extra JVM options…]   Environment: PORT (18090), SERVER_OPTS (as ./idex).
set -euo pipefail
jar=$1; data=$2; shift 2
port=${PORT:-18090}
# shellcheck disable=SC2206
opts=(${SERVER_OPTS:--Xmx320m -Xmn64m -XX:+UseSerialGC})
log=$(mktemp)
t0=$(date +%s%N)
java "$@" "${opts[@]}" -jar "$jar" serve --data-dir "$data" --port "$port" --rotation-schedule off > "$log" 2>&1 &
pid=$!
for _ in $(seq 1 6000); do
    curl -sf "http://127.0.0.1:$port/ops/healthcheck" > /dev/null 2>&1 && break
    kill -0 "$pid" 2>/dev/null || { echo "the server stopped; its log: $log" >&2; exit 1; }
    sleep 0.01
done
t1=$(date +%s%N)
cpu=$(awk '{printf "%.2f", ($14 + $15) / 100}' "/proc/$pid/stat")
echo "healthy after $(( (t1 - t0) / 1000000 )) ms, server CPU ${cpu} s ($jar $*)"
kill "$pid"
wait "$pid" || true
rm -f "$log"
