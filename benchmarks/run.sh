#!/usr/bin/env bash
# Capstan benchmark harness: direct vs. two HAProxy hops (mTLS) vs. two Capstan node agents
# (HBONE mTLS), interleaved in one run, repeated ROUNDS times. Writes benchmarks/RESULTS.md and
# raw outputs to benchmarks/results/<timestamp>/. See benchmarks/README.md.
#
# All traffic stays on 127.0.0.0/8; every load command is bounded by count and time.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(dirname "$HERE")
# shellcheck source=lib/common.sh
source "$HERE/lib/common.sh"
BENCH_PY="$HERE/lib/bench.py"

# ----------------------------------------------------------------------------- settings
ORIG_ENV_VARS=()
for v in ROUNDS QUICK SKIP_CAPSTAN DURATION WARMUP BASE_PORT CAPSTAN_JAR CAPSTAN_JVM_OPTS \
         TASKSET RESULTS_MD; do
  if [[ -n "${!v+x}" ]]; then ORIG_ENV_VARS+=("$v=${!v}"); fi
done

ROUNDS=${ROUNDS:-3}
QUICK=${QUICK:-0}
SKIP_CAPSTAN=${SKIP_CAPSTAN:-0}
if [[ "$QUICK" == 1 ]]; then
  DURATION=${DURATION:-3}
  WARMUP=${WARMUP:-1}
else
  DURATION=${DURATION:-10}
  WARMUP=${WARMUP:-5}
fi
BASE_PORT=${BASE_PORT:-24100}
CAPSTAN_JAR=${CAPSTAN_JAR:-$REPO/node-agent/target/capstan-node-agent.jar}
CAPSTAN_JVM_OPTS=${CAPSTAN_JVM_OPTS:--Xms256m -Xmx256m -XX:+UseParallelGC}
TASKSET=${TASKSET:-}            # e.g. TASKSET=0 pins every process (client, proxies, servers) to CPU 0
RESULTS_MD=${RESULTS_MD:-$HERE/RESULTS.md}
SMALL_BODY_BYTES=64
# half the duration for the 1 MiB latency probe, at least 2 s
BIG_DURATION=$(( DURATION / 2 > 2 ? DURATION / 2 : 2 ))
# hard cap for any single client command: its own duration plus slack
SLACK=30

[[ "$ROUNDS" =~ ^[1-9][0-9]*$ ]] || { echo "ROUNDS must be a positive integer" >&2; exit 2; }
[[ "$DURATION" =~ ^[1-9][0-9]*$ ]] || { echo "DURATION must be a positive integer" >&2; exit 2; }
[[ "$WARMUP" =~ ^[0-9]+$ ]] || { echo "WARMUP must be a non-negative integer" >&2; exit 2; }

TS=$(date -u +%Y%m%dT%H%M%SZ)
OUT="$HERE/results/$TS"
WORK=$(mktemp -d /tmp/capstan-bench.XXXXXX)
chmod 755 "$WORK"   # nginx workers run as nobody and must read the 1 MiB file
mkdir -p "$OUT/logs" "$OUT/config"
METRICS="$OUT/metrics.tsv"
: >"$METRICS"

log() { printf '%s %s\n' "$(date -u +%H:%M:%S)" "$*" | tee -a "$OUT/run.log" >&2; }

# ----------------------------------------------------------------------------- process tracking
ALL_PIDS=()      # every long-running process this script started
CHILD_PID=""     # the client command currently running

# command prefix for every process we start (taskset execs the command: the pid stays the same)
PIN=()
if [[ -n "$TASKSET" ]]; then PIN=(taskset -c "$TASKSET"); fi


# descendants of a pid (nginx workers), found by parent pid
children_of() { ps -o pid= --ppid "$1" 2>/dev/null | tr -d ' ' || true; }

