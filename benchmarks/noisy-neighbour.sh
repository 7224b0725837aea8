#!/usr/bin/env bash
# Noisy-neighbour benchmark (issue 5): a quiet tenant's latency through two node agents while a
# noisy tenant floods them (bulk into a slow sink + connection churn), with the per-tenant buffer
# quotas on and off. Interleaved scenarios, ROUNDS rounds, a fresh agent pair per scenario.
# Writes the section "## Noisy neighbour (issue 5)" of benchmarks/RESULTS.md (replacing it if
# present), benchmarks/plots/noisy-neighbour.svg, and raw outputs to
# benchmarks/results/noisy-<timestamp>/. See benchmarks/README.md.
#
# All traffic stays on 127.0.0.0/8; every load is bounded in time (and count); every process this
# script starts is stopped on exit.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(dirname "$HERE")
# shellcheck source=lib/common.sh
source "$HERE/lib/common.sh"
NOISY_PY="$HERE/lib/noisy.py"

# ----------------------------------------------------------------------------- settings
ORIG_ENV_VARS=()
for v in ROUNDS QUICK DURATION WARMUP BASE_PORT QUOTA_BUDGET PROBE_CONNECTIONS PROBE_RATE PROBE_SIZE \
         FLOOD_STREAMS SINK_RATE CHURN_THREADS CHURN_RATE CAPSTAN_JVM_OPTS TOOLS_JVM_OPTS SKIP_BUILD \
         RESULTS_MD PLOT_SVG SCENARIO_LIST CPU_MODEL AGENT_EXTRA AGENT_SHARES LOOP_DELAY_TARGET; do
  if [[ -n "${!v+x}" ]]; then ORIG_ENV_VARS+=("$v=${!v}"); fi
done

ROUNDS=${ROUNDS:-3}
QUICK=${QUICK:-0}
if [[ "$QUICK" == 1 ]]; then
  DURATION=${DURATION:-5}
  WARMUP=${WARMUP:-3}
else
  DURATION=${DURATION:-20}
  WARMUP=${WARMUP:-30}   # fresh agents' JIT compilers are still busy after 10 s on 2 CPUs
fi
BASE_PORT=${BASE_PORT:-24400}
QUOTA_BUDGET=${QUOTA_BUDGET:-32MiB}
PROBE_CONNECTIONS=${PROBE_CONNECTIONS:-4}
PROBE_RATE=${PROBE_RATE:-500}
PROBE_SIZE=${PROBE_SIZE:-1024}
FLOOD_STREAMS=${FLOOD_STREAMS:-32}
SINK_RATE=${SINK_RATE:-2MiB}
CHURN_THREADS=${CHURN_THREADS:-4}
CHURN_RATE=${CHURN_RATE:-1500}
CAPSTAN_JVM_OPTS=${CAPSTAN_JVM_OPTS:--Xms256m -Xmx256m -XX:+UseParallelGC}
TOOLS_JVM_OPTS=${TOOLS_JVM_OPTS:--Xms64m -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1}
SKIP_BUILD=${SKIP_BUILD:-0}
RESULTS_MD=${RESULTS_MD:-$HERE/RESULTS.md}
PLOT_SVG=${PLOT_SVG:-$HERE/plots/noisy-neighbour.svg}
SCENARIO_LIST=${SCENARIO_LIST:-solo on off direct-solo direct-on}   # a subset for experiments, e.g. "on"
# CPU of the pods and the agents, as the kubelet would set it from CPU requests (cgroup cpu shares,
# 1024 per CPU requested): "requests" puts both agents (0.5 CPU each), the quiet tenant's pods
# (0.5 CPU) and the noisy tenant's pods (1 CPU) in their own cgroups; "none" runs everything in the
# caller's cgroup, where the noisy load generators compete with the agents as equals.
CPU_MODEL=${CPU_MODEL:-requests}
SLACK=30

for v in ROUNDS DURATION PROBE_CONNECTIONS PROBE_RATE PROBE_SIZE CHURN_RATE; do
  [[ "${!v}" =~ ^[1-9][0-9]*$ ]] || { echo "$v must be a positive integer, got '${!v}'" >&2; exit 2; }
