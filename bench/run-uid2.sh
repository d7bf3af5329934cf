#!/usr/bin/env bash
# UID2 operator benchmark of idex, over loopback, from a built jar (mvn -B -q -DskipTests package).
#
#   bench/run-uid2.sh                      # 3 runs (about 4 minutes each) and a summary with medians
#   RUNS=1 S1_WARMUP=10 S1_DURATION=5 S3_DURATION=5 S1_SWEEP= S3_SWEEP= bench/run-uid2.sh   # a quick look
#
#   SCENARIOS= RUNS=5 bench/run-uid2.sh    # start-up only (scenario 4, cold and reused PostgreSQL), 5 runs
#
# It makes a temporary data dir, generates a 1,048,576-bucket salt snapshot in the reference format (lastUpdated
# spread over the past year, oldest first), imports it, creates a MAPPER key, then for every run: starts the server
# with the store's embedded PostgreSQL stopped (scenario 4: start-up to healthy, pg_ctl start included), runs
# scenarios 1-3 with the server's VmRSS sampled (scenario 5), kills the server with SIGKILL (which leaves its
# PostgreSQL running), starts it again (4b: start-up reusing the running PostgreSQL) and stops it (SIGTERM, which
# stops the PostgreSQL too). REUSE=0 leaves 4b out.
# Settings (environment):
#   JAR (target/idex.jar)  PORT (18080)  RUNS (3)  BUCKETS (1048576)  KEEP (0: 1 keeps the temp dir)
#   SERVER_OPTS (-Xmx320m -Xmn64m -XX:+UseSerialGC)  SERVER_EXTRA (extra server JVM options, e.g. a JFR recording)
#   CLIENT_OPTS (-Xmx1536m)  CLIENT_THREADS (1)
#   S1_CONNECTIONS (8)  S1_WARMUP (60, at most)  S1_DURATION (20)  S1_SWEEP (1,4,16,32)  S1_SWEEP_DURATION (10)
#   S2_RUNS (5)  S3_CONNECTIONS (4)  S3_WARMUP (40, at most)  S3_DURATION (20)  S3_SWEEP (2,8)  S3_SWEEP_DURATION (10)
#   SCENARIOS (1,1b,2,2b,3: 1b and 2b repeat 1 and 2 with raw octet-stream envelopes instead of base64 text;
#   empty: start-up only)  REUSE (1)
#   CDS (1: as ./idex serve, on a class-data archive recorded by a first, unmeasured start; 0: plain java -jar)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
JAR=${JAR:-$ROOT/target/idex.jar}
PORT=${PORT:-18080}
RUNS=${RUNS:-3}
BUCKETS=${BUCKETS:-1048576}
KEEP=${KEEP:-0}
SERVER_OPTS=${SERVER_OPTS:--Xmx320m -Xmn64m -XX:+UseSerialGC}
SERVER_EXTRA=${SERVER_EXTRA:-}
CLIENT_OPTS=${CLIENT_OPTS:--Xmx1536m}
SCENARIOS=${SCENARIOS-1,1b,2,2b,3}
REUSE=${REUSE:-1}
CDS=${CDS:-1}

[ -f "$JAR" ] || { echo "no $JAR: build it first (mvn -B -q -DskipTests package)" >&2; exit 1; }
if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
    echo "port $PORT is in use; set PORT" >&2
    exit 1
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/idex-bench.XXXXXX")
SERVER_PID=
cleanup() {
    if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait_gone "$SERVER_PID" 30 || kill -9 "$SERVER_PID" 2>/dev/null || true
    fi
    if [ -f "$WORK/data/postgres/postmaster.pid" ]; then # a killed server's PostgreSQL: stop it, not leave it orphaned
        java -cp "$JAR" "$ROOT/bench/Uid2Bench.java" stop-store "$WORK/data" || true
    fi
    if [ "$KEEP" = 1 ]; then
        echo "kept $WORK"
    else
        rm -rf "$WORK"
    fi
}
wait_gone() { # pid, seconds
    local i
    for ((i = 0; i < $2 * 10; i++)); do
        kill -0 "$1" 2>/dev/null || return 0
        sleep 0.1
    done
    return 1
}
trap cleanup EXIT

# shellcheck disable=SC2086
bench() { java $CLIENT_OPTS -cp "$JAR" "$ROOT/bench/Uid2Bench.java" "$@" 2> >(grep -v '^Note: ' >&2); }
idex() { java -jar "$JAR" "$@"; }