stop_pids() {  # stop_pids PID... : SIGTERM, wait up to 10 s, then SIGKILL
  local p pids=() kids
  for p in "$@"; do
    [[ -n "$p" ]] || continue
    kids=$(children_of "$p")
    pids+=("$p")
    [[ -z "$kids" ]] || pids+=($kids)
  done
  ((${#pids[@]})) || return 0
  kill -TERM "${pids[@]}" 2>/dev/null || true
  local i alive
  for ((i = 0; i < 100; i++)); do
    alive=0
    for p in "${pids[@]}"; do alive "$p" && alive=1; done
    ((alive)) || break
    sleep 0.1
  done
  kill -KILL "${pids[@]}" 2>/dev/null || true
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  local keep=() q
  for q in "${ALL_PIDS[@]}"; do
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
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT TERM

start_bg() {  # start_bg NAME CMD... : starts a long-running process, sets STARTED_PID
  local name=$1; shift
  "${PIN[@]+"${PIN[@]}"}" "$@" >"$OUT/logs/$name.log" 2>&1 &
  STARTED_PID=$!
  ALL_PIDS+=("$STARTED_PID")
}

bounded() {  # bounded SECONDS CMD... : runs a client command with a hard time limit
  local secs=$1; shift
  timeout --kill-after=5 "$secs" "$@" &
  CHILD_PID=$!
  local rc=0
  wait "$CHILD_PID" || rc=$?
  CHILD_PID=""
  return "$rc"
}

wait_port() {  # wait_port ADDR PORT SECONDS PID
  local addr=$1 port=$2 secs=$3 pid=$4 i
  for ((i = 0; i < secs * 10; i++)); do
    alive "$pid" || return 1
    # look for the listening socket instead of connecting (a probe connection upsets iperf3 -s)
    if ss -Hltn "src $addr:$port" 2>/dev/null | grep -q .; then return 0; fi
    sleep 0.1
  done
  return 1
}

# ----------------------------------------------------------------------------- preflight
for tool in haproxy nginx wrk iperf3 openssl python3 curl timeout ss ps; do
  command -v "$tool" >/dev/null || { echo "missing tool: $tool" >&2; exit 2; }
done
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

CAPSTAN_ENABLED=1
CAPSTAN_STATUS=""
if [[ "$SKIP_CAPSTAN" == 1 ]]; then
  CAPSTAN_ENABLED=0
  CAPSTAN_STATUS="skipped (SKIP_CAPSTAN=1)"
elif [[ ! -f "$CAPSTAN_JAR" ]]; then
  CAPSTAN_ENABLED=0
  CAPSTAN_STATUS="skipped: $CAPSTAN_JAR does not exist (build node-agent first)"
elif ! command -v java >/dev/null; then
  CAPSTAN_ENABLED=0
  CAPSTAN_STATUS="skipped: no java on PATH"
fi
if ((CAPSTAN_ENABLED == 0)); then log "capstan topology $CAPSTAN_STATUS"; fi

# ports: all below the ephemeral range, each free on both 127.0.0.1 and 127.0.0.2
read -r P_BE_HTTP P_BE_IPERF \
        P_HA_A_HTTP P_HA_A_IPERF P_HA_A_FULL P_HA_B_HTTP P_HA_B_IPERF P_HA_B_FULL \
        P_CP_A_HTTP P_CP_A_IPERF P_HBONE \
        P_CP_A_ADMIN P_CP_A_METRICS P_CP_A_READY P_CP_B_ADMIN P_CP_B_METRICS P_CP_B_READY \
  < <(python3 "$BENCH_PY" freeports 17 "$BASE_PORT" 127.0.0.1 127.0.0.2)
[[ -n "${P_CP_B_READY:-}" ]] || { echo "port allocation failed" >&2; exit 2; }
log "results: $OUT"
log "ports: backend http=$P_BE_HTTP iperf=$P_BE_IPERF haproxy-A=$P_HA_A_HTTP/$P_HA_A_IPERF/$P_HA_A_FULL" \
    "capstan-A=$P_CP_A_HTTP/$P_CP_A_IPERF hbone=$P_HBONE"

# ----------------------------------------------------------------------------- backends
SMALL_BODY=$(head -c "$SMALL_BODY_BYTES" /dev/zero | tr '\0' 'x')
mkdir -p "$WORK/nginx/www" "$WORK/nginx/tmp"
head -c 1048576 /dev/zero >"$WORK/nginx/www/1m"
cat >"$WORK/nginx/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $WORK/nginx/nginx.pid;
error_log $OUT/logs/nginx-error.log warn;
events { worker_connections 8192; }
http {
  access_log off;
  keepalive_requests 1000000;
  keepalive_timeout 75s;
  sendfile on;
  tcp_nodelay on;
  client_body_temp_path $WORK/nginx/tmp/body;
  proxy_temp_path $WORK/nginx/tmp/proxy;
  fastcgi_temp_path $WORK/nginx/tmp/fastcgi;
  uwsgi_temp_path $WORK/nginx/tmp/uwsgi;
  scgi_temp_path $WORK/nginx/tmp/scgi;
  default_type application/octet-stream;
  server {
    listen 127.0.0.2:$P_BE_HTTP;
    location = / { return 200 "$SMALL_BODY"; }
    location = /1m { root $WORK/nginx/www; }
  }
}
EOF
cp "$WORK/nginx/nginx.conf" "$OUT/config/"
nginx -t -q -e "$OUT/logs/nginx-error.log" -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf"
start_bg nginx nginx -e "$OUT/logs/nginx-error.log" -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf"
NGINX_PID=$STARTED_PID
start_bg iperf3-server iperf3 -s -B 127.0.0.2 -p "$P_BE_IPERF"
IPERF_PID=$STARTED_PID
wait_port 127.0.0.2 "$P_BE_HTTP" 10 "$NGINX_PID" || { echo "nginx did not start" >&2; exit 1; }
wait_port 127.0.0.2 "$P_BE_IPERF" 10 "$IPERF_PID" || { echo "iperf3 -s did not start" >&2; exit 1; }
body=$(curl -fsS --max-time 5 "http://127.0.0.2:$P_BE_HTTP/")
[[ ${#body} -eq $SMALL_BODY_BYTES ]] || { echo "backend body has ${#body} bytes" >&2; exit 1; }
big=$(curl -fsS --max-time 5 -o /dev/null -w '%{size_download}' "http://127.0.0.2:$P_BE_HTTP/1m")
[[ "$big" == 1048576 ]] || { echo "backend /1m has $big bytes" >&2; exit 1; }

# ----------------------------------------------------------------------------- haproxy pair
CERTS="$WORK/pki"
mkdir -p "$CERTS"
chmod 700 "$CERTS"
haproxy_pki "$CERTS"

TLS13="ssl-min-ver TLSv1.3 ciphersuites TLS_AES_256_GCM_SHA384"
cat >"$WORK/haproxy-b.cfg" <<EOF
global
  nbthread 1
  maxconn 4096
defaults
  mode tcp
  timeout connect 5s
  timeout client 120s
  timeout server 120s
frontend tls_http
  bind 127.0.0.1:$P_HA_B_HTTP ssl crt $CERTS/haproxy-b.pem ca-file $CERTS/ca.crt verify required $TLS13 curves X25519
  default_backend be_http
frontend tls_full
  bind 127.0.0.1:$P_HA_B_FULL ssl crt $CERTS/haproxy-b.pem ca-file $CERTS/ca.crt verify required $TLS13 curves X25519 no-tls-tickets
  default_backend be_http
frontend tls_iperf
  bind 127.0.0.1:$P_HA_B_IPERF ssl crt $CERTS/haproxy-b.pem ca-file $CERTS/ca.crt verify required $TLS13 curves X25519
  default_backend be_iperf
backend be_http
  server nginx 127.0.0.2:$P_BE_HTTP
backend be_iperf
  server iperf 127.0.0.2:$P_BE_IPERF
EOF
SRV_TLS="ssl crt $CERTS/haproxy-a.pem ca-file $CERTS/ca.crt verify required verifyhost haproxy-b.bench sni str(haproxy-b.bench) $TLS13"
cat >"$WORK/haproxy-a.cfg" <<EOF
global
  nbthread 1
  maxconn 4096
defaults
  mode tcp
  timeout connect 5s
  timeout client 120s
  timeout server 120s
frontend plain_http
  bind 127.0.0.1:$P_HA_A_HTTP
  default_backend hop_http
frontend plain_full
  bind 127.0.0.1:$P_HA_A_FULL
  default_backend hop_full
frontend plain_iperf
  bind 127.0.0.1:$P_HA_A_IPERF
  default_backend hop_iperf
backend hop_http
  server b 127.0.0.1:$P_HA_B_HTTP $SRV_TLS
backend hop_full
  server b 127.0.0.1:$P_HA_B_FULL $SRV_TLS no-ssl-reuse
backend hop_iperf
  server b 127.0.0.1:$P_HA_B_IPERF $SRV_TLS
EOF
cp "$WORK/haproxy-a.cfg" "$WORK/haproxy-b.cfg" "$OUT/config/"
haproxy -q -c -f "$WORK/haproxy-a.cfg"
haproxy -q -c -f "$WORK/haproxy-b.cfg"

start_haproxy() {
  start_bg "haproxy-b-r$ROUND" haproxy -db -f "$WORK/haproxy-b.cfg"
  local b=$STARTED_PID
  start_bg "haproxy-a-r$ROUND" haproxy -db -f "$WORK/haproxy-a.cfg"
  local a=$STARTED_PID
  wait_port 127.0.0.1 "$P_HA_B_HTTP" 10 "$b" && wait_port 127.0.0.1 "$P_HA_A_HTTP" 10 "$a" || return 1
  HA_PIDS="$a $b"
}

check_haproxy_tls() {  # records negotiated TLS parameters and checks that a client cert is required
  local out
  out=$(timeout 10 openssl s_client -connect "127.0.0.1:$P_HA_B_HTTP" -servername haproxy-b.bench \
          -cert "$CERTS/haproxy-a.crt" -key "$CERTS/haproxy-a.key" -CAfile "$CERTS/ca.crt" \
          -verify_return_error </dev/null 2>&1 || true)
  HA_TLS_INFO=$(printf '%s\n' "$out" | grep -E '^(New, TLS|Server Temp Key|Peer signature type|Verify return code)' \
                  | sed 's/^/    /' || true)
  local with without req=$'GET / HTTP/1.0\r\n\r\n'
  with=$(printf '%s' "$req" | timeout 10 openssl s_client -quiet -connect "127.0.0.1:$P_HA_B_HTTP" \
           -cert "$CERTS/haproxy-a.crt" -key "$CERTS/haproxy-a.key" -CAfile "$CERTS/ca.crt" 2>/dev/null | head -c 100 || true)
  without=$(printf '%s' "$req" | timeout 10 openssl s_client -quiet -connect "127.0.0.1:$P_HA_B_HTTP" \
              -CAfile "$CERTS/ca.crt" 2>/dev/null | head -c 100 || true)
  if [[ "$with" == *"200 OK"* && "$without" != *"200 OK"* ]]; then
    HA_TLS_INFO+=$'\n    client certificate required: yes (request without a client cert was refused)'
  else
    HA_TLS_INFO+=$'\n    client certificate check FAILED: with cert: '"${with:0:20}"', without cert: '"${without:0:20}"
    warn 0 haproxy "mTLS check failed between the HAProxy hops"
  fi
}

# ----------------------------------------------------------------------------- capstan pair
setup_capstan() {
  local d="$WORK/capstan"
  mkdir -p "$d"
  cat >"$d/mesh.yaml" <<EOF
version: "bench-1"
workloads:
  - {uid: client-1, name: client, namespace: bench, serviceAccount: client, ips: ["127.0.0.1"], node: node-a}
  - {uid: backend-1, name: backend, namespace: bench, serviceAccount: backend, ips: ["127.0.0.2"], node: node-b}
services:
  - namespace: bench
    name: backend
    vips: ["127.0.100.1"]
    ports: [{name: http, port: 80, targetPort: $P_BE_HTTP}, {name: iperf, port: 5201, targetPort: $P_BE_IPERF}]
    endpoints: [{workload: backend-1}]
policies: []
EOF
  local node admin metrics ready
  for node in a b; do
    if [[ $node == a ]]; then admin=$P_CP_A_ADMIN metrics=$P_CP_A_METRICS ready=$P_CP_A_READY
    else admin=$P_CP_B_ADMIN metrics=$P_CP_B_METRICS ready=$P_CP_B_READY; fi
    {
      echo "node: node-$node"
      echo "trustDomain: cluster.local"
      echo "mesh: $d/mesh.yaml"
      echo "certs: $d/certs"
      echo "hbonePort: $P_HBONE"
      echo "admin: 127.0.0.1:$admin"
      echo "metrics: 127.0.0.1:$metrics"
      echo "ready: 127.0.0.1:$ready"
      echo "explicitProxy: null"
      if [[ $node == a ]]; then
        echo "upstreams:"
        echo "  - {listen: \"127.0.0.1:$P_CP_A_HTTP\", service: bench/backend, port: 80}"
        echo "  - {listen: \"127.0.0.1:$P_CP_A_IPERF\", service: bench/backend, port: 5201}"
      fi
      echo "drainTimeout: 1s"
      echo "accessLog: off"
    } >"$d/agent-$node.yaml"
  done
  cp "$d/mesh.yaml" "$d/agent-a.yaml" "$d/agent-b.yaml" "$OUT/config/"
  log "capstan: generating certificates"
  bounded 120 java -jar "$CAPSTAN_JAR" certs --mesh "$d/mesh.yaml" --out "$d/certs" \
    >"$OUT/logs/capstan-certs.log" 2>&1 || { CAPSTAN_STATUS="failed: 'certs' exited non-zero (logs/capstan-certs.log)"; return 1; }
  [[ -f "$d/certs/root-cert.pem" ]] || { CAPSTAN_STATUS="failed: 'certs' wrote no root-cert.pem"; return 1; }
}

wait_ready() {  # wait_ready PORT SECONDS PID
  local port=$1 secs=$2 pid=$3 i
  for ((i = 0; i < secs * 5; i++)); do
    alive "$pid" || return 1
    curl -fs --max-time 1 -o /dev/null "http://127.0.0.1:$port/healthz/ready" && return 0
    sleep 0.2
  done
  return 1
}

start_capstan() {
  local d="$WORK/capstan" a b
  # shellcheck disable=SC2086
  start_bg "capstan-b-r$ROUND" java $CAPSTAN_JVM_OPTS -jar "$CAPSTAN_JAR" run --config "$d/agent-b.yaml"
  b=$STARTED_PID
  # shellcheck disable=SC2086
  start_bg "capstan-a-r$ROUND" java $CAPSTAN_JVM_OPTS -jar "$CAPSTAN_JAR" run --config "$d/agent-a.yaml"
  a=$STARTED_PID
  CP_PIDS="$a $b"
  if ! wait_ready "$P_CP_B_READY" 60 "$b"; then
    CAPSTAN_STATUS="failed: agent B not ready within 60 s (logs/capstan-b-r$ROUND.log)"; return 1
  fi
  if ! wait_ready "$P_CP_A_READY" 60 "$a"; then
    CAPSTAN_STATUS="failed: agent A not ready within 60 s (logs/capstan-a-r$ROUND.log)"; return 1
  fi
  local body
  body=$(curl -fsS --max-time 10 "http://127.0.0.1:$P_CP_A_HTTP/" 2>>"$OUT/run.log" || true)
  if [[ ${#body} -ne $SMALL_BODY_BYTES ]]; then
    sleep 0.5
    local hint
    hint=$(cat "$OUT/logs/capstan-a-r$ROUND.log" "$OUT/logs/capstan-b-r$ROUND.log" 2>/dev/null \
             | grep -E 'WARN|ERROR|Exception' | tail -1 | cut -c1-300 || true)
    CAPSTAN_STATUS="failed: GET through the agents returned ${#body} bytes instead of $SMALL_BODY_BYTES${hint:+; agent log: $hint}"
    return 1
  fi
}

# ----------------------------------------------------------------------------- measurements
metric() { printf '%s\t%s\t%s\t%s\n' "$ROUND" "$1" "$2" "$3" >>"$METRICS"; }
warn() { printf '%s\t%s\twarning\t%s\n' "$1" "$2" "$3" >>"$METRICS"; log "WARNING round $1 $2: $3"; }

http_url() {
  case $1 in
    direct) echo "http://127.0.0.2:$P_BE_HTTP" ;;
    haproxy) echo "http://127.0.0.1:$P_HA_A_HTTP" ;;
    haproxy-full) echo "http://127.0.0.1:$P_HA_A_FULL" ;;
    capstan) echo "http://127.0.0.1:$P_CP_A_HTTP" ;;
  esac
}
iperf_target() {
  case $1 in
    direct) echo "127.0.0.2 $P_BE_IPERF" ;;
    haproxy) echo "127.0.0.1 $P_HA_A_IPERF" ;;
    capstan) echo "127.0.0.1 $P_CP_A_IPERF" ;;
  esac
}
proxy_pids() {
  case $1 in
    direct) echo "" ;;
    haproxy | haproxy-full) echo "$HA_PIDS" ;;
    capstan) echo "$CP_PIDS" ;;
  esac
}
cpu_ticks() { if [[ -n "$1" ]]; then python3 "$BENCH_PY" cputicks $1; else echo 0; fi; }
mem_mib() { local kib; kib=$(python3 "$BENCH_PY" mem "$1" $2) || return 1; awk -v k="$kib" 'BEGIN { printf "%.2f", k / 1024 }'; }

