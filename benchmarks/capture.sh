#!/usr/bin/env bash
# Capstan benchmark through real kernel capture (issue 4): two nodes and their pods as network
# namespaces, client pod on node1, nginx/iperf3 server pod on node2. Three topologies, interleaved
# in one run and repeated ROUNDS times:
#   direct   client-plain pod → server-plain pod, plain TCP routed between the nodes
#   haproxy  client-plain pod → HAProxy in node1 → TLS 1.3 mTLS → HAProxy in node2 → server-plain pod
#   capstan  client pod → 10.1.2.10:80 unchanged; nftables TPROXY (capstan-redirect) hands it to the
#            node1 agent → HBONE (mTLS) → TPROXY on node2 → node2 agent → server pod
# Writes the section "## Capture mode (issue 4)" of benchmarks/RESULTS.md (replacing it if present)
# and raw outputs to benchmarks/results/capture-<timestamp>/. See benchmarks/README.md.
#
# Needs root. All traffic stays inside the namespaces this script creates (prefix cbench<pid>);
# every load command is bounded by its duration and by `timeout`; the EXIT trap stops every
# process and deletes every namespace, also on failure or Ctrl-C.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(dirname "$HERE")
# shellcheck source=lib/common.sh
source "$HERE/lib/common.sh"
BENCH_PY="$HERE/lib/bench.py"
CAPTURE_PY="$HERE/lib/capture.py"

# ----------------------------------------------------------------------------- settings
ORIG_ENV_VARS=()
for v in ROUNDS QUICK DURATION WARMUP FIRST_WARMUP CAPSTAN_WORKERS CAPSTAN_JVM_OPTS \
         AGENT_JAR REDIRECT_JAR SKIP_BUILD RESULTS_MD; do
  if [[ -n "${!v+x}" ]]; then ORIG_ENV_VARS+=("$v=${!v}"); fi
done
ROUNDS=${ROUNDS:-3}
QUICK=${QUICK:-0}
if [[ "$QUICK" == 1 ]]; then
  DURATION=${DURATION:-3}; WARMUP=${WARMUP:-1}; FIRST_WARMUP=${FIRST_WARMUP:-3}
else
  DURATION=${DURATION:-10}; WARMUP=${WARMUP:-5}; FIRST_WARMUP=${FIRST_WARMUP:-30}
fi
CAPSTAN_WORKERS=${CAPSTAN_WORKERS:-$(nproc)}
CAPSTAN_JVM_OPTS=${CAPSTAN_JVM_OPTS:--Xms256m -Xmx256m -XX:+UseParallelGC}
AGENT_JAR=${AGENT_JAR:-$REPO/node-agent/target/capstan-node-agent.jar}
REDIRECT_JAR=${REDIRECT_JAR:-$REPO/ztunnel-redirect/target/capstan-redirect.jar}
SKIP_BUILD=${SKIP_BUILD:-0}
RESULTS_MD=${RESULTS_MD:-$HERE/RESULTS.md}
BIG_DURATION=$(( DURATION / 2 > 2 ? DURATION / 2 : 2 ))
SLACK=30
SMALL_BODY_BYTES=64

[[ "$ROUNDS" =~ ^[1-9][0-9]*$ ]] || { echo "ROUNDS must be a positive integer" >&2; exit 2; }
[[ "$DURATION" =~ ^[1-9][0-9]*$ ]] || { echo "DURATION must be a positive integer" >&2; exit 2; }
[[ "$WARMUP" =~ ^[0-9]+$ && "$FIRST_WARMUP" =~ ^[0-9]+$ ]] || { echo "WARMUP/FIRST_WARMUP must be integers" >&2; exit 2; }
[[ $(id -u) == 0 ]] || { echo "capture.sh needs root (network namespaces, nftables)" >&2; exit 2; }
for tool in ip nft haproxy nginx wrk iperf3 openssl python3 curl timeout java; do
  command -v "$tool" >/dev/null || { echo "missing tool: $tool" >&2; exit 2; }
done