done
[[ "$CPU_MODEL" =~ ^(requests|exclusive|none)$ ]] || { echo "CPU_MODEL must be requests, exclusive or none, got '$CPU_MODEL'" >&2; exit 2; }
for v in WARMUP FLOOD_STREAMS CHURN_THREADS; do
  [[ "${!v}" =~ ^[0-9]+$ ]] || { echo "$v must be a non-negative integer, got '${!v}'" >&2; exit 2; }
done

# pod IPs (all on loopback) and namespaces = tenants
Q_CLIENT=127.0.1.10   # ns quiet, node-a
N_CLIENT=127.0.1.20   # ns noisy, node-a
Q_SERVER=127.0.2.10   # ns quiet, node-b
N_SERVER=127.0.2.20   # ns noisy, node-b

TS=$(date -u +%Y%m%dT%H%M%SZ)
OUT="$HERE/results/noisy-$TS"
WORK=$(mktemp -d /tmp/capstan-noisy.XXXXXX)
mkdir -p "$OUT/logs" "$OUT/config"
METRICS="$OUT/metrics.tsv"
: >"$METRICS"

log() { printf '%s %s\n' "$(date -u +%H:%M:%S)" "$*" | tee -a "$OUT/run.log" >&2; }

# ----------------------------------------------------------------------------- process tracking
ALL_PIDS=()      # every long-running process this script started
CHILD_PID=""     # the bounded client command currently running