# proxies_up TOPO: true while every proxy process of the topology runs. The first time one has
# exited, records a warning with its exit status (143 = SIGTERM, 137 = SIGKILL from outside this
# script); the topology is then skipped for the rest of the round.
DEAD_TOPOS=" "
proxies_up() {
  local topo=${1%-full} p rc
  [[ "$DEAD_TOPOS" != *" $topo "* ]] || return 1
  for p in $(proxy_pids "$topo"); do
    if ! alive "$p"; then
      rc=0
      wait "$p" 2>/dev/null || rc=$?
      warn "$ROUND" "$topo" "proxy process $p exited (status $rc; 143 = SIGTERM, 137 = SIGKILL, not sent by this script) — $topo skipped for the rest of the round, see logs/"
      DEAD_TOPOS+="$topo "
      return 1
    fi
  done
}
CLK_TCK=$(getconf CLK_TCK)

# run_wrk TOPO NAME SECONDS URL WRK-ARGS... ; sets W_RPS W_REQ W_P50 W_P99 W_ERR and W_CPU_TICKS
run_wrk() {
  local topo=$1 name=$2 secs=$3 url=$4; shift 4
  local file="$OUT/r$ROUND/$topo-$name.txt" pids t0 t1 parsed
  proxies_up "$topo" || return 1
  pids=$(proxy_pids "$topo")
  t0=$(cpu_ticks "$pids") || { proxies_up "$topo"; return 1; }
  {
    echo "# wrk $* -d${secs}s --latency $url"
  } >"$file"
  if ! bounded $((secs + SLACK)) "${PIN[@]+"${PIN[@]}"}" wrk "$@" -d"${secs}s" --latency "$url" >>"$file" 2>&1; then
    warn "$ROUND" "$topo" "$name: wrk failed or timed out (see r$ROUND/$topo-$name.txt)"
    return 1
  fi
  if ! t1=$(cpu_ticks "$pids"); then
    proxies_up "$topo" || true
    warn "$ROUND" "$topo" "$name: a proxy process exited during the measurement; result discarded"
    return 1
  fi
  W_CPU_TICKS=$((t1 - t0))
  if ! parsed=$(python3 "$BENCH_PY" wrk "$file" 2>&1); then
    warn "$ROUND" "$topo" "$name: $parsed"
    return 1
  fi
  read -r W_RPS W_REQ W_P50 W_P99 W_ERR <<<"$parsed"
  echo "# proxy cpu ticks: $W_CPU_TICKS (CLK_TCK $CLK_TCK) pids: $pids" >>"$file"
  if ((W_ERR > 0)); then warn "$ROUND" "$topo" "$name: wrk reported $W_ERR socket errors / non-2xx responses"; fi
  log "r$ROUND $topo $name: $W_RPS req/s p50 ${W_P50}ms p99 ${W_P99}ms errors $W_ERR"
}