{
    echo "== machine"
    echo "date:    $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "nproc:   $(nproc)"
    echo "cpu:     $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
    echo "memory:  $(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)"
    echo "kernel:  $(uname -r)"
    echo "load:    $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min, before the benchmark)"
    java -version 2>&1 | sed 's/^/java:    /'
    echo "jar:     ${JAR#"$ROOT"/} (sources at commit $(git -C "$ROOT" log -1 --format=%h -- src pom.xml 2>/dev/null || echo '?'), built $(date -u -r "$JAR" +%Y-%m-%dT%H:%M:%SZ))"
    echo "server:  java $SERVER_OPTS $SERVER_EXTRA -jar idex.jar serve --rotation-schedule off"
} | tee "$WORK/machine.txt"

echo
echo "== salt snapshot ($BUCKETS buckets) and store"
bench salts --out "$WORK/snapshot" --buckets "$BUCKETS"
start=$(date +%s%N)
# The JVM's exception log is kept to explain a failed import (seen once with the H2 store: an "IO Exception" with
# no cause shown).
import_salts() {
    java -Xlog:exceptions=info:file="$WORK/import-exceptions-$1.log" -jar "$JAR" \
        uid2 salts import "$WORK/snapshot" --data-dir "$WORK/data"
}
if ! import_salts 1; then
    echo "import failed; exceptions the JVM saw (last 30, full log kept in $WORK/import-exceptions-1.log):" >&2
    grep -v -E 'NumberFormatException|NoSuchMethodException|UnixException|NoSuchFileException|FileAlreadyExists' \
        "$WORK/import-exceptions-1.log" | tail -30 >&2
    echo "retrying the import once on a fresh store" >&2
    KEEP=1
    mv "$WORK/data" "$WORK/data-failed-import"
    start=$(date +%s%N)
    import_salts 2
fi
echo "import took $(( ($(date +%s%N) - start) / 1000000 )) ms; store $(du -sh "$WORK/data" | cut -f1)" \
    "(PostgreSQL cluster $(du -sh "$WORK/data/postgres" | cut -f1), WAL $(du -sh "$WORK/data/postgres/pg_wal" | cut -f1))"
creds=$(idex uid2 client create --name bench --roles MAPPER --json --data-dir "$WORK/data")
BENCH_KEY=$(printf '%s' "$creds" | sed -n 's/.*"key":"\([^"]*\)".*/\1/p')
BENCH_SECRET=$(printf '%s' "$creds" | sed -n 's/.*"secret":"\([^"]*\)".*/\1/p')
[ -n "$BENCH_KEY" ] && [ -n "$BENCH_SECRET" ] || { echo "could not read the key from: $creds" >&2; exit 1; }
export BENCH_KEY BENCH_SECRET
echo "MAPPER key ${BENCH_KEY%%.*}.… created"

if [ "$CDS" = 1 ]; then
    # As ./idex serve runs it: the first server after a build records a class-data archive when it stops (and writes
    # its copy of the salt set); the measured starts run on both. This start is not measured.
    echo "first start (records the class-data archive; not measured)"
    # shellcheck disable=SC2086
    java $SERVER_OPTS -XX:ArchiveClassesAtExit="$WORK/idex-serve.jsa" '-Xlog:cds*=off' -jar "$JAR" serve \
        --data-dir "$WORK/data" --port "$PORT" --rotation-schedule off > "$WORK/server-first.log" 2>&1 &
    SERVER_PID=$!
    for ((i = 0; i < 1200; i++)); do
        curl -sf "http://127.0.0.1:$PORT/ops/healthcheck" > /dev/null 2>&1 && break
        sleep 0.1
    done
    for ((i = 0; i < 600; i++)); do # the copy of the salt set is written in the background after the start
        grep -q "copy of the salt set" "$WORK/server-first.log" && break
        sleep 0.1
    done
    kill "$SERVER_PID"
    wait_gone "$SERVER_PID" 60 || { echo "first server did not stop within 60 s" >&2; exit 1; }
    SERVER_PID=
    [ -s "$WORK/idex-serve.jsa" ] || { echo "no class-data archive was recorded" >&2; exit 1; }
    SERVER_EXTRA="$SERVER_EXTRA -XX:SharedArchiveFile=$WORK/idex-serve.jsa -Xlog:cds*=off"
    echo "cds:     measured starts run with -XX:SharedArchiveFile (recorded by the first start), as ./idex serve does" \
        | tee -a "$WORK/machine.txt"