# ----------------------------------------------------------------------------- names and addresses
P="cbench$$"                 # namespace prefix
I="cb$$"                     # interface prefix (names stay <= 15 characters)
NS_N1="$P-node1" NS_N2="$P-node2"
NS_CL="$P-client" NS_SV="$P-server"             # enrolled in the mesh (capstan topology)
NS_CLP="$P-clientp" NS_SVP="$P-serverp"         # not enrolled (direct, haproxy)
IP_N1=10.0.0.1 IP_N2=10.0.0.2
IP_CL=10.1.1.10 IP_CLP=10.1.1.11 IP_SV=10.1.2.10 IP_SVP=10.1.2.11
GW=169.254.1.1
HA_HTTP=8080 HA_IPERF=8081 HA_TLS_HTTP=8443 HA_TLS_IPERF=8444

TS=$(date -u +%Y%m%dT%H%M%SZ)
OUT="$HERE/results/capture-$TS"
WORK=$(mktemp -d /tmp/capstan-capture.XXXXXX)
chmod 755 "$WORK"   # nginx workers run as nobody
mkdir -p "$OUT/logs" "$OUT/config"
METRICS="$OUT/metrics.tsv"
: >"$METRICS"
log() { printf '%s %s\n' "$(date -u +%H:%M:%S)" "$*" | tee -a "$OUT/run.log" >&2; }

# ----------------------------------------------------------------------------- processes, cleanup
ALL_PIDS=()
CHILD_PID=""
NAMESPACES=()

children_of() { ps -o pid= --ppid "$1" 2>/dev/null | tr -d ' ' || true; }