cpu_us_per() {  # cpu_us_per TICKS COUNT
  awk -v t="$1" -v n="$2" -v hz="$CLK_TCK" 'BEGIN { if (n > 0) printf "%.3f", t / hz * 1e6 / n; else print "nan" }'
}

measure_ka64() {
  run_wrk "$1" ka64 "$DURATION" "$(http_url "$1")/" -t2 -c64 || return 0
  metric "$1" ka64_rps "$W_RPS"; metric "$1" ka64_p50 "$W_P50"; metric "$1" ka64_p99 "$W_P99"
  if [[ "$1" != direct ]]; then metric "$1" cpu_us_req "$(cpu_us_per "$W_CPU_TICKS" "$W_REQ")"; fi
}
measure_ka1() {
  run_wrk "$1" ka1 "$DURATION" "$(http_url "$1")/" -t1 -c1 || return 0
  metric "$1" ka1_rps "$W_RPS"; metric "$1" ka1_p50 "$W_P50"; metric "$1" ka1_p99 "$W_P99"
}
measure_close() {
  local topo=$1 key=close_cps name=close
  if [[ "$topo" == haproxy-full ]]; then key=close_cps_fullhs name=close-fullhs; fi
  run_wrk "$topo" "$name" "$DURATION" "$(http_url "$topo")/" -t2 -c32 -H 'Connection: close' || return 0
  local t=${topo%-full}
  metric "$t" "$key" "$W_RPS"
  case $topo in
    haproxy | capstan) metric "$t" cpu_us_conn "$(cpu_us_per "$W_CPU_TICKS" "$W_REQ")" ;;
    haproxy-full) metric "$t" cpu_us_conn_fullhs "$(cpu_us_per "$W_CPU_TICKS" "$W_REQ")" ;;
  esac
}
measure_big() {
  run_wrk "$1" big1m "$BIG_DURATION" "$(http_url "$1")/1m" -t1 -c1 || return 0
  metric "$1" big_p50 "$W_P50"
}
measure_bulk() {
  local topo=$1 addr port file="$OUT/r$ROUND/$1-iperf3.json" gbps
  proxies_up "$topo" || return 0
  read -r addr port <<<"$(iperf_target "$topo")"
  if ! bounded $((DURATION + SLACK)) "${PIN[@]+"${PIN[@]}"}" iperf3 -c "$addr" -p "$port" -t "$DURATION" -J \
        --connect-timeout 5000 >"$file" 2>"$file.stderr"; then
    warn "$ROUND" "$topo" "bulk: iperf3 failed or timed out (see r$ROUND/$topo-iperf3.json)"
    return 0
  fi
  if ! gbps=$(python3 "$BENCH_PY" iperf "$file" 2>&1); then
    warn "$ROUND" "$topo" "bulk: $gbps"; return 0
  fi
  metric "$topo" bulk_gbps "$gbps"
  log "r$ROUND $topo bulk: $gbps Gbit/s"
}