stop_pids() {  # stop_pids PID... : SIGTERM, wait up to 10 s, then SIGKILL; forgets them
  local p pids=()
  for p in "$@"; do [[ -n "$p" ]] && pids+=("$p"); done
  ((${#pids[@]})) || return 0
  kill -TERM "${pids[@]}" 2>/dev/null || true
  local i any
  for ((i = 0; i < 100; i++)); do
    any=0
    for p in "${pids[@]}"; do alive "$p" && any=1; done
    ((any)) || break
    sleep 0.1
  done
  kill -KILL "${pids[@]}" 2>/dev/null || true
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  local keep=() q
  for q in "${ALL_PIDS[@]+"${ALL_PIDS[@]}"}"; do
    for p in "${pids[@]}"; do [[ "$q" == "$p" ]] && continue 2; done
    keep+=("$q")
  done
  ALL_PIDS=("${keep[@]+"${keep[@]}"}")
}

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [[ -n "$CHILD_PID" ]]; then kill -TERM "$CHILD_PID" 2>/dev/null || true; fi
  if ((${#ALL_PIDS[@]})); then
    log "stopping ${#ALL_PIDS[@]} process(es): ${ALL_PIDS[*]}"
    stop_pids "${ALL_PIDS[@]}"
  fi
  if [[ -n "$CG_ROOT" ]]; then rmdir "$CG_ROOT"/{agents,quiet,noisy} "$CG_ROOT" 2>/dev/null || log "could not remove $CG_ROOT"; fi
  if [[ -n "$CS_ROOT" ]]; then rmdir "$CS_ROOT"/{shared,exclusive} "$CS_ROOT" 2>/dev/null || log "could not remove $CS_ROOT"; fi
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT TERM

# ----------------------------------------------------------------------------- CPU groups
CG_ROOT=""
CS_ROOT=""
if [[ "$CPU_MODEL" != none ]]; then
  [[ -w /sys/fs/cgroup/cpu/cgroup.procs ]] \
    || { echo "CPU_MODEL=$CPU_MODEL needs root and the cgroup v1 cpu controller at /sys/fs/cgroup/cpu (or CPU_MODEL=none)" >&2; exit 2; }
  CG_ROOT=/sys/fs/cgroup/cpu/capstan-noisy-$$
  mkdir -p "$CG_ROOT"/{agents,quiet,noisy}
  echo ${AGENT_SHARES:-1024} >"$CG_ROOT/agents/cpu.shares"   # two agents requesting 0.5 CPU each
  echo 512 >"$CG_ROOT/quiet/cpu.shares"     # the quiet tenant's pods: 0.5 CPU
  echo 1024 >"$CG_ROOT/noisy/cpu.shares"    # the noisy tenant's pods: 1 CPU
fi
if [[ "$CPU_MODEL" == exclusive ]]; then
  # The kubelet's static CPU manager: the noisy tenant's pods (Guaranteed, 1 whole CPU) get CPU 0
  # to themselves; the agents and the quiet tenant's pods share the rest of the node (CPU 1).
  [[ -w /sys/fs/cgroup/cpuset/cgroup.procs ]] && (($(nproc) >= 2)) \
    || { echo "CPU_MODEL=exclusive needs root, 2+ CPUs and the cgroup v1 cpuset controller at /sys/fs/cgroup/cpuset" >&2; exit 2; }
  CS_ROOT=/sys/fs/cgroup/cpuset/capstan-noisy-$$
  mkdir -p "$CS_ROOT"/{shared,exclusive}
  MEMS=$(cat /sys/fs/cgroup/cpuset/cpuset.mems)
  echo "0-$(($(nproc) - 1))" >"$CS_ROOT/cpuset.cpus"; echo "$MEMS" >"$CS_ROOT/cpuset.mems"
  echo 0 >"$CS_ROOT/exclusive/cpuset.cpus"; echo "$MEMS" >"$CS_ROOT/exclusive/cpuset.mems"
  echo "1-$(($(nproc) - 1))" >"$CS_ROOT/shared/cpuset.cpus"; echo "$MEMS" >"$CS_ROOT/shared/cpuset.mems"
fi
# prefixes that run a command in its CPU groups (the same pid: env and sh exec into it)
IN_GROUP='if [ -n "$CG" ]; then echo $$ >"$CG/cgroup.procs" || exit 125; fi; if [ -n "$CS" ]; then echo $$ >"$CS/cgroup.procs" || exit 125; fi; exec "$@"'
AS_AGENT=(env "CG=${CG_ROOT:+$CG_ROOT/agents}" "CS=${CS_ROOT:+$CS_ROOT/shared}" sh -c "$IN_GROUP" in-group)
AS_QUIET=(env "CG=${CG_ROOT:+$CG_ROOT/quiet}" "CS=${CS_ROOT:+$CS_ROOT/shared}" sh -c "$IN_GROUP" in-group)
AS_NOISY=(env "CG=${CG_ROOT:+$CG_ROOT/noisy}" "CS=${CS_ROOT:+$CS_ROOT/exclusive}" sh -c "$IN_GROUP" in-group)

start_bg() {  # start_bg NAME CMD... : starts a process in the background, sets STARTED_PID
  local name=$1; shift
  "$@" >"$OUT/logs/$name.log" 2>&1 &
  STARTED_PID=$!
  ALL_PIDS+=("$STARTED_PID")
}

bounded() {  # bounded SECONDS CMD... : runs a command in the foreground with a hard time limit
  local secs=$1; shift
  timeout --kill-after=5 "$secs" "$@" &
  CHILD_PID=$!
  local rc=0
  wait "$CHILD_PID" || rc=$?
  CHILD_PID=""
  return "$rc"
}

# ----------------------------------------------------------------------------- build, private jars
AGENT_JAR_SRC="$REPO/node-agent/target/capstan-node-agent.jar"
BENCH_JAR_SRC="$HERE/target/capstan-benchmarks.jar"
if [[ "$SKIP_BUILD" != 1 ]] && [[ ! -f "$AGENT_JAR_SRC" || ! -f "$BENCH_JAR_SRC" \
      || -z "$(ls "$HERE"/target/lib/HdrHistogram-*.jar 2>/dev/null)" ]]; then
  log "building the agent and benchmarks jars (-Pcontrol-plane for benchmarks/target/lib/)"
  (cd "$REPO" && ./mvnw -B -q -pl benchmarks -am package -DskipTests -Pcontrol-plane) >"$OUT/logs/build.log" 2>&1 \
    || { log "build failed: $OUT/logs/build.log"; exit 1; }
fi
for f in "$AGENT_JAR_SRC" "$BENCH_JAR_SRC"; do
  [[ -f "$f" ]] || { log "missing $f (build with ./mvnw -B -q -pl benchmarks -am package -DskipTests -Pcontrol-plane)"; exit 1; }
done
HDR_JAR=$(ls "$HERE"/target/lib/HdrHistogram-*.jar 2>/dev/null | head -1)
[[ -n "$HDR_JAR" ]] || { log "missing benchmarks/target/lib/HdrHistogram-*.jar (build with -Pcontrol-plane)"; exit 1; }
# private copies: a rebuild during the run does not change what is measured
cp "$AGENT_JAR_SRC" "$WORK/agent.jar"
cp "$BENCH_JAR_SRC" "$WORK/bench.jar"
cp "$HDR_JAR" "$WORK/hdr.jar"
AGENT_JAR="$WORK/agent.jar"
TOOLS_CP="$WORK/bench.jar:$WORK/hdr.jar"

# shellcheck disable=SC2206
TOOL=(java $TOOLS_JVM_OPTS -cp "$TOOLS_CP")   # + dev.capstan.benchmarks.noisy.<Class> ARGS (no function: the pid must be java's)

# ----------------------------------------------------------------------------- ports
# each port free on every address it may be bound on; all below the ephemeral range
read -r P_ECHO P_SINK P_HBONE P_A_QUIET P_A_NOISY \
        P_A_ADMIN P_A_METRICS P_A_READY P_B_ADMIN P_B_METRICS P_B_READY \
  < <(python3 "$HERE/lib/bench.py" freeports 11 "$BASE_PORT" 127.0.0.1 "$Q_CLIENT" "$N_CLIENT" "$Q_SERVER" "$N_SERVER")
[[ -n "${P_B_READY:-}" ]] || { log "port allocation failed"; exit 2; }
log "results: $OUT"
log "ports: echo=$Q_SERVER:$P_ECHO sink=$N_SERVER:$P_SINK hbone=$P_HBONE upstreams quiet=127.0.0.1:$P_A_QUIET noisy=127.0.0.1:$P_A_NOISY"

# ----------------------------------------------------------------------------- meta
{
  echo "date=$(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "jdk=$(java -version 2>&1 | head -2 | tail -1)"
  echo "nproc=$(nproc)"
  echo "cpu=$(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)"
  echo "kernel=$(uname -r)"
  echo "load_before=$(cut -d' ' -f1-3 /proc/loadavg)"
  echo "revision=$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$REPO" diff --quiet HEAD -- 2>/dev/null || echo ' (with uncommitted changes)')"
  echo "agent_jar=$(stat -c '%s bytes, built %y' "$AGENT_JAR_SRC" | cut -d. -f1), sha256 $(sha256sum "$AGENT_JAR" | cut -c1-12)"
  echo "command=${ORIG_ENV_VARS[*]+${ORIG_ENV_VARS[*]} }benchmarks/noisy-neighbour.sh"
  echo "rounds=$ROUNDS"
  echo "duration=$DURATION"
  echo "warmup=$WARMUP"
  echo "budget=$QUOTA_BUDGET"
  echo "probe=$PROBE_CONNECTIONS connections, $PROBE_RATE req/s in total, $PROBE_SIZE B requests"
  echo "flood=$FLOOD_STREAMS bulk streams into a sink reading $SINK_RATE/s per connection; churn $CHURN_RATE connections/s over $CHURN_THREADS threads"
  echo "flood_streams=$FLOOD_STREAMS"
  echo "churn_threads=$CHURN_THREADS"
  echo "probe_connections=$PROBE_CONNECTIONS"
  echo "agent_jvm=$CAPSTAN_JVM_OPTS"
  if [[ $CPU_MODEL == exclusive ]]; then
    echo "cpu_model=exclusive CPUs as the kubelet's static CPU manager gives a Guaranteed pod: the noisy tenant's pods (flood, sink) on CPU 0 alone; both agents and the quiet tenant's pods (probe, echo) on CPU 1; within that, CPU requests as cgroup v1 cpu.shares (agents 0.5 CPU each, quiet 0.5 CPU, noisy 1 CPU)"
  elif [[ $CPU_MODEL == requests ]]; then
    echo "cpu_model=CPU requests as the kubelet sets them (cgroup v1 cpu.shares): both agents 0.5 CPU each, the quiet tenant's pods (probe, echo) 0.5 CPU, the noisy tenant's pods (flood, sink) 1 CPU"
  else
    echo "cpu_model=none: agents and all pods share the machine's CPUs as equals"
  fi
} >"$OUT/meta.txt"

# ----------------------------------------------------------------------------- servers
SERVER_SECONDS=$((ROUNDS * 3 * (DURATION + WARMUP + 90) + 600))
start_bg echo "${AS_QUIET[@]}" "${TOOL[@]}" dev.capstan.benchmarks.noisy.NoisyServers --echo="$Q_SERVER:$P_ECHO" \
  --max-seconds=$SERVER_SECONDS
ECHO_PID=$STARTED_PID
start_bg sink "${AS_NOISY[@]}" "${TOOL[@]}" dev.capstan.benchmarks.noisy.NoisyServers --sink="$N_SERVER:$P_SINK" \
  --sink-rate="$SINK_RATE" --max-seconds=$SERVER_SECONDS
SINK_PID=$STARTED_PID
for name in echo sink; do
  pid=$ECHO_PID; [[ $name == sink ]] && pid=$SINK_PID
  for ((i = 0; i < 50; i++)); do
    grep -q '^listening' "$OUT/logs/$name.log" 2>/dev/null && break
    alive "$pid" || { log "$name server exited: $OUT/logs/$name.log"; exit 1; }
    sleep 0.2
  done
  grep -q '^listening' "$OUT/logs/$name.log" || { log "$name server did not start: $OUT/logs/$name.log"; exit 1; }
done

# ----------------------------------------------------------------------------- mesh, certs, agent configs
D="$WORK/capstan"
mkdir -p "$D"
cat >"$D/mesh.yaml" <<EOF
version: "noisy-1"
workloads:
  - {uid: quiet-client-1, name: quiet-client, namespace: quiet, serviceAccount: client, ips: ["$Q_CLIENT"], node: node-a}
  - {uid: noisy-client-1, name: noisy-client, namespace: noisy, serviceAccount: client, ips: ["$N_CLIENT"], node: node-a}
  - {uid: quiet-echo-1, name: echo, namespace: quiet, serviceAccount: echo, ips: ["$Q_SERVER"], node: node-b}
  - {uid: noisy-sink-1, name: sink, namespace: noisy, serviceAccount: sink, ips: ["$N_SERVER"], node: node-b}
services:
  - namespace: quiet
    name: echo
    vips: ["127.0.100.10"]
    ports: [{name: tcp, port: 7, targetPort: $P_ECHO}]
    endpoints: [{workload: quiet-echo-1}]
  - namespace: noisy
    name: sink
    vips: ["127.0.100.20"]
    ports: [{name: tcp, port: 9, targetPort: $P_SINK}]
    endpoints: [{workload: noisy-sink-1}]
policies: []
EOF

write_agent_config() {  # write_agent_config NODE on|off
  local node=$1 quotas=$2 admin metrics ready
  if [[ $node == a ]]; then admin=$P_A_ADMIN metrics=$P_A_METRICS ready=$P_A_READY
  else admin=$P_B_ADMIN metrics=$P_B_METRICS ready=$P_B_READY; fi
  {
    echo "node: node-$node"
    echo "trustDomain: cluster.local"
    echo "mesh: $D/mesh.yaml"
    echo "certs: $D/certs"
    echo "hbonePort: $P_HBONE"
    echo "admin: 127.0.0.1:$admin"
    echo "metrics: 127.0.0.1:$metrics"
    echo "ready: 127.0.0.1:$ready"
    echo "explicitProxy: null"
    if [[ $node == a ]]; then
      echo "upstreams:"
      echo "  - {listen: \"127.0.0.1:$P_A_QUIET\", service: quiet/echo, port: 7}"
      echo "  - {listen: \"127.0.0.1:$P_A_NOISY\", service: noisy/sink, port: 9}"
    fi
    echo "drainTimeout: 1s"
    echo "accessLog: off"
    if [[ -n "${AGENT_EXTRA:-}" ]]; then echo "$AGENT_EXTRA"; fi   # extra agent settings for experiments
    if [[ $quotas == on ]]; then
      echo "quota: {budget: $QUOTA_BUDGET${LOOP_DELAY_TARGET:+, loopDelayTarget: $LOOP_DELAY_TARGET}}"
    else
      # 1 TiB (the largest budget the agent accepts; its sizes take KiB/MiB/GiB only)
      echo "quota: {budget: 1099511627776, giveBack: 0, connectionWindow: 1099511627776, tenantMaxConnections: 10000000,"
      echo "        tenantConnectionsPerSecond: 1000000, tenantConnectionBurst: 1000000, loopDelayTarget: 0ms}"
    fi
  } >"$D/agent-$node-$quotas.yaml"
}
for q in on off; do write_agent_config a $q; write_agent_config b $q; done
cp "$D"/*.yaml "$OUT/config/"

log "generating certificates"
bounded 120 java -jar "$AGENT_JAR" certs --mesh "$D/mesh.yaml" --out "$D/certs" >"$OUT/logs/certs.log" 2>&1 \
  || { log "certs failed: $OUT/logs/certs.log"; exit 1; }

# ----------------------------------------------------------------------------- agents
A_PID="" B_PID=""

wait_ready() {  # wait_ready PORT SECONDS PID
  local port=$1 secs=$2 pid=$3 i
  for ((i = 0; i < secs * 5; i++)); do
    alive "$pid" || return 1
    curl -fs --max-time 1 -o /dev/null "http://127.0.0.1:$port/healthz/ready" && return 0
    sleep 0.2
  done
  return 1
}

start_agents() {  # start_agents on|off NAME
  local quotas=$1 name=$2
  # shellcheck disable=SC2086
  start_bg "agent-b-$name" "${AS_AGENT[@]}" java $CAPSTAN_JVM_OPTS -jar "$AGENT_JAR" run --config "$D/agent-b-$quotas.yaml"
  B_PID=$STARTED_PID
  # shellcheck disable=SC2086
  start_bg "agent-a-$name" "${AS_AGENT[@]}" java $CAPSTAN_JVM_OPTS -jar "$AGENT_JAR" run --config "$D/agent-a-$quotas.yaml"
  A_PID=$STARTED_PID
  wait_ready "$P_B_READY" 60 "$B_PID" || { log "agent B not ready within 60 s: $OUT/logs/agent-b-$name.log"; return 1; }
  wait_ready "$P_A_READY" 60 "$A_PID" || { log "agent A not ready within 60 s: $OUT/logs/agent-a-$name.log"; return 1; }
}

stop_agents() {
  stop_pids "$A_PID" "$B_PID"
  A_PID="" B_PID=""
}

# ----------------------------------------------------------------------------- one scenario
metric() { printf '%s\t%s\t%s\t%s\n' "$ROUND" "$1" "$2" "$3" >>"$METRICS"; }
warn() { printf '%s\t%s\twarning\t%s\n' "$ROUND" "$1" "$2" >>"$METRICS"; log "WARNING round $ROUND $1: $2"; }

probe_bg() {  # probe_bg WARMUP_OUTFILE OUTFILE : the quiet tenant over warm-up + measurement, in one process
  start_bg "probe-$ROUND-$scen" "${AS_QUIET[@]}" timeout --kill-after=5 $((WARMUP + DURATION + SLACK)) \
    "${TOOL[@]}" dev.capstan.benchmarks.noisy.LatencyProbe --target="$PROBE_TARGET" --source="$Q_CLIENT" \
    --connections="$PROBE_CONNECTIONS" --rate="$PROBE_RATE" --size="$PROBE_SIZE" --seconds=$((WARMUP + DURATION)) \
    --measure-from="$WARMUP" --warmup-out="$1"
  PROBE_PID=$STARTED_PID
  PROBE_OUT=$2
}

wait_probe() {  # wait_probe : waits for the probe to end (bounded by its own timeout); its stdout is the result
  local rc=0
  wait "$PROBE_PID" 2>/dev/null || rc=$?
  stop_pids "$PROBE_PID"
  grep '^{' "$OUT/logs/probe-$ROUND-$scen.log" >"$PROBE_OUT" || return 1
  return "$rc"
}

flood_bg() {  # flood_bg SECONDS MEASURE_FROM NAME : starts the flood in the background, sets FLOOD_PID
  start_bg "$3" "${AS_NOISY[@]}" timeout --kill-after=5 $(($1 + SLACK)) "${TOOL[@]}" dev.capstan.benchmarks.noisy.Flood \
    --target="127.0.0.1:$P_A_NOISY" --source="$N_CLIENT" --streams="$FLOOD_STREAMS" \
    --churn-threads="$CHURN_THREADS" --churn-rate="$CHURN_RATE" --seconds="$1" --measure-from="$2"
  FLOOD_PID=$STARTED_PID
}

wait_flood() {  # wait_flood : waits for the flood to end (it is bounded by its own timeout)
  wait "$FLOOD_PID" 2>/dev/null || true
  stop_pids "$FLOOD_PID"
}

run_scenario() {  # run_scenario solo|on|off|direct-solo|direct-on
  local scen=$1 quotas=on flood=1 dir="$OUT/r$ROUND"
  [[ $scen == off ]] && quotas=off
  [[ $scen == solo || $scen == direct-solo ]] && flood=0
  # direct-*: the quiet probe talks to its echo server straight, no agent on its path (the flood
  # still goes through the agents): what the machine alone does to the quiet tenant's latency.
  PROBE_TARGET="127.0.0.1:$P_A_QUIET"
  [[ $scen == direct-* ]] && PROBE_TARGET="$Q_SERVER:$P_ECHO"
  mkdir -p "$dir"
  log "round $ROUND: scenario $scen (quotas $quotas, flood $flood)"
  if ! start_agents "$quotas" "r$ROUND-$scen"; then
    warn "$scen" "agents did not start"; stop_agents; return 0
  fi
  # One flood spans warm-up and measurement: it counts only its last DURATION seconds, so its
  # start (connections opening, buffers filling) falls in the warm-up, whose probe is kept apart.
  # It ends 2 s after the probe, so its own end (32 streams reset at once, a JVM exiting) is not measured.
  if ((flood)); then flood_bg $((WARMUP + 1 + DURATION + 2)) $((WARMUP + 1)) "flood-r$ROUND-$scen"; sleep 1; fi
  # One probe process spans warm-up and measurement too (a JVM started at the measurement would
  # measure its own start-up); it reports the warm-up apart.
  probe_bg "$dir/$scen-warmup-probe.json" "$dir/$scen-probe.json"
  sleep "$WARMUP"
  # measurement: the sampler polls both agents' /metrics every 250 ms
  start_bg "sampler-r$ROUND-$scen" timeout $((DURATION + SLACK + 10)) python3 "$NOISY_PY" sample "$dir/$scen-samples.tsv" \
    "a=http://127.0.0.1:$P_A_METRICS/metrics" "b=http://127.0.0.1:$P_B_METRICS/metrics"
  local sampler=$STARTED_PID
  wait_probe || warn "$scen" "probe failed"
  if ((flood)); then
    wait_flood
    cp "$OUT/logs/flood-r$ROUND-$scen.log" "$dir/$scen-flood.json"
  fi
  stop_pids "$sampler"
  local n
  for n in a b; do
    local port=$P_A_METRICS pid=$A_PID
    [[ $n == b ]] && port=$P_B_METRICS pid=$B_PID
    curl -fs --max-time 5 "http://127.0.0.1:$port/metrics" >"$dir/$scen-metrics-$n.txt" || warn "$scen" "agent $n: /metrics failed"
    if alive "$pid"; then
      metric "$scen" "rss_$n" "$(ps -o rss= -p "$pid" | tr -d ' ')"
      metric "$scen" "hwm_$n" "$(awk '/VmHWM/ { print $2 }' "/proc/$pid/status")"
    else
      warn "$scen" "agent $n exited during the scenario (see logs/agent-$n-r$ROUND-$scen.log)"
    fi
  done
  python3 "$NOISY_PY" collect "$dir" "$scen" "$ROUND" >>"$METRICS" || warn "$scen" "could not read the scenario's outputs"
  local errs
  errs=$(grep -c -E ' (ERROR|WARN) ' "$OUT/logs/agent-a-r$ROUND-$scen.log" "$OUT/logs/agent-b-r$ROUND-$scen.log" 2>/dev/null \
           | awk -F: '{ s += $2 } END { print s + 0 }' || true)
  metric "$scen" agent_log_warnings "$errs"
  stop_agents
}

# ----------------------------------------------------------------------------- rounds
read -r -a SCENARIOS <<<"$SCENARIO_LIST"
for ((ROUND = 1; ROUND <= ROUNDS; ROUND++)); do
  # rotate the order so no scenario always runs first
  for ((k = 0; k < ${#SCENARIOS[@]}; k++)); do
    run_scenario "${SCENARIOS[$(((k + ROUND - 1) % ${#SCENARIOS[@]}))]}"
  done
done

stop_pids "$ECHO_PID" "$SINK_PID"
echo "load_after=$(cut -d' ' -f1-3 /proc/loadavg)" >>"$OUT/meta.txt"

# ----------------------------------------------------------------------------- report
mkdir -p "$(dirname "$PLOT_SVG")"
python3 "$NOISY_PY" render "$OUT" "$RESULTS_MD" "$PLOT_SVG"
log "wrote the noisy-neighbour section of $RESULTS_MD and $PLOT_SVG (raw data in $OUT)"
