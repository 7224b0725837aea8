#!/usr/bin/env bash
# Waypoint benchmark (issue 6): the Capstan waypoint against HAProxy (mode http) and nginx (http
# proxy) as the L7 hop of the same three-hop topology, HTTP/1.1 (wrk) and HTTP/2 (h2load), plus a
# direct row. Interleaved, ROUNDS rounds, proxies restarted every round. Writes the section
# "## Waypoint (issue 6)" of benchmarks/RESULTS.md (replacing it, keeping the other sections) and
# raw outputs to benchmarks/results/waypoint-<timestamp>/. See benchmarks/README.md.
#
# All traffic stays on 127.0.0.0/8; every load command is bounded in time; every process this
# script starts is stopped on exit.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(dirname "$HERE")
# shellcheck source=lib/common.sh
source "$HERE/lib/common.sh"
WP_PY="$HERE/lib/waypoint.py"
export PYTHONDONTWRITEBYTECODE=1   # no .pyc next to the helpers: the run's working tree stays clean
BENCH_PY="$HERE/lib/bench.py"

# ----------------------------------------------------------------------------- settings
ORIG_ENV_VARS=()
for v in ROUNDS QUICK DURATION WARMUP BASE_PORT H2_CONNS H2_STREAMS WRK_CONNS SKIP_CAPSTAN AGENT_JAR \
         WAYPOINT_JAR CAPSTAN_JVM_OPTS WAYPOINT_JVM_OPTS WAYPOINT_ACCESS_LOG TOPOLOGIES RESULTS_MD; do
  if [[ -n "${!v+x}" ]]; then ORIG_ENV_VARS+=("$v=${!v}"); fi
done

ROUNDS=${ROUNDS:-3}
QUICK=${QUICK:-0}
if [[ "$QUICK" == 1 ]]; then
  DURATION=${DURATION:-3}
  WARMUP=${WARMUP:-2}
else
  DURATION=${DURATION:-10}
  WARMUP=${WARMUP:-30}   # per protocol and proxied topology: three JVMs compiling at once on 2 CPUs (D9: ~50 s to warm)
fi
BASE_PORT=${BASE_PORT:-24600}
WRK_CONNS=${WRK_CONNS:-64}
H2_CONNS=${H2_CONNS:-8}
H2_STREAMS=${H2_STREAMS:-16}
SKIP_CAPSTAN=${SKIP_CAPSTAN:-0}
AGENT_JAR=${AGENT_JAR:-$REPO/node-agent/target/capstan-node-agent.jar}
WAYPOINT_JAR=${WAYPOINT_JAR:-$REPO/waypoint/target/capstan-waypoint.jar}
CAPSTAN_JVM_OPTS=${CAPSTAN_JVM_OPTS:--Xms256m -Xmx256m -XX:+UseParallelGC}
WAYPOINT_JVM_OPTS=${WAYPOINT_JVM_OPTS:-$CAPSTAN_JVM_OPTS}   # the waypoint's alone, e.g. to add a JFR recording
WAYPOINT_ACCESS_LOG=${WAYPOINT_ACCESS_LOG:-0}   # 1 = keep the waypoint's per-request access log (the peers log nothing)
RESULTS_MD=${RESULTS_MD:-$HERE/RESULTS.md}
TOPOLOGIES=${TOPOLOGIES:-direct haproxy nginx capstan}   # a subset for experiments, e.g. "capstan"
BODY_BYTES=64
SLACK=30   # hard cap of any client command: its own duration plus this

for v in ROUNDS DURATION WRK_CONNS H2_CONNS H2_STREAMS; do
  [[ "${!v}" =~ ^[1-9][0-9]*$ ]] || { echo "$v must be a positive integer, got '${!v}'" >&2; exit 2; }
done
[[ "$WARMUP" =~ ^[0-9]+$ ]] || { echo "WARMUP must be a non-negative integer, got '$WARMUP'" >&2; exit 2; }
for t in $TOPOLOGIES; do
  [[ " direct haproxy nginx capstan " == *" $t "* ]] || { echo "TOPOLOGIES: unknown topology '$t' (direct haproxy nginx capstan)" >&2; exit 2; }
done
wanted() { [[ " $TOPOLOGIES " == *" $1 "* ]]; }

CLIENT_IP=127.0.0.1     # wrk / h2load, node-a
BACKEND_IP=127.0.0.2    # nginx backend, node-b
WAYPOINT_IP=127.0.0.3   # the waypoint's pod (its own node, no agent)

TS=$(date -u +%Y%m%dT%H%M%SZ)
OUT="$HERE/results/waypoint-$TS"
WORK=$(mktemp -d /tmp/capstan-waypoint.XXXXXX)
chmod 755 "$WORK"
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
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT TERM