warmup() {
  local topo=$1 url addr port
  ((WARMUP > 0)) || return 0
  proxies_up "$topo" || return 0
  url=$(http_url "$topo")
  log "r$ROUND $topo warm-up"
  bounded $((WARMUP + SLACK)) "${PIN[@]+"${PIN[@]}"}" wrk -t2 -c64 -d"${WARMUP}s" "$url/" >>"$OUT/r$ROUND/$topo-warmup.txt" 2>&1 || true
  bounded $((WARMUP + SLACK)) "${PIN[@]+"${PIN[@]}"}" wrk -t2 -c32 -d"${WARMUP}s" -H 'Connection: close' "$url/" \
    >>"$OUT/r$ROUND/$topo-warmup.txt" 2>&1 || true
  bounded $((WARMUP + SLACK)) "${PIN[@]+"${PIN[@]}"}" wrk -t1 -c1 -d"${WARMUP}s" "$url/1m" >>"$OUT/r$ROUND/$topo-warmup.txt" 2>&1 || true
  read -r addr port <<<"$(iperf_target "$topo")"
  bounded $((WARMUP + SLACK)) "${PIN[@]+"${PIN[@]}"}" iperf3 -c "$addr" -p "$port" -t "$WARMUP" --connect-timeout 5000 \
    >>"$OUT/r$ROUND/$topo-warmup.txt" 2>&1 || true
}

