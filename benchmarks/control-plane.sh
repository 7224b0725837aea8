#!/usr/bin/env bash
# The control-plane benchmark of issue 3: builds the benchmarks module with its dependencies,
# runs dev.capstan.benchmarks.ControlPlaneBench RUNS times (one JVM each) on a simulated cluster
# (5,000 workloads, 1,000 services, 50 node agents by default), and writes the section
# "Control plane (issue 3)" of benchmarks/RESULTS.md (medians and spread across runs).
# See benchmarks/README.md ("Control plane").
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
RUNS=${RUNS:-3}
MEMBERS=${MEMBERS:-1}
JVM_OPTS=${JVM_OPTS:--Xms4g -Xmx4g -XX:+UseParallelGC -XX:NativeMemoryTracking=summary}
BENCH_ARGS=${BENCH_ARGS:-}
RESULTS_MD=${RESULTS_MD:-$HERE/RESULTS.md}
SKIP_BUILD=${SKIP_BUILD:-0}
# What Hazelcast asks for on JDK 9+ (its start-up warning lists exactly these).
HZ_OPENS="--add-modules java.se --add-exports java.base/jdk.internal.ref=ALL-UNNAMED
  --add-opens java.base/java.lang=ALL-UNNAMED --add-opens java.base/sun.nio.ch=ALL-UNNAMED
  --add-opens java.management/sun.management=ALL-UNNAMED
  --add-opens jdk.management/com.sun.management.internal=ALL-UNNAMED"

log() { printf '[control-plane] %s\n' "$*" >&2; }

cd "$ROOT"
if [ "$SKIP_BUILD" != 1 ]; then
  log "building benchmarks/target/capstan-benchmarks.jar and benchmarks/target/lib/"
  ./mvnw -B -q -pl benchmarks -am package -DskipTests -Pcontrol-plane
fi
JAR=$HERE/target/capstan-benchmarks.jar
[ -f "$JAR" ] || { log "missing $JAR"; exit 1; }

TS=$(date -u +%Y%m%dT%H%M%SZ)
OUT=$HERE/results/control-plane-$TS
mkdir -p "$OUT"
{
  echo "date: $(date)"
  echo "jdk: $(java -version 2>&1 | tr '\n' ';' | sed 's/;$//; s/;/; /g')"
  echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), kernel $(uname -r)"
  echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "revision: $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- . 2>/dev/null || echo ' (with uncommitted changes)')"
  echo "jvm: $JVM_OPTS"
  echo "args: --members=$MEMBERS $BENCH_ARGS"
  echo "runs: $RUNS"
} > "$OUT/meta.txt"

for i in $(seq 1 "$RUNS"); do
  log "run $i/$RUNS (log: $OUT/run-$i.log)"
  start=$(date +%s)
  # shellcheck disable=SC2086
  java $JVM_OPTS $HZ_OPENS -Dlogback.configurationFile=capstan-benchmarks-logback.xml \
    -cp "$JAR:$HERE/target/lib/*" dev.capstan.benchmarks.ControlPlaneBench \
    --members="$MEMBERS" $BENCH_ARGS --out="$OUT/run-$i.json" > "$OUT/run-$i.log" 2>&1 \
    || { log "run $i failed; tail of its log:"; tail -30 "$OUT/run-$i.log" >&2; exit 1; }
  grep '^\[bench\]' "$OUT/run-$i.log" >&2 || true
  log "run $i took $(( $(date +%s) - start )) s"
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$OUT/meta.txt"

python3 "$HERE/lib/control_plane.py" "$OUT" "$RESULTS_MD" \
  "RUNS=$RUNS MEMBERS=$MEMBERS${BENCH_ARGS:+ BENCH_ARGS='$BENCH_ARGS'} benchmarks/control-plane.sh"
log "wrote the control-plane section of $RESULTS_MD (raw data in $OUT)"
