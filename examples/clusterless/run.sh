#!/usr/bin/env bash
# Runs the clusterless example end to end on one Linux machine, without root:
# controller (manifests → Hazelcast, CA) + node agents node-1 and node-2 + a backend on the
# backend pod's IP; then sends requests from the frontend pod's IP through node-1's agent.
# Everything it starts is stopped on exit. Logs stay in a temporary directory (printed at the end).
#
#   examples/clusterless/run.sh          # from anywhere; builds the jars if they are missing
#   KEEP=1 examples/clusterless/run.sh   # keep the temporary directory after a passing run
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
CONTROLLER_JAR=$REPO/controller/target/capstan-controller.jar
AGENT_JAR=$REPO/node-agent/target/capstan-node-agent.jar
JAVA_OPTS=${JAVA_OPTS:--Xmx256m}
WAIT_SECONDS=${WAIT_SECONDS:-90}

FRONTEND_IP=127.0.1.10   # frontend-1, node-1 (manifests/mesh.yaml)
LEGACY_IP=127.0.1.20     # reports-1, node-1, namespace legacy: not meshed
BACKEND_IP=127.0.2.10    # backend-v1-1, node-2, app port 9090
UPSTREAM=127.0.0.1:19181 # node-1: fixed upstream listener → shop/backend:80
PROXY=127.0.0.1:19180    # node-1: explicit proxy (CONNECT)
PORTS="19000 19012 19020 19021 19701 19100 19120 19121 19180 19181 19200 19220 19221"

say() { printf '%s\n' "$*"; }
die() { say "FAIL: $*" >&2; exit 1; }

if [[ ! -f $CONTROLLER_JAR || ! -f $AGENT_JAR ]]; then
  say "building the jars (./mvnw -B -q -DskipTests package) ..."
  (cd "$REPO" && ./mvnw -B -q -DskipTests package)
fi

for p in $PORTS; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
    die "port 127.0.0.1:$p is in use: is another run of this example still up?"
  fi
done
for ip in $FRONTEND_IP $BACKEND_IP; do
  for p in 19008 9090; do
    if (exec 3<>"/dev/tcp/$ip/$p") 2>/dev/null; then die "port $ip:$p is in use"; fi
  done
done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/capstan-clusterless.XXXXXX")
cp -r "$HERE"/controller.yaml "$HERE"/tokens.yaml "$HERE"/node-1.yaml "$HERE"/node-2.yaml \
  "$HERE"/node-1.token "$HERE"/node-2.token "$HERE"/manifests "$WORK"/
chmod 600 "$WORK"/tokens.yaml "$WORK"/*.token
mkdir -p "$WORK/www" && printf 'hello from backend-v1-1\n' > "$WORK/www/hello.txt"

PIDS=()
PASSED=0
cleanup() {
  local pid i
  # Reverse start order, one at a time: agents drain and leave before the controller stops.
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
    pid=${PIDS[$i]}
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  if [[ $PASSED == 1 && ${KEEP:-0} != 1 ]]; then
    rm -rf "$WORK"
  else
    say "logs and state: $WORK"
  fi
}
trap cleanup EXIT

start() { # name, command...
  local name=$1; shift
  "$@" > "$WORK/$name.log" 2>&1 &
  PIDS+=($!)
  eval "PID_${name//-/_}=$!"
}

wait_ready() { # name, url, pid
  local name=$1 url=$2 pid=$3
  for _ in $(seq 1 "$WAIT_SECONDS"); do
    if curl -sf -o /dev/null "$url"; then say "$name ready"; return 0; fi
    kill -0 "$pid" 2>/dev/null || { tail -20 "$WORK/$name.log" >&2; die "$name exited"; }
    sleep 1
  done
  tail -20 "$WORK/$name.log" >&2
  die "$name not ready after ${WAIT_SECONDS}s ($url)"
}

say "working directory: $WORK"
# shellcheck disable=SC2086
start controller java $JAVA_OPTS -jar "$CONTROLLER_JAR" run --config "$WORK/controller.yaml"
wait_ready controller http://127.0.0.1:19021/healthz/ready "$PID_controller"
[[ -f $WORK/ca/root-cert.pem ]] || die "the controller wrote no root certificate"

start backend python3 -m http.server 9090 --bind "$BACKEND_IP" --directory "$WORK/www"
# shellcheck disable=SC2086
start node-1 java $JAVA_OPTS -jar "$AGENT_JAR" run --config "$WORK/node-1.yaml"
# shellcheck disable=SC2086
start node-2 java $JAVA_OPTS -jar "$AGENT_JAR" run --config "$WORK/node-2.yaml"
wait_ready node-1 http://127.0.0.1:19121/healthz/ready "$PID_node_1"
wait_ready node-2 http://127.0.0.1:19221/healthz/ready "$PID_node_2"

FAILED=0
check() { # description, expected, actual
  if [[ $3 == "$2" ]]; then say "ok   $1: $3"; else say "FAIL $1: got '$3', want '$2'"; FAILED=1; fi
}

say "--- requests from frontend-1 ($FRONTEND_IP) through node-1's agent"
for i in 1 2 3; do
  code=$(curl -sS --max-time 10 --interface $FRONTEND_IP -o "$WORK/body" -w '%{http_code}' \
    "http://$UPSTREAM/hello.txt" || true)
  check "upstream listener $UPSTREAM → shop/backend:80, request $i" "200 hello from backend-v1-1" \
    "$code $(cat "$WORK/body" 2>/dev/null)"
done
out=$(curl -sS --max-time 10 --interface $FRONTEND_IP -o /dev/null -w '%{http_connect} %{http_code}' \
  -x "http://$PROXY" -p http://backend.shop:80/hello.txt || true)
check "explicit proxy: CONNECT backend.shop:80, then GET" "200 200" "$out"
out=$(curl -sS --max-time 10 --interface $LEGACY_IP -o /dev/null -w '%{http_connect}' \
  -x "http://$PROXY" -p http://backend.shop:80/hello.txt 2>/dev/null || true)
check "explicit proxy from reports-1 ($LEGACY_IP, not meshed): refused" "403" "$out"

say "--- what the agents run (/config_dump)"
python3 - <<'PY' || { say "FAIL reading /config_dump"; FAILED=1; }
import json, urllib.request

def dump(port):
    with urllib.request.urlopen("http://127.0.0.1:%d/config_dump" % port, timeout=10) as r:
        return json.load(r)

for port in (19100, 19200):
    d = dump(port)
    print("%s: mesh version %s, meshReady %s" % (d["node"], d["version"], d["meshReady"]))
    for c in d["certificates"]:
        print("  certificate %s (notAfter %s)" % (c["identity"], c["notAfter"]))
d = dump(19000)
print("controller %s: leader %s, published %s" % (d["name"], d["leader"], (d["published"] or {}).get("version")))
PY

[[ $FAILED == 0 ]] || die "some requests did not do what they should"
PASSED=1
say "PASS: clusterless example"