# ----------------------------------------------------------------------------- metadata
CPU_MODEL=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
JDK=$( (java -version 2>&1 || echo "java not found") | head -3 | sed 's/^/    /')
HAPROXY_V=$( (haproxy -v 2>&1 || true) | head -1)
NGINX_V=$( (nginx -v 2>&1 || true) | head -1)
WRK_V=$( (wrk -v 2>&1 || true) | head -1 | awk '{print $1, $2}')   # wrk -v exits non-zero
IPERF_V=$( (iperf3 -v 2>&1 || true) | head -1)
OPENSSL_V=$( (openssl version 2>&1 || true) | head -1)
GIT_REV=$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo "no commit")
GIT_DIRTY=$(git -C "$REPO" status --porcelain 2>/dev/null | head -1)
[[ -z "$GIT_DIRTY" ]] || GIT_REV="$GIT_REV (working tree has uncommitted changes)"
CMD=""
[[ " ${ORIG_ENV_VARS[*]+"${ORIG_ENV_VARS[*]}"} " == *" ROUNDS="* ]] || CMD="ROUNDS=$ROUNDS "
for v in "${ORIG_ENV_VARS[@]+"${ORIG_ENV_VARS[@]}"}"; do CMD+="$(printf '%q' "$v") "; done
CMD+="benchmarks/run.sh"
START_DATE=$(date -u)
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)