fi

results=()
for ((run = 1; run <= RUNS; run++)); do
    echo
    echo "== run $run of $RUNS"
    # scenario 4: process start -> /ops/healthcheck OK, on the populated store; the server then stays up
    # shellcheck disable=SC2086
    bench startup --port "$PORT" --pid-file "$WORK/server.pid" --log "$WORK/server-$run.log" \
        --out "$WORK/startup-$run.json" -- \
        java $SERVER_OPTS $SERVER_EXTRA -jar "$JAR" serve --data-dir "$WORK/data" --port "$PORT" --rotation-schedule off
    SERVER_PID=$(cat "$WORK/server.pid")
    results+=("$WORK/startup-$run.json")
    grep -o 'idex listening.*' "$WORK/server-$run.log" | head -1 || true
    # scenarios 1-3 and 5
    status=0
    [ -z "$SCENARIOS" ] || bench load --port "$PORT" --pid "$SERVER_PID" --snapshot "$WORK/snapshot" --out "$WORK/load-$run.json" \
        --scenarios "$SCENARIOS" --client-threads "${CLIENT_THREADS:-1}" \
        --s1-connections "${S1_CONNECTIONS:-8}" --s1-warmup "${S1_WARMUP:-60}" --s1-duration "${S1_DURATION:-20}" \
        --s1-sweep "${S1_SWEEP-1,4,16,32}" --s1-sweep-duration "${S1_SWEEP_DURATION:-10}" \
        --s2-runs "${S2_RUNS:-5}" \
        --s3-connections "${S3_CONNECTIONS:-4}" --s3-warmup "${S3_WARMUP:-40}" --s3-duration "${S3_DURATION:-20}" \
        --s3-sweep "${S3_SWEEP-2,8}" --s3-sweep-duration "${S3_SWEEP_DURATION:-10}" || status=$?
    [ -z "$SCENARIOS" ] || results+=("$WORK/load-$run.json")
    if [ "$REUSE" = 1 ]; then
        # scenario 4b: a server killed outright leaves its PostgreSQL running; the next start reuses it
        kill -9 "$SERVER_PID"
        wait_gone "$SERVER_PID" 30 || true
        # shellcheck disable=SC2086
        bench startup --port "$PORT" --pid-file "$WORK/server.pid" --log "$WORK/server-$run-reuse.log" \
            --out "$WORK/startup-reuse-$run.json" --key startup_reuse_seconds -- \
            java $SERVER_OPTS $SERVER_EXTRA -jar "$JAR" serve --data-dir "$WORK/data" --port "$PORT" --rotation-schedule off
        SERVER_PID=$(cat "$WORK/server.pid")
        results+=("$WORK/startup-reuse-$run.json")
        grep -o 'idex listening.*' "$WORK/server-$run-reuse.log" | head -1 || true
    fi
    kill "$SERVER_PID"
    wait_gone "$SERVER_PID" 60 || { echo "server did not stop within 60 s; killing it" >&2; kill -9 "$SERVER_PID"; }
    SERVER_PID=
    if [ -f "$WORK/data/postgres/postmaster.pid" ]; then
        echo "PostgreSQL still running after the server stopped; stopping it" >&2
        java -cp "$JAR" "$ROOT/bench/Uid2Bench.java" stop-store "$WORK/data" || true
    fi
    for log in "$WORK/server-$run.log" "$WORK/server-$run-reuse.log"; do
        if [ -f "$log" ] && grep -qiE 'ERROR|Exception' "$log"; then
            echo "server log $(basename "$log") has errors:"
            grep -iE 'ERROR|Exception' "$log" | head -20
        fi
    done
    if [ "$status" -gt 128 ]; then
        echo "run $run: the load driver was stopped by signal $((status - 128)) (not by the benchmark); its results so far are kept"
    elif [ "$status" != 0 ]; then
        echo "run $run: some checks failed (exit $status)"
    fi
done

echo
echo "== summary"
cat "$WORK/machine.txt"
bench summary "${results[@]}"
if [ "$KEEP" = 1 ]; then
    mkdir -p "$WORK/results" && cp "$WORK"/*.json "$WORK/machine.txt" "$WORK/results/"
fi