stop_pids() {  # SIGTERM, up to 10 s, then SIGKILL (and their direct children: nginx workers)
  local p pids=() kids i any
  for p in "$@"; do
    [[ -n "$p" ]] || continue
    kids=$(children_of "$p"); pids+=("$p"); [[ -z "$kids" ]] || pids+=($kids)
  done
  ((${#pids[@]})) || return 0
  kill -TERM "${pids[@]}" 2>/dev/null || true
  for ((i = 0; i < 100; i++)); do
    any=0; for p in "${pids[@]}"; do alive "$p" && any=1; done
    ((any)) || break; sleep 0.1
  done
  kill -KILL "${pids[@]}" 2>/dev/null || true
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
}

cleanup() {
  local rc=$? ns pids
  trap - EXIT INT TERM
  [[ -z "$CHILD_PID" ]] || kill -TERM "$CHILD_PID" 2>/dev/null || true
  if ((${#ALL_PIDS[@]})); then
    log "stopping ${#ALL_PIDS[@]} process(es)"
    stop_pids "${ALL_PIDS[@]}"
  fi
  # anything still running inside our namespaces (nothing should), then the namespaces themselves;
  # veths, routes and nftables tables live in them and go with them
  for ((i = ${#NAMESPACES[@]} - 1; i >= 0; i--)); do
    ns=${NAMESPACES[$i]}
    pids=$(ip netns pids "$ns" 2>/dev/null || true)
    [[ -z "$pids" ]] || kill -KILL $pids 2>/dev/null || true
    ip netns del "$ns" 2>/dev/null || true
  done
  if ip netns list 2>/dev/null | grep -q "^$P-"; then log "WARNING: namespaces left: $(ip netns list | grep "^$P-" | tr '\n' ' ')"; fi
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT TERM

in_ns() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

start_bg() {  # start_bg NAME NS CMD... : a long-running process inside NS; sets STARTED_PID
  local name=$1 ns=$2; shift 2
  ip netns exec "$ns" "$@" >"$OUT/logs/$name.log" 2>&1 &   # ip netns exec execs: the pid is the command's
  STARTED_PID=$!
  ALL_PIDS+=("$STARTED_PID")
}

bounded() {  # bounded SECONDS CMD... : a client command with a hard time limit
  local secs=$1; shift
  timeout --kill-after=5 "$secs" "$@" &
  CHILD_PID=$!
  local rc=0
  wait "$CHILD_PID" || rc=$?
  CHILD_PID=""
  return "$rc"
}

wait_listen() {  # wait_listen NS PORT SECONDS PID : a listening socket on PORT (any address) in NS
  local ns=$1 port=$2 secs=$3 pid=$4 i
  for ((i = 0; i < secs * 10; i++)); do
    alive "$pid" || return 1
    in_ns "$ns" ss -Hltn "sport = :$port" 2>/dev/null | grep -q . && return 0
    sleep 0.1
  done
  return 1
}

# ----------------------------------------------------------------------------- build
if [[ "$SKIP_BUILD" != 1 && ( ! -f "$AGENT_JAR" || ! -f "$REDIRECT_JAR" ) ]]; then
  log "building the jars (./mvnw -B -q -DskipTests package)"
  (cd "$REPO" && ./mvnw -B -q -DskipTests package) >"$OUT/logs/build.log" 2>&1 \
    || { echo "build failed: $OUT/logs/build.log" >&2; exit 1; }
fi
for j in "$AGENT_JAR" "$REDIRECT_JAR"; do [[ -f "$j" ]] || { echo "missing $j" >&2; exit 1; }; done
# private copies: a rebuild during the run must not change what is measured
JAR_INFO="agent $(sha256sum "$AGENT_JAR" | cut -c1-16) ($(stat -c '%s bytes, built %y' "$AGENT_JAR")), redirect $(sha256sum "$REDIRECT_JAR" | cut -c1-16)"
cp "$AGENT_JAR" "$WORK/agent.jar"; cp "$REDIRECT_JAR" "$WORK/redirect.jar"
AGENT_JAR="$WORK/agent.jar" REDIRECT_JAR="$WORK/redirect.jar"

# ----------------------------------------------------------------------------- metadata (before)
CPU_MODEL=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
JDK=$( (java -version 2>&1 || true) | head -3 | sed 's/^/    /')
HAPROXY_V=$( (haproxy -v 2>&1 || true) | head -1)
NGINX_V=$( (nginx -v 2>&1 || true) | head -1)
WRK_V=$( (wrk -v 2>&1 || true) | head -1 | awk '{print $1, $2}')
IPERF_V=$( (iperf3 -v 2>&1 || true) | head -1)
OPENSSL_V=$( (openssl version 2>&1 || true) | head -1)
GIT_REV=$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo "no commit")
[[ -z "$(git -C "$REPO" status --porcelain -- . ':!benchmarks/RESULTS.md' 2>/dev/null | head -1)" ]] \
  || GIT_REV="$GIT_REV (working tree has uncommitted changes)"
CMD=""
[[ " ${ORIG_ENV_VARS[*]+"${ORIG_ENV_VARS[*]}"} " == *" ROUNDS="* ]] || CMD="ROUNDS=$ROUNDS "
for v in "${ORIG_ENV_VARS[@]+"${ORIG_ENV_VARS[@]}"}"; do CMD+="$(printf '%q' "$v") "; done
CMD+="benchmarks/capture.sh"
START_DATE=$(date -u)
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
UPTIME_START=$(uptime)
log "results: $OUT; prefix $P; load: $LOAD_START"

# ----------------------------------------------------------------------------- topology
add_ns() { ip netns add "$1"; NAMESPACES+=("$1"); in_ns "$1" ip link set lo up; }

add_ns "$NS_N1"; add_ns "$NS_N2"
ip link add "${I}w1" netns "$NS_N1" type veth peer name "${I}w2" netns "$NS_N2"
in_ns "$NS_N1" ip addr add "$IP_N1/24" dev "${I}w1"; in_ns "$NS_N1" ip link set "${I}w1" up
in_ns "$NS_N2" ip addr add "$IP_N2/24" dev "${I}w2"; in_ns "$NS_N2" ip link set "${I}w2" up
in_ns "$NS_N1" ip route add 10.1.2.0/24 via "$IP_N2"
in_ns "$NS_N2" ip route add 10.1.1.0/24 via "$IP_N1"
for ns in "$NS_N1" "$NS_N2"; do
  in_ns "$ns" sysctl -qw net.ipv4.ip_forward=1
  in_ns "$ns" ip addr add "$GW/32" dev lo   # with no default route proxy_arp alone would not answer
done

POD_IDX=0
add_pod() {  # add_pod NS NODE_NS IP : a pod on a point-to-point veth, Calico/ptp style
  local ns=$1 node=$2 ip=$3 host="${I}p$POD_IDX"
  POD_IDX=$((POD_IDX + 1))
  add_ns "$ns"
  ip link add "$host" netns "$node" type veth peer name eth0 netns "$ns"
  in_ns "$ns" ip addr add "$ip/32" dev eth0
  in_ns "$ns" ip link set eth0 up
  in_ns "$ns" ip route add "$GW" dev eth0
  in_ns "$ns" ip route add default via "$GW"
  in_ns "$node" ip link set "$host" up
  in_ns "$node" sysctl -qw "net.ipv4.conf.$host.proxy_arp=1"
  in_ns "$node" ip route add "$ip/32" dev "$host"
}
add_pod "$NS_CL" "$NS_N1" "$IP_CL"
add_pod "$NS_CLP" "$NS_N1" "$IP_CLP"
add_pod "$NS_SV" "$NS_N2" "$IP_SV"
add_pod "$NS_SVP" "$NS_N2" "$IP_SVP"
log "namespaces: ${NAMESPACES[*]}"

# ----------------------------------------------------------------------------- servers (both server pods)
SMALL_BODY=$(head -c "$SMALL_BODY_BYTES" /dev/zero | tr '\0' 'x')
mkdir -p "$WORK/www"
head -c 1048576 /dev/zero >"$WORK/www/1m"
start_server() {  # start_server NAME NS
  local name=$1 ns=$2 d="$WORK/nginx-$1"
  mkdir -p "$d/tmp"
  cat >"$d/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $d/nginx.pid;
error_log $OUT/logs/nginx-$name-error.log warn;
events { worker_connections 8192; }
http {
  access_log off;
  keepalive_requests 1000000;
  keepalive_timeout 75s;
  sendfile on;
  tcp_nodelay on;
  client_body_temp_path $d/tmp/body;
  proxy_temp_path $d/tmp/proxy;
  fastcgi_temp_path $d/tmp/fastcgi;
  uwsgi_temp_path $d/tmp/uwsgi;
  scgi_temp_path $d/tmp/scgi;
  default_type application/octet-stream;
  server {
    listen 0.0.0.0:80;
    location = / { return 200 "$SMALL_BODY"; }
    location = /1m { root $WORK/www; }
  }
}
EOF
  cp "$d/nginx.conf" "$OUT/config/nginx-$name.conf"
  start_bg "nginx-$name" "$ns" nginx -e "$OUT/logs/nginx-$name-error.log" -p "$d" -c "$d/nginx.conf"
  wait_listen "$ns" 80 10 "$STARTED_PID" || { echo "nginx in $ns did not start" >&2; exit 1; }
  start_bg "iperf3-$name" "$ns" iperf3 -s -p 5201
  wait_listen "$ns" 5201 10 "$STARTED_PID" || { echo "iperf3 -s in $ns did not start" >&2; exit 1; }
}
start_server server "$NS_SV"
start_server serverp "$NS_SVP"

body=$(in_ns "$NS_CLP" curl -fsS --max-time 5 "http://$IP_SVP/")
[[ ${#body} -eq $SMALL_BODY_BYTES ]] || { echo "direct GET returned ${#body} bytes" >&2; exit 1; }

# ----------------------------------------------------------------------------- haproxy pair (as run.sh)
PKI="$WORK/pki"; mkdir -p "$PKI"; chmod 700 "$PKI"
haproxy_pki "$PKI"
TLS13="ssl-min-ver TLSv1.3 ciphersuites TLS_AES_256_GCM_SHA384"
cat >"$WORK/haproxy-node2.cfg" <<EOF
global
  nbthread 1
  maxconn 4096
defaults
  mode tcp
  timeout connect 5s
  timeout client 120s
  timeout server 120s
frontend tls_http
  bind $IP_N2:$HA_TLS_HTTP ssl crt $PKI/haproxy-b.pem ca-file $PKI/ca.crt verify required $TLS13 curves X25519
  default_backend be_http
frontend tls_iperf
  bind $IP_N2:$HA_TLS_IPERF ssl crt $PKI/haproxy-b.pem ca-file $PKI/ca.crt verify required $TLS13 curves X25519
  default_backend be_iperf
backend be_http
  server nginx $IP_SVP:80
backend be_iperf
  server iperf $IP_SVP:5201
EOF
SRV_TLS="ssl crt $PKI/haproxy-a.pem ca-file $PKI/ca.crt verify required verifyhost haproxy-b.bench sni str(haproxy-b.bench) $TLS13"
cat >"$WORK/haproxy-node1.cfg" <<EOF
global
  nbthread 1
  maxconn 4096
defaults
  mode tcp
  timeout connect 5s
  timeout client 120s
  timeout server 120s
frontend plain_http
  bind $IP_N1:$HA_HTTP
  default_backend hop_http
frontend plain_iperf
  bind $IP_N1:$HA_IPERF
  default_backend hop_iperf
backend hop_http
  server b $IP_N2:$HA_TLS_HTTP $SRV_TLS
backend hop_iperf
  server b $IP_N2:$HA_TLS_IPERF $SRV_TLS
EOF
cp "$WORK/haproxy-node1.cfg" "$WORK/haproxy-node2.cfg" "$OUT/config/"
haproxy -q -c -f "$WORK/haproxy-node1.cfg"
haproxy -q -c -f "$WORK/haproxy-node2.cfg"
start_bg haproxy-node2 "$NS_N2" haproxy -db -f "$WORK/haproxy-node2.cfg"; HA_B=$STARTED_PID
start_bg haproxy-node1 "$NS_N1" haproxy -db -f "$WORK/haproxy-node1.cfg"; HA_A=$STARTED_PID
wait_listen "$NS_N2" "$HA_TLS_HTTP" 10 "$HA_B" && wait_listen "$NS_N1" "$HA_HTTP" 10 "$HA_A" \
  || { echo "haproxy pair did not start (logs in $OUT/logs)" >&2; exit 1; }
HA_PIDS="$HA_A $HA_B"
tls=$(in_ns "$NS_N1" timeout 10 openssl s_client -connect "$IP_N2:$HA_TLS_HTTP" -servername haproxy-b.bench \
        -cert "$PKI/haproxy-a.crt" -key "$PKI/haproxy-a.key" -CAfile "$PKI/ca.crt" -verify_return_error </dev/null 2>&1 || true)
HA_TLS_INFO=$(printf '%s\n' "$tls" | grep -E '^(New, TLS|Server Temp Key|Verify return code)' | tr '\n' ';' | sed 's/;$//; s/;/; /g')
body=$(in_ns "$NS_CLP" curl -fsS --max-time 5 "http://$IP_N1:$HA_HTTP/")
[[ ${#body} -eq $SMALL_BODY_BYTES ]] || { echo "GET through the HAProxy pair returned ${#body} bytes" >&2; exit 1; }

# ----------------------------------------------------------------------------- capstan: mesh, certs, agents, redirects
CS="$WORK/capstan"; mkdir -p "$CS"
cat >"$CS/mesh.yaml" <<EOF
version: "capture-bench-1"
workloads:
  - {uid: client-1, name: client, namespace: bench, serviceAccount: client, ips: ["$IP_CL"], node: node1}
  - {uid: server-1, name: server, namespace: bench, serviceAccount: server, ips: ["$IP_SV"], node: node2}
services: []
policies: []
EOF
log "capstan: certificates"
bounded 120 java -jar "$AGENT_JAR" certs --mesh "$CS/mesh.yaml" --out "$CS/certs" >"$OUT/logs/capstan-certs.log" 2>&1 \
  || { echo "certs failed: $OUT/logs/capstan-certs.log" >&2; exit 1; }
for node in node1 node2; do
  cat >"$CS/agent-$node.yaml" <<EOF
node: $node
mesh: $CS/mesh.yaml
certs: $CS/certs
explicitProxy: null
workerThreads: $CAPSTAN_WORKERS
drainTimeout: 1s
accessLog: off
capture: {}
EOF
  cat >"$CS/redirect-$node.yaml" <<EOF
node: $node
mesh: $CS/mesh.yaml
reconcileInterval: 1s
EOF
done
cp "$CS/mesh.yaml" "$CS"/agent-*.yaml "$CS"/redirect-*.yaml "$OUT/config/"

# shellcheck disable=SC2086
start_bg agent-node2 "$NS_N2" java $CAPSTAN_JVM_OPTS -jar "$AGENT_JAR" run --config "$CS/agent-node2.yaml"; AG_B=$STARTED_PID
# shellcheck disable=SC2086
start_bg agent-node1 "$NS_N1" java $CAPSTAN_JVM_OPTS -jar "$AGENT_JAR" run --config "$CS/agent-node1.yaml"; AG_A=$STARTED_PID
CP_PIDS="$AG_A $AG_B"
start_bg redirect-node1 "$NS_N1" java -Xmx64m -XX:+UseSerialGC -jar "$REDIRECT_JAR" run --config "$CS/redirect-node1.yaml"; RD_A=$STARTED_PID
start_bg redirect-node2 "$NS_N2" java -Xmx64m -XX:+UseSerialGC -jar "$REDIRECT_JAR" run --config "$CS/redirect-node2.yaml"; RD_B=$STARTED_PID

wait_capture() {  # wait_capture NODE NS AGENT_PID REDIRECT_PID POD_IP : ready agent and the pod's rules in place
  local node=$1 ns=$2 ag=$3 rd=$4 ip=$5 i
  for ((i = 0; i < 600; i++)); do
    alive "$ag" || { echo "agent of $node exited: $OUT/logs/agent-$node.log" >&2; return 1; }
    alive "$rd" || { echo "redirect of $node exited: $OUT/logs/redirect-$node.log" >&2; return 1; }
    if grep -q "node agent for $node is ready" "$OUT/logs/agent-$node.log" 2>/dev/null \
       && in_ns "$ns" nft list set ip capstan pod_sources 2>/dev/null | grep -q "$ip"; then
      return 0
    fi
    sleep 0.2
  done
  echo "capture on $node not ready within 120 s (logs in $OUT/logs)" >&2
  return 1
}
log "capstan: waiting for agents and capture rules"
wait_capture node1 "$NS_N1" "$AG_A" "$RD_A" "$IP_CL"
wait_capture node2 "$NS_N2" "$AG_B" "$RD_B" "$IP_SV"
in_ns "$NS_N1" nft list table ip capstan >"$OUT/config/nft-node1.txt"
in_ns "$NS_N2" nft list table ip capstan >"$OUT/config/nft-node2.txt"

counter() { in_ns "$1" nft list counter ip capstan "$2" 2>/dev/null | awk '/packets/ { for (i = 1; i <= NF; i++) if ($i == "packets") print $(i + 1) }'; }
body=""
for ((i = 0; i < 20; i++)); do
  body=$(in_ns "$NS_CL" curl -fsS --max-time 5 "http://$IP_SV/" 2>>"$OUT/run.log" || true)
  [[ ${#body} -ne $SMALL_BODY_BYTES ]] || break
  sleep 0.5
done
[[ ${#body} -eq $SMALL_BODY_BYTES ]] || { echo "GET through capture returned ${#body} bytes (logs in $OUT/logs)" >&2; exit 1; }
CAP_OUT=$(counter "$NS_N1" captured_outbound) CAP_HBONE=$(counter "$NS_N2" captured_hbone)
((${CAP_OUT:-0} > 0 && ${CAP_HBONE:-0} > 0)) \
  || { echo "the GET was not captured (captured_outbound=$CAP_OUT on node1, captured_hbone=$CAP_HBONE on node2)" >&2; exit 1; }
log "capstan: GET through capture ok (captured_outbound=$CAP_OUT node1, captured_hbone=$CAP_HBONE node2)"

# ----------------------------------------------------------------------------- measurements
metric() { printf '%s\t%s\t%s\t%s\n' "$ROUND" "$1" "$2" "$3" >>"$METRICS"; }
warn() { printf '%s\t%s\twarning\t%s\n' "$1" "$2" "$3" >>"$METRICS"; log "WARNING round $1 $2: $3"; }

client_ns() { case $1 in capstan) echo "$NS_CL" ;; *) echo "$NS_CLP" ;; esac; }
http_url() {
  case $1 in
    direct) echo "http://$IP_SVP" ;;
    haproxy) echo "http://$IP_N1:$HA_HTTP" ;;
    capstan) echo "http://$IP_SV" ;;   # the pod's real destination, captured on the way
  esac
}
iperf_target() {
  case $1 in
    direct) echo "$IP_SVP 5201" ;;
    haproxy) echo "$IP_N1 $HA_IPERF" ;;
    capstan) echo "$IP_SV 5201" ;;
  esac
}
proxy_pids() { case $1 in direct) echo "" ;; haproxy) echo "$HA_PIDS" ;; capstan) echo "$CP_PIDS" ;; esac; }
cpu_ticks() { if [[ -n "$1" ]]; then python3 "$BENCH_PY" cputicks $1; else echo 0; fi; }
CLK_TCK=$(getconf CLK_TCK)
cpu_us_per() { awk -v t="$1" -v n="$2" -v hz="$CLK_TCK" 'BEGIN { if (n > 0) printf "%.3f", t / hz * 1e6 / n; else print "nan" }'; }

proxies_up() {
  local p
  for p in $(proxy_pids "$1"); do
    alive "$p" || { warn "$ROUND" "$1" "proxy process $p is gone (see logs/)"; return 1; }
  done
}

run_wrk() {  # run_wrk TOPO NAME SECONDS PATH WRK-ARGS... ; sets W_RPS W_REQ W_P50 W_P99 W_ERR W_CPU_TICKS
  local topo=$1 name=$2 secs=$3 path=$4; shift 4
  local file="$OUT/r$ROUND/$topo-$name.txt" pids t0 t1 parsed url
  url="$(http_url "$topo")$path"
  proxies_up "$topo" || return 1
  pids=$(proxy_pids "$topo")
  t0=$(cpu_ticks "$pids") || return 1
  echo "# ip netns exec $(client_ns "$topo") wrk $* -d${secs}s --latency $url" >"$file"
  if ! bounded $((secs + SLACK)) ip netns exec "$(client_ns "$topo")" wrk "$@" -d"${secs}s" --latency "$url" >>"$file" 2>&1; then
    warn "$ROUND" "$topo" "$name: wrk failed or timed out (see r$ROUND/$topo-$name.txt)"; return 1
  fi
  t1=$(cpu_ticks "$pids") || { warn "$ROUND" "$topo" "$name: a proxy exited during the measurement"; return 1; }
  W_CPU_TICKS=$((t1 - t0))
  parsed=$(python3 "$BENCH_PY" wrk "$file" 2>&1) || { warn "$ROUND" "$topo" "$name: $parsed"; return 1; }
  read -r W_RPS W_REQ W_P50 W_P99 W_ERR <<<"$parsed"
  echo "# proxy cpu ticks: $W_CPU_TICKS (CLK_TCK $CLK_TCK) pids: $pids" >>"$file"
  ((W_ERR == 0)) || warn "$ROUND" "$topo" "$name: wrk reported $W_ERR socket errors / non-2xx responses"
  log "r$ROUND $topo $name: $W_RPS req/s p50 ${W_P50}ms p99 ${W_P99}ms errors $W_ERR"
}

measure_ka64() {
  run_wrk "$1" ka64 "$DURATION" / -t2 -c64 || return 0
  metric "$1" ka64_rps "$W_RPS"; metric "$1" ka64_p50 "$W_P50"; metric "$1" ka64_p99 "$W_P99"
  [[ "$1" == direct ]] || metric "$1" cpu_us_req "$(cpu_us_per "$W_CPU_TICKS" "$W_REQ")"
}
measure_ka1() {
  run_wrk "$1" ka1 "$DURATION" / -t1 -c1 || return 0
  metric "$1" ka1_rps "$W_RPS"; metric "$1" ka1_p50 "$W_P50"; metric "$1" ka1_p99 "$W_P99"
}
measure_close() {
  run_wrk "$1" close "$DURATION" / -t2 -c32 -H 'Connection: close' || return 0
  metric "$1" close_cps "$W_RPS"
  [[ "$1" == direct ]] || metric "$1" cpu_us_conn "$(cpu_us_per "$W_CPU_TICKS" "$W_REQ")"
}
measure_big() {
  run_wrk "$1" big1m "$BIG_DURATION" /1m -t1 -c1 || return 0
  metric "$1" big_p50 "$W_P50"
}
measure_bulk() {
  local topo=$1 addr port file="$OUT/r$ROUND/$1-iperf3.json" gbps
  proxies_up "$topo" || return 0
  read -r addr port <<<"$(iperf_target "$topo")"
  if ! bounded $((DURATION + SLACK)) ip netns exec "$(client_ns "$topo")" iperf3 -c "$addr" -p "$port" -t "$DURATION" -J \
        --connect-timeout 5000 >"$file" 2>"$file.stderr"; then
    warn "$ROUND" "$topo" "bulk: iperf3 failed or timed out (see r$ROUND/$topo-iperf3.json)"; return 0
  fi
  gbps=$(python3 "$BENCH_PY" iperf "$file" 2>&1) || { warn "$ROUND" "$topo" "bulk: $gbps"; return 0; }
  metric "$topo" bulk_gbps "$gbps"
  log "r$ROUND $topo bulk: $gbps Gbit/s"
}
warmup() {  # warmup TOPO SECONDS
  local topo=$1 secs=$2 ns url addr port f="$OUT/r$ROUND/$1-warmup.txt"
  ((secs > 0)) || return 0
  ns=$(client_ns "$topo"); url=$(http_url "$topo")
  log "r$ROUND $topo warm-up (${secs}s per step)"
  bounded $((secs + SLACK)) ip netns exec "$ns" wrk -t2 -c64 -d"${secs}s" "$url/" >>"$f" 2>&1 || true
  bounded $((secs + SLACK)) ip netns exec "$ns" wrk -t2 -c32 -d"${secs}s" -H 'Connection: close' "$url/" >>"$f" 2>&1 || true
  bounded $((secs + SLACK)) ip netns exec "$ns" wrk -t1 -c1 -d"${secs}s" "$url/1m" >>"$f" 2>&1 || true
  read -r addr port <<<"$(iperf_target "$topo")"
  bounded $((secs + SLACK)) ip netns exec "$ns" iperf3 -c "$addr" -p "$port" -t "$secs" --connect-timeout 5000 >>"$f" 2>&1 || true
}

TOPOS=(direct haproxy capstan)
for ((ROUND = 1; ROUND <= ROUNDS; ROUND++)); do
  mkdir -p "$OUT/r$ROUND"
  log "=== round $ROUND/$ROUNDS"
  n=${#TOPOS[@]}; ORDER=()
  for ((i = 0; i < n; i++)); do ORDER+=("${TOPOS[$(((i + ROUND - 1) % n))]}"); done
  log "order: ${ORDER[*]}"
  for t in "${ORDER[@]}"; do
    # the agents' JVMs need a long first warm-up (C2 compiles the per-connection path); they then
    # stay up for the whole run, so later rounds warm every topology alike for WARMUP seconds
    if ((ROUND == 1)) && [[ "$t" == capstan ]]; then warmup "$t" "$FIRST_WARMUP"; else warmup "$t" "$WARMUP"; fi
  done
  c0=$(counter "$NS_N1" captured_outbound)
  for t in "${ORDER[@]}"; do measure_ka64 "$t"; done
  for t in "${ORDER[@]}"; do measure_ka1 "$t"; done
  for t in "${ORDER[@]}"; do measure_close "$t"; done
  for t in "${ORDER[@]}"; do measure_bulk "$t"; done
  for t in "${ORDER[@]}"; do measure_big "$t"; done
  c1=$(counter "$NS_N1" captured_outbound)
  log "r$ROUND captured_outbound packets on node1: +$((c1 - c0))"
  ((c1 > c0)) || warn "$ROUND" capstan "the capture counter did not move: traffic was not captured"
  for t in haproxy capstan; do
    if mib=$(python3 "$BENCH_PY" mem VmRSS $(proxy_pids "$t")); then metric "$t" rss "$(awk -v k="$mib" 'BEGIN { printf "%.1f", k / 1024 }')"; fi
  done
done

NO_AGENT=$(( $(counter "$NS_N1" no_agent) + $(counter "$NS_N2" no_agent) ))
SPOOFED=$(( $(counter "$NS_N1" spoofed) + $(counter "$NS_N2" spoofed) ))
CAP_SUMMARY="node1 captured_outbound $(counter "$NS_N1" captured_outbound) packets, node2 captured_hbone $(counter "$NS_N2" captured_hbone) packets, no_agent $NO_AGENT, spoofed $SPOOFED"
in_ns "$NS_N1" nft list table ip capstan >"$OUT/config/nft-node1-end.txt" 2>&1 || true
in_ns "$NS_N2" nft list table ip capstan >"$OUT/config/nft-node2-end.txt" 2>&1 || true
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)
UPTIME_END=$(uptime)
log "capture counters: $CAP_SUMMARY"

# ----------------------------------------------------------------------------- report
cat >"$OUT/meta.env" <<EOF
date=$START_DATE
jdk=$(printf '%s' "$JDK" | sed 's/^ *//' | paste -sd';' | sed 's/;/; /g')
machine=$(nproc) CPUs, $CPU_MODEL, kernel $(uname -r)
peers=$HAPROXY_V; $NGINX_V; $WRK_V; $IPERF_V; $OPENSSL_V
load_start=$UPTIME_START
load_end=$UPTIME_END
revision=$GIT_REV
rounds=$ROUNDS
duration=$DURATION
big_duration=$BIG_DURATION
warmup=$WARMUP
first_warmup=$FIRST_WARMUP
workers=$CAPSTAN_WORKERS
jvm=$CAPSTAN_JVM_OPTS
jars=$JAR_INFO
ha_tls=$HA_TLS_INFO
capture=$CAP_SUMMARY
reproduce=cd $REPO && $CMD
raw=benchmarks/results/capture-$TS/
EOF
python3 "$CAPTURE_PY" render "$OUT" "$RESULTS_MD"
log "wrote the capture section of $RESULTS_MD (raw data in $OUT)"