# ----------------------------------------------------------------------------- main loop
HA_PIDS="" CP_PIDS="" HA_TLS_INFO="" ROUND=0 JAR_INFO=""
if ((CAPSTAN_ENABLED)); then
  # run a private copy: a rebuild of node-agent during the run must not change the measured jar
  JAR_INFO="$CAPSTAN_JAR ($(stat -c '%s bytes, built %y' "$CAPSTAN_JAR"), sha256 $(sha256sum "$CAPSTAN_JAR" | cut -c1-16))"
  cp "$CAPSTAN_JAR" "$WORK/capstan-node-agent.jar"
  CAPSTAN_JAR="$WORK/capstan-node-agent.jar"
  if setup_capstan; then
    CAPSTAN_STATUS="measured: $JAR_INFO"
  else
    CAPSTAN_ENABLED=0
    CAPSTAN_STATUS="$CAPSTAN_STATUS; jar: $JAR_INFO"
    log "capstan topology $CAPSTAN_STATUS"
  fi
fi

for ((ROUND = 1; ROUND <= ROUNDS; ROUND++)); do
  mkdir -p "$OUT/r$ROUND"
  log "=== round $ROUND/$ROUNDS"
  TOPOS=(direct haproxy)
  start_haproxy || { echo "haproxy pair did not start (logs in $OUT/logs)" >&2; exit 1; }
  if ((ROUND == 1)); then check_haproxy_tls; fi
  if ((CAPSTAN_ENABLED)); then
    if start_capstan; then
      TOPOS+=(capstan)
    else
      CAPSTAN_STATUS="$CAPSTAN_STATUS; jar: $JAR_INFO"
      warn "$ROUND" capstan "$CAPSTAN_STATUS"
      stop_pids $CP_PIDS
      CP_PIDS=""
      CAPSTAN_ENABLED=0
    fi
  fi
  # rotate the order every round so that no topology always runs first or last
  n=${#TOPOS[@]}
  ORDER=()
  for ((i = 0; i < n; i++)); do ORDER+=("${TOPOS[$(((i + ROUND - 1) % n))]}"); done
  log "order: ${ORDER[*]}"
  sleep 2
  DEAD_TOPOS=" "
  for t in "${ORDER[@]}"; do
    pids=$(proxy_pids "$t")
    if [[ -n "$pids" ]] && proxies_up "$t" && mib=$(mem_mib VmRSS "$pids"); then metric "$t" rss_idle "$mib"; fi
  done
  for t in "${ORDER[@]}"; do warmup "$t"; done
  for t in "${ORDER[@]}"; do measure_ka64 "$t"; done
  for t in "${ORDER[@]}"; do measure_ka1 "$t"; done
  for t in "${ORDER[@]}"; do
    measure_close "$t"
    [[ "$t" != haproxy ]] || measure_close haproxy-full
  done
  for t in "${ORDER[@]}"; do measure_bulk "$t"; done
  for t in "${ORDER[@]}"; do measure_big "$t"; done
  for t in "${ORDER[@]}"; do
    pids=$(proxy_pids "$t")
    if [[ -n "$pids" ]] && proxies_up "$t" && mib=$(mem_mib VmHWM "$pids"); then metric "$t" rss_peak "$mib"; fi
  done
  # shellcheck disable=SC2086
  stop_pids $HA_PIDS $CP_PIDS
  HA_PIDS="" CP_PIDS=""
done

# ----------------------------------------------------------------------------- report
{
  echo "# Capstan benchmark results"
  echo
  echo "- date: $START_DATE"
  echo "- JDK:"
  echo "$JDK"
  echo "- machine: $(nproc) CPUs, $CPU_MODEL, kernel $(uname -r)"
  echo "- peers: $HAPROXY_V; $NGINX_V; $WRK_V; $IPERF_V; $OPENSSL_V"
  echo "- load average (1/5/15 min) before the run: $LOAD_START; at the end: $(cut -d' ' -f1-3 /proc/loadavg) (the run itself keeps both CPUs busy, ~2–3; more means other work shared the machine)"
  echo "- repository revision: $GIT_REV"
  echo "- rounds: $ROUNDS, ${DURATION}s per measurement (1 MiB probe ${BIG_DURATION}s), ${WARMUP}s warm-up per step$([[ "$QUICK" == 1 ]] && echo ' (QUICK mode)')$([[ -n "$TASKSET" ]] && echo ", all processes pinned with taskset -c $TASKSET")"
  echo "- Capstan: $CAPSTAN_STATUS"
  echo "- Capstan JVM flags: \`$CAPSTAN_JVM_OPTS\`"
  echo "- HAProxy hop TLS (A → B, checked with openssl s_client against B):"
  echo "$HA_TLS_INFO"
  echo "- reproduce: \`cd $REPO && $CMD\`"
  echo "- raw outputs: benchmarks/results/$TS/ (not in git)"
  echo
  echo "Topologies (see README.md): direct = wrk/iperf3 → nginx/iperf3 on 127.0.0.2;"
  echo "haproxy = client → HAProxy A (tcp, nbthread 1) → TLS 1.3 mTLS → HAProxy B → backend;"
  echo "capstan = client → node agent A (fixed upstream listener) → HBONE mTLS → node agent B → backend."
  echo "HAProxy A reuses TLS sessions towards B (its default); the row \"without TLS session reuse\""
  echo "goes through a second A → B listener pair with \`no-ssl-reuse\` / \`no-tls-tickets\` (a full handshake per connection)."
  echo "Measurement order is rotated every round; the proxies are restarted every round."
} >"$OUT/meta.txt"
python3 "$BENCH_PY" summarize "$OUT" "$OUT/RESULTS.md"
# The control-plane section (benchmarks/control-plane.sh) is not this run's: keep it as it was.
python3 "$HERE/lib/control_plane.py" carry "$RESULTS_MD" "$OUT/RESULTS.md"
# So is the capture-mode section (benchmarks/capture.sh).
python3 "$HERE/lib/carry.py" "## Capture mode (issue 4)" "$RESULTS_MD" "$OUT/RESULTS.md"
# And the agent-restart figure (the e2e test TransparentMeshTest).
python3 "$HERE/lib/carry.py" "## Agent restart under load (issue 4)" "$RESULTS_MD" "$OUT/RESULTS.md"
# the noisy-neighbour section (noisy-neighbour.sh)
python3 "$HERE/lib/carry.py" "## Noisy neighbour (issue 5)" "$RESULTS_MD" "$OUT/RESULTS.md"
# the waypoint section (waypoint.sh)
python3 "$HERE/lib/carry.py" "## Waypoint (issue 6)" "$RESULTS_MD" "$OUT/RESULTS.md"
cp "$OUT/RESULTS.md" "$RESULTS_MD"
log "wrote $RESULTS_MD (raw data in $OUT)"