start_bg() {  # start_bg NAME CMD... : starts a long-running process (no master/worker forks), sets STARTED_PID
  local name=$1; shift
  "$@" >"$OUT/logs/$name.log" 2>&1 &
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

wait_port() {  # wait_port ADDR PORT SECONDS PID : the listening socket exists (no probe connection)
  local addr=$1 port=$2 secs=$3 pid=$4 i
  for ((i = 0; i < secs * 10; i++)); do
    alive "$pid" || return 1
    if ss -Hltn "src $addr:$port" 2>/dev/null | grep -q .; then return 0; fi
    sleep 0.1
  done
  return 1
}

wait_ready() {  # wait_ready PORT SECONDS PID : GET /healthz/ready answers 200
  local port=$1 secs=$2 pid=$3 i
  for ((i = 0; i < secs * 5; i++)); do
    alive "$pid" || return 1
    curl -fs --max-time 1 -o /dev/null "http://127.0.0.1:$port/healthz/ready" && return 0
    sleep 0.2
  done
  return 1
}

# ----------------------------------------------------------------------------- preflight
for tool in haproxy nginx wrk h2load openssl python3 curl timeout ss ps sha256sum; do
  command -v "$tool" >/dev/null || { echo "missing tool: $tool (h2load: apt-get install -y nghttp2-client)" >&2; exit 2; }
done
curl -V | grep -qw HTTP2 || { echo "curl without HTTP/2 support: the HTTP/2 checks need it" >&2; exit 2; }
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

CAPSTAN_ENABLED=1
CAPSTAN_STATUS=""
if [[ "$SKIP_CAPSTAN" == 1 ]] || ! wanted capstan; then
  CAPSTAN_ENABLED=0; CAPSTAN_STATUS="skipped (SKIP_CAPSTAN=1 or not in TOPOLOGIES)"
elif [[ ! -f "$AGENT_JAR" || ! -f "$WAYPOINT_JAR" ]]; then
  CAPSTAN_ENABLED=0
  CAPSTAN_STATUS="skipped: $AGENT_JAR or $WAYPOINT_JAR does not exist (./mvnw -q -B -o package -DskipTests -pl node-agent,waypoint -am)"
elif ! command -v java >/dev/null; then
  CAPSTAN_ENABLED=0; CAPSTAN_STATUS="skipped: no java on PATH"
fi
((CAPSTAN_ENABLED)) || log "capstan topology $CAPSTAN_STATUS"

# ports: below the ephemeral range, each free on the client, backend and waypoint addresses
read -r P_BE_V1 P_BE_V2 P_BE_DIRECT P_BE_H2C \
        P_A_HA_H1 P_A_HA_H2 P_A_NX_H1 P_A_NX_H2 P_HA_W P_NX_W P_B_V1 P_B_V2 \
        P_CP_A P_HBONE P_CP_A_ADMIN P_CP_A_METRICS P_CP_A_READY P_CP_B_ADMIN P_CP_B_METRICS P_CP_B_READY \
        P_WP_ADMIN P_WP_METRICS P_WP_READY \
  < <(python3 "$BENCH_PY" freeports 23 "$BASE_PORT" "$CLIENT_IP" "$BACKEND_IP" "$WAYPOINT_IP")
[[ -n "${P_WP_READY:-}" ]] || { echo "port allocation failed" >&2; exit 2; }
log "results: $OUT"
log "ports: backend v1=$P_BE_V1 v2=$P_BE_V2 direct=$P_BE_DIRECT h2c=$P_BE_H2C; haproxy A=$P_A_HA_H1/$P_A_HA_H2 W=$P_HA_W;" \
    "nginx A=$P_A_NX_H1/$P_A_NX_H2 W=$P_NX_W; B=$P_B_V1/$P_B_V2; capstan A=$P_CP_A hbone=$P_HBONE"

# ----------------------------------------------------------------------------- backend (all topologies)
# One nginx, one worker: "v1" and "v2" are two server blocks (two ports) that the L7 hops split
# 90/10 between; each logs one short line per request (buffered) so the split can be counted. The
# direct rows use two more blocks (HTTP/1.1 and h2c) that log nothing.
BODY=$(head -c "$BODY_BYTES" /dev/zero | tr '\0' 'x')
mkdir -p "$WORK/backend/tmp" "$WORK/backend/logs"
chmod 777 "$WORK/backend/logs"
BE_LOG_V1="$WORK/backend/logs/v1.log" BE_LOG_V2="$WORK/backend/logs/v2.log"
nginx_temp_paths() {  # nginx_temp_paths DIR
  printf '  client_body_temp_path %s/body;\n  proxy_temp_path %s/proxy;\n  fastcgi_temp_path %s/fastcgi;\n  uwsgi_temp_path %s/uwsgi;\n  scgi_temp_path %s/scgi;\n' "$1" "$1" "$1" "$1" "$1"
}
cat >"$WORK/backend/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $WORK/backend/nginx.pid;
error_log $OUT/logs/backend-error.log warn;
events { worker_connections 16384; }
http {
  access_log off;
  log_format status '\$status';
  keepalive_requests 1000000;
  keepalive_timeout 75s;
  tcp_nodelay on;
$(nginx_temp_paths "$WORK/backend/tmp")
  default_type text/plain;
  server {
    listen $BACKEND_IP:$P_BE_V1 backlog=4096;
    access_log $BE_LOG_V1 status buffer=64k flush=1s;
    location / { add_header x-version v1; return 200 "$BODY"; }
  }
  server {
    listen $BACKEND_IP:$P_BE_V2 backlog=4096;
    access_log $BE_LOG_V2 status buffer=64k flush=1s;
    location / { add_header x-version v2; return 200 "$BODY"; }
  }
  server {
    listen $BACKEND_IP:$P_BE_DIRECT backlog=4096;
    location / { add_header x-version v1; return 200 "$BODY"; }
  }
  server {
    listen $BACKEND_IP:$P_BE_H2C http2 backlog=4096;
    location / { add_header x-version v1; return 200 "$BODY"; }
  }
}
EOF
cp "$WORK/backend/nginx.conf" "$OUT/config/backend-nginx.conf"
nginx -t -q -e "$OUT/logs/backend-error.log" -p "$WORK/backend" -c "$WORK/backend/nginx.conf"
start_bg backend nginx -e "$OUT/logs/backend-error.log" -p "$WORK/backend" -c "$WORK/backend/nginx.conf"
BACKEND_PID=$STARTED_PID
for p in $P_BE_V1 $P_BE_V2 $P_BE_DIRECT $P_BE_H2C; do
  wait_port "$BACKEND_IP" "$p" 10 "$BACKEND_PID" || { echo "backend nginx did not start (logs/backend.log)" >&2; exit 1; }
done

# ----------------------------------------------------------------------------- certificates for the peers
# One throwaway CA (ECDSA P-256): A is a client, B a server, W (HAProxy W and nginx W) both.
PKI="$WORK/pki"
mkdir -p "$PKI"
chmod 755 "$PKI"
openssl ecparam -name prime256v1 -genkey -noout -out "$PKI/ca.key" 2>/dev/null
openssl req -x509 -new -key "$PKI/ca.key" -sha256 -days 2 -subj "/CN=capstan-waypoint-bench-ca" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" -out "$PKI/ca.crt" 2>/dev/null
for spec in a:clientAuth b:serverAuth w:serverAuth,clientAuth; do
  who=${spec%%:*} eku=${spec#*:}
  openssl ecparam -name prime256v1 -genkey -noout -out "$PKI/$who.key" 2>/dev/null
  openssl req -new -key "$PKI/$who.key" -subj "/CN=$who.bench" -out "$PKI/$who.csr" 2>/dev/null
  printf 'subjectAltName=DNS:%s.bench\nextendedKeyUsage=%s\nkeyUsage=critical,digitalSignature\nbasicConstraints=CA:FALSE\n' \
    "$who" "$eku" >"$PKI/$who.ext"
  openssl x509 -req -in "$PKI/$who.csr" -CA "$PKI/ca.crt" -CAkey "$PKI/ca.key" -CAcreateserial -days 2 -sha256 \
    -extfile "$PKI/$who.ext" -out "$PKI/$who.crt" 2>/dev/null
  cat "$PKI/$who.crt" "$PKI/$who.key" >"$PKI/$who.pem"
done
chmod 644 "$PKI"/*   # nginx W runs its worker as nobody

# ----------------------------------------------------------------------------- HAProxy A, B, W and nginx W
# A and B are shared by the "haproxy" and "nginx" topologies (only one topology carries traffic at
# a time, and the edge hops are identical); W differs.
TLS13="ssl-min-ver TLSv1.3 ciphersuites TLS_AES_256_GCM_SHA384"
cat >"$WORK/haproxy-a.cfg" <<EOF
global
  nbthread 1
  maxconn 8192
defaults
  mode tcp
  timeout connect 5s
  timeout client 120s
  timeout server 120s
frontend ha_h1
  bind $CLIENT_IP:$P_A_HA_H1
  default_backend to_haproxy_w_h1
frontend ha_h2
  bind $CLIENT_IP:$P_A_HA_H2
  default_backend to_haproxy_w_h2
frontend nx_h1
  bind $CLIENT_IP:$P_A_NX_H1
  default_backend to_nginx_w_h1
frontend nx_h2
  bind $CLIENT_IP:$P_A_NX_H2
  default_backend to_nginx_w_h2
backend to_haproxy_w_h1
  server w 127.0.0.1:$P_HA_W ssl crt $PKI/a.pem ca-file $PKI/ca.crt verify required verifyhost w.bench sni str(w.bench) alpn http/1.1 $TLS13
backend to_haproxy_w_h2
  server w 127.0.0.1:$P_HA_W ssl crt $PKI/a.pem ca-file $PKI/ca.crt verify required verifyhost w.bench sni str(w.bench) alpn h2 $TLS13
backend to_nginx_w_h1
  server w 127.0.0.1:$P_NX_W ssl crt $PKI/a.pem ca-file $PKI/ca.crt verify required verifyhost w.bench sni str(w.bench) alpn http/1.1 $TLS13
backend to_nginx_w_h2
  server w 127.0.0.1:$P_NX_W ssl crt $PKI/a.pem ca-file $PKI/ca.crt verify required verifyhost w.bench sni str(w.bench) alpn h2 $TLS13
EOF
cat >"$WORK/haproxy-b.cfg" <<EOF
global
  nbthread 1
  maxconn 8192
defaults
  mode tcp
  timeout connect 5s
  timeout client 120s
  timeout server 120s
frontend tls_v1
  bind 127.0.0.1:$P_B_V1 ssl crt $PKI/b.pem ca-file $PKI/ca.crt verify required $TLS13 curves X25519
  default_backend v1
frontend tls_v2
  bind 127.0.0.1:$P_B_V2 ssl crt $PKI/b.pem ca-file $PKI/ca.crt verify required $TLS13 curves X25519
  default_backend v2
backend v1
  server v1 $BACKEND_IP:$P_BE_V1
backend v2
  server v2 $BACKEND_IP:$P_BE_V2
EOF
W_TO_B="ssl crt $PKI/w.pem ca-file $PKI/ca.crt verify required verifyhost b.bench sni str(b.bench) $TLS13"
cat >"$WORK/haproxy-w.cfg" <<EOF
global
  nbthread 1
  maxconn 8192
defaults
  mode http
  timeout connect 5s
  timeout client 120s
  timeout server 120s
  timeout http-keep-alive 120s
frontend w
  bind 127.0.0.1:$P_HA_W ssl crt $PKI/w.pem ca-file $PKI/ca.crt verify required alpn h2,http/1.1 $TLS13 curves X25519
  default_backend versions
backend versions
  # the route: 90/10 between two versions (smooth weighted round robin), HTTP/1.1 over mTLS to B, kept alive
  balance roundrobin
  http-reuse always
  server v1 127.0.0.1:$P_B_V1 weight 90 $W_TO_B
  server v2 127.0.0.1:$P_B_V2 weight 10 $W_TO_B
EOF
mkdir -p "$WORK/nginx-w/tmp"
cat >"$WORK/nginx-w/nginx.conf" <<EOF
# one process (no master): its CPU is one /proc entry, like the others' single-threaded processes
master_process off;
daemon off;
pid $WORK/nginx-w/nginx.pid;
error_log $OUT/logs/nginx-w-error.log warn;
events { worker_connections 16384; }
http {
  access_log off;
  keepalive_requests 1000000;
  keepalive_timeout 120s;
  tcp_nodelay on;
$(nginx_temp_paths "$WORK/nginx-w/tmp")
  upstream versions {
    # the route: 90/10 between two versions (smooth weighted round robin); mTLS connections to B kept alive
    server 127.0.0.1:$P_B_V1 weight=9;
    server 127.0.0.1:$P_B_V2 weight=1;
    keepalive 256;
    keepalive_requests 1000000;
    keepalive_timeout 120s;
  }
  server {
    listen 127.0.0.1:$P_NX_W ssl http2 backlog=4096;
    ssl_certificate $PKI/w.crt;
    ssl_certificate_key $PKI/w.key;
    ssl_client_certificate $PKI/ca.crt;
    ssl_verify_client on;
    ssl_protocols TLSv1.3;
    ssl_ecdh_curve X25519;
    ssl_conf_command Ciphersuites TLS_AES_256_GCM_SHA384;
    http2_max_concurrent_streams 128;
    location / {
      proxy_pass https://versions;
      proxy_http_version 1.1;          # nginx 1.22 proxies with HTTP/1.1 only
      proxy_set_header Connection "";
      proxy_ssl_certificate $PKI/w.crt;
      proxy_ssl_certificate_key $PKI/w.key;
      proxy_ssl_trusted_certificate $PKI/ca.crt;
      proxy_ssl_verify on;
      proxy_ssl_name b.bench;
      proxy_ssl_server_name on;
      proxy_ssl_protocols TLSv1.3;
      proxy_ssl_conf_command Ciphersuites TLS_AES_256_GCM_SHA384;
      proxy_ssl_session_reuse on;
    }
  }
}
EOF
cp "$WORK/haproxy-a.cfg" "$WORK/haproxy-b.cfg" "$WORK/haproxy-w.cfg" "$OUT/config/"
cp "$WORK/nginx-w/nginx.conf" "$OUT/config/nginx-w.conf"
for c in a b w; do haproxy -q -c -f "$WORK/haproxy-$c.cfg"; done
nginx -t -q -e "$OUT/logs/nginx-w-error.log" -p "$WORK/nginx-w" -c "$WORK/nginx-w/nginx.conf"

# ----------------------------------------------------------------------------- Capstan: agents A, B and the waypoint
setup_capstan() {
  local d="$WORK/capstan"
  mkdir -p "$d/routes"
  cat >"$d/mesh.yaml" <<EOF
version: "waypoint-bench-1"
workloads:
  - {uid: client-1, name: client, namespace: bench, serviceAccount: client, ips: ["$CLIENT_IP"], node: node-a}
  - {uid: backend-1, name: backend, namespace: bench, serviceAccount: backend, ips: ["$BACKEND_IP"], node: node-b}
  - {uid: waypoint-1, name: waypoint, namespace: bench, serviceAccount: waypoint, ips: ["$WAYPOINT_IP"], node: node-w}
services:
  - {namespace: bench, name: backend, vips: ["127.0.100.1"], ports: [{name: http, port: 80, targetPort: $P_BE_V1}], endpoints: [{workload: backend-1}], waypoint: bench/waypoint}
  - {namespace: bench, name: backend-v1, vips: ["127.0.100.2"], ports: [{name: http, port: 80, targetPort: $P_BE_V1}], endpoints: [{workload: backend-1}]}
  - {namespace: bench, name: backend-v2, vips: ["127.0.100.3"], ports: [{name: http, port: 80, targetPort: $P_BE_V2}], endpoints: [{workload: backend-1}]}
  - {namespace: bench, name: waypoint, vips: [], ports: [{name: hbone, port: $P_HBONE}], endpoints: [{workload: waypoint-1}]}
policies: []
EOF
  cat >"$d/routes/backend.yaml" <<EOF
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: backend, namespace: bench}
spec:
  parentRefs: [{group: "", kind: Service, name: backend, port: 80}]
  rules:
    - matches: [{path: {type: PathPrefix, value: /}}]
      backendRefs: [{name: backend-v1, port: 80, weight: 90}, {name: backend-v2, port: 80, weight: 10}]
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
        echo "  - {listen: \"$CLIENT_IP:$P_CP_A\", service: bench/backend, port: 80}"
      fi
      echo "drainTimeout: 1s"
      echo "accessLog: off"
    } >"$d/agent-$node.yaml"
  done
  cat >"$d/waypoint.yaml" <<EOF
namespace: bench
listen: $WAYPOINT_IP:$P_HBONE
hbonePort: $P_HBONE
certs: $d/certs
mesh: $d/mesh.yaml
routes: $d/routes
admin: 127.0.0.1:$P_WP_ADMIN
metrics: 127.0.0.1:$P_WP_METRICS
ready: 127.0.0.1:$P_WP_READY
reloadInterval: 60s
EOF
  # The waypoint logs one JSON access line per request by default; the peers' L7 hops log nothing
  # (and the agents run with accessLog: off), so it is off here unless WAYPOINT_ACCESS_LOG=1.
  local access=OFF
  [[ "$WAYPOINT_ACCESS_LOG" != 1 ]] || access=INFO
  cat >"$d/logback-waypoint.xml" <<EOF
<configuration>
  <appender name="STDERR" class="ch.qos.logback.core.ConsoleAppender">
    <target>System.err</target>
    <encoder><pattern>%d{HH:mm:ss.SSS} %-5level [%thread] %logger{20} - %msg%n</pattern></encoder>
  </appender>
  <appender name="ASYNC" class="ch.qos.logback.classic.AsyncAppender">
    <queueSize>8192</queueSize><discardingThreshold>0</discardingThreshold><neverBlock>true</neverBlock>
    <appender-ref ref="STDERR"/>
  </appender>
  <logger name="capstan.access" level="$access"/>
  <logger name="io.netty" level="WARN"/>
  <logger name="io.vertx" level="WARN"/>
  <root level="INFO"><appender-ref ref="ASYNC"/></root>
</configuration>
EOF
  cp "$d/mesh.yaml" "$d/agent-a.yaml" "$d/agent-b.yaml" "$d/waypoint.yaml" "$d/routes/backend.yaml" \
     "$d/logback-waypoint.xml" "$OUT/config/"
  log "capstan: generating certificates"
  bounded 120 java -jar "$AGENT_JAR" certs --mesh "$d/mesh.yaml" --out "$d/certs" >"$OUT/logs/capstan-certs.log" 2>&1 \
    || { CAPSTAN_STATUS="failed: 'certs' exited non-zero (logs/capstan-certs.log)"; return 1; }
  [[ -f "$d/certs/bench/waypoint/cert-chain.pem" ]] || { CAPSTAN_STATUS="failed: 'certs' wrote no certificate for bench/waypoint"; return 1; }
}

start_capstan() {
  local d="$WORK/capstan" a b w
  # shellcheck disable=SC2086
  start_bg "capstan-b-r$ROUND" java $CAPSTAN_JVM_OPTS -jar "$AGENT_JAR" run --config "$d/agent-b.yaml"
  b=$STARTED_PID
  # shellcheck disable=SC2086
  start_bg "waypoint-r$ROUND" java $WAYPOINT_JVM_OPTS -Dlogback.configurationFile="$d/logback-waypoint.xml" \
    -jar "$WAYPOINT_JAR" run --config "$d/waypoint.yaml"
  w=$STARTED_PID
  # shellcheck disable=SC2086
  start_bg "capstan-a-r$ROUND" java $CAPSTAN_JVM_OPTS -jar "$AGENT_JAR" run --config "$d/agent-a.yaml"
  a=$STARTED_PID
  CP_PIDS="$a $w $b"
  wait_ready "$P_CP_B_READY" 60 "$b" || { CAPSTAN_STATUS="failed: agent B not ready within 60 s (logs/capstan-b-r$ROUND.log)"; return 1; }
  wait_ready "$P_WP_READY" 60 "$w" || { CAPSTAN_STATUS="failed: the waypoint not ready within 60 s (logs/waypoint-r$ROUND.log)"; return 1; }
  wait_ready "$P_CP_A_READY" 60 "$a" || { CAPSTAN_STATUS="failed: agent A not ready within 60 s (logs/capstan-a-r$ROUND.log)"; return 1; }
}

start_peers() {
  local a b w n
  start_bg "haproxy-b-r$ROUND" haproxy -db -f "$WORK/haproxy-b.cfg"; b=$STARTED_PID
  start_bg "haproxy-w-r$ROUND" haproxy -db -f "$WORK/haproxy-w.cfg"; w=$STARTED_PID
  start_bg "nginx-w-r$ROUND" nginx -e "$OUT/logs/nginx-w-error.log" -p "$WORK/nginx-w" -c "$WORK/nginx-w/nginx.conf"; n=$STARTED_PID
  start_bg "haproxy-a-r$ROUND" haproxy -db -f "$WORK/haproxy-a.cfg"; a=$STARTED_PID
  wait_port 127.0.0.1 "$P_B_V2" 10 "$b" && wait_port 127.0.0.1 "$P_HA_W" 10 "$w" && wait_port 127.0.0.1 "$P_NX_W" 10 "$n" \
    && wait_port "$CLIENT_IP" "$P_A_NX_H2" 10 "$a" || return 1
  HA_PIDS="$a $w $b" NX_PIDS="$a $n $b"
}

# ----------------------------------------------------------------------------- measurements
metric() { printf '%s\t%s\t%s\t%s\n' "$ROUND" "$1" "$2" "$3" >>"$METRICS"; }
warn() { printf '%s\t%s\twarning\t%s\n' "$1" "$2" "$3" >>"$METRICS"; log "WARNING round $1 $2: $3"; }

url() {  # url TOPO PROTO
  case $1/$2 in
    direct/h1) echo "http://$BACKEND_IP:$P_BE_DIRECT/" ;;
    direct/h2) echo "http://$BACKEND_IP:$P_BE_H2C/" ;;
    haproxy/h1) echo "http://$CLIENT_IP:$P_A_HA_H1/" ;;
    haproxy/h2) echo "http://$CLIENT_IP:$P_A_HA_H2/" ;;
    nginx/h1) echo "http://$CLIENT_IP:$P_A_NX_H1/" ;;
    nginx/h2) echo "http://$CLIENT_IP:$P_A_NX_H2/" ;;
    capstan/*) echo "http://$CLIENT_IP:$P_CP_A/" ;;
  esac
}
proxy_pids() {  # the three hops, entry / L7 / exit
  case $1 in
    direct) echo "" ;;
    haproxy) echo "$HA_PIDS" ;;
    nginx) echo "$NX_PIDS" ;;
    capstan) echo "$CP_PIDS" ;;
  esac
}
CLK_TCK=$(getconf CLK_TCK)
per_request_us() {  # per_request_us TICKS REQUESTS
  awk -v t="$1" -v n="$2" -v hz="$CLK_TCK" 'BEGIN { printf "%.3f", (n > 0) ? (t / hz * 1e6 / n) : 0 }'
}

DEAD_TOPOS=" "
proxies_up() {  # true while every process of the topology runs; the first time one is gone, a warning
  local topo=$1 p rc
  [[ "$DEAD_TOPOS" != *" $topo "* ]] || return 1
  for p in $(proxy_pids "$topo"); do
    if ! alive "$p"; then
      rc=0; wait "$p" 2>/dev/null || rc=$?
      warn "$ROUND" "$topo" "proxy process $p exited (status $rc; 143 = SIGTERM, 137 = SIGKILL) — $topo skipped for the rest of the round, see logs/"
      DEAD_TOPOS+="$topo "
      return 1
    fi
  done
}

check_topo() {  # check_topo TOPO : one HTTP/1.1 and one HTTP/2 GET answer the 64-byte body (else that protocol is skipped)
  local topo=$1 body proto
  for proto in h1 h2; do
    local flag=--http1.1
    [[ $proto == h1 ]] || flag=--http2-prior-knowledge
    body=$(curl -fsS $flag --max-time 10 "$(url "$topo" "$proto")" 2>>"$OUT/run.log" || true)
    if [[ ${#body} -ne $BODY_BYTES ]]; then
      sleep 0.5
      local hint=""
      [[ "$topo" != capstan ]] || hint=$(cat "$OUT/logs/"{capstan-a,waypoint,capstan-b}"-r$ROUND.log" 2>/dev/null \
                                           | grep -E 'WARN|ERROR|Exception' | grep -v EventLoopDelay | head -2 | cut -c1-240 | tr '\n' ' ' || true)
      warn "$ROUND" "$topo" "a $proto GET through $topo returned ${#body} bytes instead of $BODY_BYTES — $topo $proto skipped this round${hint:+; log: $hint}"
      DEAD_TOPOS+="$topo/$proto "
    fi
  done
}

backend_counts() {  # "v1 v2": lines in the backend's access logs, after its 1 s flush
  sleep 1.5
  python3 "$WP_PY" lines "$BE_LOG_V1" "$BE_LOG_V2"
}

# measure TOPO PROTO [SECONDS WARMUP]: one wrk (h1) or h2load (h2) run; records the figures
measure() {
  local topo=$1 proto=$2 secs=${3:-$DURATION} warmup=${4:-}
  local name="$topo-$proto${warmup:+-warmup}" file pids t0 t1 n0 n1 parsed
  file="$OUT/r$ROUND/$name.txt"
  [[ "$DEAD_TOPOS" != *" $topo/$proto "* ]] || return 0
  proxies_up "$topo" || return 0
  pids=$(proxy_pids "$topo")
  [[ -n "$warmup" || "$topo" == direct ]] || read -r -a n0 <<<"$(backend_counts)"
  t0=$(python3 "$WP_PY" ticks $pids) || { proxies_up "$topo" || true; return 0; }
  local cmd
  if [[ $proto == h1 ]]; then
    cmd=(wrk -t$((WRK_CONNS < 2 ? WRK_CONNS : 2)) -c"$WRK_CONNS" -d"${secs}s" --latency "$(url "$topo" h1)")
  else
    cmd=(h2load -t$((H2_CONNS < 2 ? H2_CONNS : 2)) -c"$H2_CONNS" -m"$H2_STREAMS" -D"$secs" --log-file="$file.log" "$(url "$topo" h2)")
  fi
  echo "# ${cmd[*]}" >"$file"
  if ! bounded $((secs + SLACK)) "${cmd[@]}" >>"$file" 2>&1; then
    [[ -n "$warmup" ]] || warn "$ROUND" "$topo" "$proto: ${cmd[0]} failed or timed out (see r$ROUND/$name.txt)"
    return 0
  fi
  if ! t1=$(python3 "$WP_PY" ticks $pids); then
    proxies_up "$topo" || true
    [[ -n "$warmup" ]] || warn "$ROUND" "$topo" "$proto: a proxy process exited during the measurement; result discarded"
    return 0
  fi
  if [[ -n "$warmup" ]]; then rm -f "$file.log"; return 0; fi
  if [[ $proto == h1 ]]; then parsed=$(python3 "$WP_PY" wrk "$file" 2>&1) || { warn "$ROUND" "$topo" "$proto: $parsed"; return 0; }
  else parsed=$(python3 "$WP_PY" h2load "$file" "$file.log" 2>&1) || { warn "$ROUND" "$topo" "$proto: $parsed"; return 0; }
    gzip -f "$file.log"
  fi
  local rps req p50 p99 err
  read -r rps req p50 p99 err <<<"$parsed"
  metric "$topo" "${proto}_rps" "$rps"; metric "$topo" "${proto}_p50" "$p50"; metric "$topo" "${proto}_p99" "$p99"
  metric "$topo" "${proto}_err" "$err"
  ((err == 0)) || warn "$ROUND" "$topo" "$proto: $err failed or non-2xx requests (see r$ROUND/$name.txt)"
  local line="r$ROUND $topo $proto: $rps req/s p50 ${p50}ms p99 ${p99}ms errors $err"
  if [[ -n "$pids" ]]; then
    local -a a0 a1
    read -r -a a0 <<<"$t0"; read -r -a a1 <<<"$t1"
    local total=0 i
    for i in "${!a0[@]}"; do total=$((total + a1[i] - a0[i])); done
    local l7=$((a1[1] - a0[1]))
    local cpu cpul7
    cpu=$(per_request_us "$total" "$req")
    cpul7=$(per_request_us "$l7" "$req")
    metric "$topo" "${proto}_cpu" "$cpu"; metric "$topo" "${proto}_cpu_l7" "$cpul7"
    echo "# proxy cpu ticks per hop (entry L7 exit): $t0 -> $t1 (CLK_TCK $CLK_TCK) pids: $pids" >>"$file"
    read -r -a n1 <<<"$(backend_counts)"
    local v1=$((n1[0] - n0[0])) v2=$((n1[1] - n0[1]))
    echo "# backend requests: v1 $v1, v2 $v2" >>"$file"
    if ((v1 + v2 > 0)); then
      local share
      share=$(awk -v a="$v1" -v b="$v2" 'BEGIN { printf "%.3f", 100 * b / (a + b) }')
      metric "$topo" "${proto}_v2" "$share"
      # 90/10: off by more than 1 percentage point and more than 4 standard deviations of a fair 10 % draw
      if awk -v s="$share" -v n=$((v1 + v2)) 'BEGIN { d = s - 10; if (d < 0) d = -d; sd = 100 * sqrt(0.09 / n); exit !(d > 1 && d > 4 * sd) }'; then
        warn "$ROUND" "$topo" "$proto: the split was not 90/10: v1 $v1, v2 $v2 requests at the backend"
      fi
    else
      warn "$ROUND" "$topo" "$proto: the backend logged no request for v1 or v2"
    fi
    line+=" cpu ${cpu}µs/req (L7 ${cpul7}) v1/v2 $v1/$v2"
  fi
  log "$line"
}

# ----------------------------------------------------------------------------- metadata
CPU_MODEL=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
JDK=$( (java -version 2>&1 || echo "java not found") | head -1)
HAPROXY_V=$( (haproxy -v 2>&1 || true) | head -1 | awk '{print $1, $2, $3}')
NGINX_V=$( (nginx -v 2>&1 || true) | head -1 | sed 's/^nginx version: //')
WRK_V=$( (wrk -v 2>&1 || true) | head -1 | awk '{print $1, $2}')
H2LOAD_V=$( (h2load --version 2>&1 || true) | head -1)
OPENSSL_V=$( (openssl version 2>&1 || true) | head -1)
GIT_REV=$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo "no commit")
[[ -z "$(git -C "$REPO" status --porcelain 2>/dev/null | head -1)" ]] || GIT_REV="$GIT_REV (working tree has uncommitted changes)"
CMD=""
[[ " ${ORIG_ENV_VARS[*]+"${ORIG_ENV_VARS[*]}"} " == *" ROUNDS="* ]] || CMD="ROUNDS=$ROUNDS "
for v in "${ORIG_ENV_VARS[@]+"${ORIG_ENV_VARS[@]}"}"; do CMD+="$(printf '%q' "$v") "; done
CMD+="benchmarks/waypoint.sh"
START_DATE=$(date -u '+%Y-%m-%d %H:%M UTC')
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)

# ----------------------------------------------------------------------------- main loop
HA_PIDS="" NX_PIDS="" CP_PIDS="" ROUND=0 JAR_INFO=""
if ((CAPSTAN_ENABLED)); then
  # private copies: a rebuild during the run does not change what is measured
  JAR_INFO="node agent sha256 $(sha256sum "$AGENT_JAR" | cut -c1-16) built $(stat -c '%y' "$AGENT_JAR" | cut -c1-19),"
  JAR_INFO+=" waypoint sha256 $(sha256sum "$WAYPOINT_JAR" | cut -c1-16) built $(stat -c '%y' "$WAYPOINT_JAR" | cut -c1-19)"
  cp "$AGENT_JAR" "$WORK/capstan-node-agent.jar"; AGENT_JAR="$WORK/capstan-node-agent.jar"
  cp "$WAYPOINT_JAR" "$WORK/capstan-waypoint.jar"; WAYPOINT_JAR="$WORK/capstan-waypoint.jar"
  if setup_capstan; then CAPSTAN_STATUS="measured ($JAR_INFO)"
  else CAPSTAN_ENABLED=0; CAPSTAN_STATUS="$CAPSTAN_STATUS ($JAR_INFO)"; log "capstan topology $CAPSTAN_STATUS"; fi
fi

for ((ROUND = 1; ROUND <= ROUNDS; ROUND++)); do
  mkdir -p "$OUT/r$ROUND"
  log "=== round $ROUND/$ROUNDS"
  DEAD_TOPOS=" "
  TOPOS=()
  for t in direct haproxy nginx; do if wanted "$t"; then TOPOS+=("$t"); fi; done
  start_peers || { echo "HAProxy/nginx peers did not start (logs in $OUT/logs)" >&2; exit 1; }
  if ((CAPSTAN_ENABLED)); then
    if start_capstan; then
      TOPOS+=(capstan)
    else
      warn "$ROUND" capstan "$CAPSTAN_STATUS"
      # shellcheck disable=SC2086
      stop_pids $CP_PIDS
      CP_PIDS="" CAPSTAN_ENABLED=0
    fi
  fi
  n=${#TOPOS[@]}
  ORDER=()
  for ((i = 0; i < n; i++)); do ORDER+=("${TOPOS[$(((i + ROUND - 1) % n))]}"); done
  log "order: ${ORDER[*]}"
  for t in "${ORDER[@]}"; do check_topo "$t"; done
  if ((WARMUP > 0)); then
    for t in "${ORDER[@]}"; do
      [[ "$t" != direct && "$DEAD_TOPOS" != *" $t "* ]] || continue
      log "r$ROUND $t warm-up (${WARMUP}s HTTP/1.1 + ${WARMUP}s HTTP/2)"
      measure "$t" h1 "$WARMUP" warmup
      measure "$t" h2 "$WARMUP" warmup
    done
  fi
  for t in "${ORDER[@]}"; do measure "$t" h1; done
  for t in "${ORDER[@]}"; do measure "$t" h2; done
  # shellcheck disable=SC2086
  stop_pids $HA_PIDS $NX_PIDS $CP_PIDS
  HA_PIDS="" NX_PIDS="" CP_PIDS=""
done

# ----------------------------------------------------------------------------- report
{
  echo "H2_CONNS=$H2_CONNS"
  echo "H2_STREAMS=$H2_STREAMS"
} >"$OUT/meta.env"
{
  echo "- date: $START_DATE; repository revision: $GIT_REV"
  echo "- JDK: $JDK; Capstan JVM flags (each of the three JVMs): \`$CAPSTAN_JVM_OPTS\`"
  echo "- machine: $(nproc) vCPUs, $CPU_MODEL, kernel $(uname -r); shared with other work"
  echo "- load average (1/5/15 min) before: $LOAD_START; after: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "- peers: $HAPROXY_V (nbthread 1 per process); nginx $NGINX_V (one process); $WRK_V; $H2LOAD_V; $OPENSSL_V"
  echo "- rounds: $ROUNDS, ${DURATION}s per measurement, ${WARMUP}s warm-up per protocol and proxied topology$([[ "$QUICK" == 1 ]] && echo ' (QUICK mode)'); proxies restarted and topology order rotated every round"
  echo "- HTTP/1.1: \`wrk -t2 -c$WRK_CONNS -d${DURATION}s --latency\`; HTTP/2: \`h2load -t2 -c$H2_CONNS -m$H2_STREAMS -D$DURATION --log-file\` (h2c, prior knowledge); a $BODY_BYTES-byte body"
  echo "- Capstan: $CAPSTAN_STATUS; the waypoint's access log $([[ "$WAYPOINT_ACCESS_LOG" == 1 ]] && echo on || echo 'off (as the peers'"'"' and the agents'"'"')')"
  echo "- reproduce: \`cd $REPO && ./mvnw -q -B -o package -DskipTests -pl node-agent,waypoint -am && $CMD\`"
  echo "- raw outputs: benchmarks/results/waypoint-$TS/ (not in git)"
  echo
  echo "Same three hops for every peer; only the L7 hop in the middle differs (see README.md, \"Waypoint\"):"
  echo
  echo "- **HAProxy**: client → HAProxy A (tcp) ═mTLS═▶ HAProxy W (mode http, 90/10 weighted round robin, kept-alive mTLS"
  echo "  connections to B) ═mTLS═▶ HAProxy B (tcp) → nginx v1 / v2. W speaks HTTP/2 to A when the client does (ALPN h2), HTTP/1.1 to B."
  echo "- **nginx**: the same A and B; W = nginx 1.22 http proxy (\`listen ssl http2\`, upstream weights 9:1, keepalive);"
  echo "  nginx 1.22 proxies to its upstream with HTTP/1.1 only."
  echo "- **Capstan**: client → node agent A (fixed upstream listener) ═HBONE mTLS═▶ waypoint (HTTPRoute: 90/10 between"
  echo "  services backend-v1 / backend-v2) ═HBONE mTLS═▶ node agent B → nginx v1 / v2. The waypoint detects HTTP/2 on the inner stream."
  echo "- **direct**: client → nginx (no proxy; an HTTP/1.1 and an h2c port that log nothing), for scale."
  echo
  echo "The waypoint reuses its upstream app connections (docs/decisions.md D23), as HAProxy W and nginx W keep theirs alive."
  echo
  echo "CPU per request = utime+stime from \`/proc/<pid>/stat\` of the three hop processes (JVMs: all threads, JIT and GC"
  echo "included) over the measurement, divided by the requests completed; the fairest figure on a shared 2-vCPU machine,"
  echo "where req/s depends on what else runs. The v2 share is counted from the backend's access logs (v1 and v2 are two"
  echo "nginx server blocks); a share off 10 % by more than 1 point and 4 standard deviations, or any failed/non-2xx request, is listed under Warnings."
} >"$OUT/meta.md"
python3 "$WP_PY" render "$OUT" "$RESULTS_MD"
log "wrote the waypoint section of $RESULTS_MD (raw data in $OUT)"
