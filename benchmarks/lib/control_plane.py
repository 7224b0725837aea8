#!/usr/bin/env python3
"""Renders the "Control plane (issue 3)" section of RESULTS.md from the runs of
benchmarks/control-plane.sh, and carries that section over when run.sh rewrites RESULTS.md.

usage:
  control_plane.py OUT_DIR RESULTS_MD REPRODUCE   render OUT_DIR/run-*.json + meta.txt into RESULTS_MD
  control_plane.py carry OLD_MD NEW_MD             append OLD_MD's control-plane section to NEW_MD
"""
import glob
import json
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import analysis_of, section_of  # noqa: E402

HEADING = "## Control plane (issue 3)"
ZTUNNEL_BYTES = 528.0
TARGET_P99_MS = 1000.0


def load_runs(out_dir):
    runs = []
    for path in sorted(glob.glob(os.path.join(out_dir, "run-*.json")),
                       key=lambda p: int(p.rsplit("-", 1)[1].split(".")[0])):
        with open(path, encoding="utf-8") as f:
            runs.append(json.load(f))
    if not runs:
        sys.exit("no run-*.json in %s" % out_dir)
    return runs


def fmt(v, digits):
    if v is None:
        return "—"
    if digits == 0:
        return "{:,.0f}".format(v)
    return "{:,.{}f}".format(v, digits)


def render(out_dir, results_md, reproduce):
    runs = load_runs(out_dir)
    meta = {}
    with open(os.path.join(out_dir, "meta.txt"), encoding="utf-8") as f:
        for line in f:
            k, _, v = line.rstrip("\n").partition(": ")
            meta[k] = v
    s = runs[0]["settings"]
    n, nodes, pods = s["workloads"], s["nodes"], s["perPodClients"]
    mib = 1 << 20

    def values(key, scale=1.0):
        return [r[key] * scale for r in runs if key in r]

    def med(key, scale=1.0):
        v = values(key, scale)
        return statistics.median(v) if v else None

    rows = []

    def row(name, key, digits, ref=None, ref_label="—", scale=1.0, invert=False):
        v = values(key, scale)
        if not v:
            return
        m = statistics.median(v)
        ratio = "—"
        if ref:
            ratio = "%.2fx" % ((ref / m) if invert else (m / ref))
        spread = "%s–%s" % (fmt(min(v), digits), fmt(max(v), digits))
        each = ", ".join(fmt(x, digits) for x in v)
        rows.append("| %s | %s | %s | %s | %s | %s |" % (name, fmt(m, digits), spread, ratio, ref_label, each))

    target = "target %d ms" % TARGET_P99_MS
    row("propagation p50 ms (%d agents, content in the index)" % nodes, "propagationP50Ms", 1, TARGET_P99_MS, target)
    row("propagation p99 ms", "propagationP99Ms", 1, TARGET_P99_MS, target)
    row("propagation max ms", "propagationMaxMs", 1, TARGET_P99_MS, target)
    row("propagation p99 ms, content at its version", "propagationVersionedP99Ms", 1, TARGET_P99_MS, target)
    row("propagation p99 ms of the slowest agent per change", "propagationAllAgentsP99Ms", 1, TARGET_P99_MS, target)
    row("propagation p99 ms, one agent alone (no shared CPU)", "soloPropagationP99Ms", 1, TARGET_P99_MS, target)
    row("propagation p99 ms with the per-pod sample connected (%d clients)" % (nodes + pods),
        "perPodPropagationP99Ms", 1, TARGET_P99_MS, target)
    row("initial full load ms, all %d agents (from the first offer)" % nodes, "initialLoadMs", 0)
    row("joining a loaded mesh ms, %d agents at once" % s["probeAgents"], "joinLoadMs", 0)
    row("MeshIndex rebuild ms (%s workloads, one rebuild)" % "{:,}".format(n), "indexRebuildMs", 2)
    ztunnel = "ztunnel %d B" % ZTUNNEL_BYTES
    row("bytes per workload (one agent's view, heap used after GC)", "bytesPerWorkload", 0, ZTUNNEL_BYTES, ztunnel)
    row("bytes per workload (class histogram of the same)", "histogramBytesPerWorkload", 0, ZTUNNEL_BYTES, ztunnel)
    row("bytes per workload (slope %s → %s workloads)" % ("{:,}".format(n), "{:,}".format(s["slopeWorkloads"])),
        "bytesPerWorkloadSlope", 0, ZTUNNEL_BYTES, ztunnel)
    row("one agent's heap MiB (client + view)", "agentHeapBytes", 2, scale=1.0 / mib)
    row("Compact-serialized workload entry bytes (value)", "compactWorkloadValueBytes", 1)
    row("Compact-serialized workload entry bytes (key)", "compactWorkloadKeyBytes", 1)
    row("Compact-serialized mesh bytes per workload (all maps)", "compactMeshBytesPerWorkload", 1)
    row("controller egress per change, bytes (to %d agents)" % nodes, "egressBytesPerChange", 0)
    row("controller egress per change per agent, bytes", "egressBytesPerChangePerAgent", 0)
    row("controller egress per change incl. anti-entropy re-reads, bytes", "egressBytesPerChangeGross", 0)
    row("anti-entropy full re-reads during the %d changes" % s["changes"], "antiEntropyRereads", 0)
    row("full read of the mesh by one joining agent, bytes", "fullReadEgressBytesPerAgent", 0)
    row("initial load egress per agent, bytes (events + full read)", "initialLoadEgressBytesPerAgent", 0)
    row("idle egress per client, bytes/s (checks, heartbeats)", "idleEgressBytesPerSecondPerClient", 1)
    row("per-client heap MiB (client + full view)", "perClientHeapBytes", 2, scale=1.0 / mib)
    for r in runs:
        if "perClientHeapBytes" in r:
            r["perClientMemoryBytes"] = r["perClientHeapBytes"] + r["perClientNativeBytes"]
    row("per-client memory MiB (heap + native)", "perClientMemoryBytes", 2, scale=1.0 / mib)
    row("per-client threads", "perClientThreads", 1)
    row("per-client native MiB (NMT committed, of which thread stacks below)", "perClientNativeBytes", 2,
        scale=1.0 / mib)
    row("per-client thread stacks MiB", "perClientThreadStackBytes", 2, scale=1.0 / mib)
    row("per-client egress per change, bytes (the %d per-pod clients' own sockets)" % pods,
        "perClientEgressBytesPerChange", 0)
    pod_mem = med("perPodMemoryBytesExtrapolated", 1.0 / mib)
    pod_egress = med("perPodEgressBytesPerChangeExtrapolated")
    per_pod = "per-pod model"
    row("memory total, per-node model (%d clients) MiB" % nodes, "perNodeMemoryBytes", 0, pod_mem, per_pod,
        scale=1.0 / mib)
    row("memory total, per-pod model (%s clients, extrapolated) MiB" % "{:,}".format(n),
        "perPodMemoryBytesExtrapolated", 0, pod_mem, per_pod, scale=1.0 / mib)
    row("controller egress per change, per-node model, bytes", "perNodeEgressBytesPerChange", 0, pod_egress, per_pod)
    row("controller egress per change, per-pod model (extrapolated), bytes", "perPodEgressBytesPerChangeExtrapolated",
        0, pod_egress, per_pod)
    row("CSRs signed per second per core (one thread, per CPU second)", "csrPerCpuSecond", 0)
    row("CSRs signed per second, one thread (wall clock, shared machine)", "csrPerSecondOneThread", 0)
    row("CSRs signed per second through gRPC + TLS (%d clients × 2 in flight)" % s.get("grpcClients", 4),
        "grpcCsrPerSecond", 0)
    row("CSRs signed per second per core through gRPC (server threads' CPU)", "grpcCsrPerServerCore", 0)
    row("CPU cores busy in the CA server during the gRPC run", "grpcServerCores", 2)

    # Where one view's bytes go: median over runs per class (0 where a run does not list it).
    per_class = {}
    for i, r in enumerate(runs):
        for b in r.get("breakdown", []):
            per_class.setdefault(b["class"], [[0.0, 0.0] for _ in runs])[i] = [b["bytesPerWorkload"],
                                                                                 b["instancesPerWorkload"]]
    medians = sorted(((statistics.median(v[0] for v in vals), statistics.median(v[1] for v in vals), c)
                      for c, vals in per_class.items()), reverse=True)
    breakdown = ["| `%s` | %.1f | %.2f |" % (c, b, k) for b, k, c in medians[:16]]

    lines = [
        HEADING,
        "",
        "- date: %s" % meta.get("date", "?"),
        "- JDK: %s" % meta.get("jdk", "?"),
        "- machine: %s" % meta.get("machine", "?"),
        "- load average before / after: %s / %s (2 CPUs: above ~2 means other work shared them)" % (
            meta.get("load before", "?"), meta.get("load after", "?")),
        "- repository revision: %s" % meta.get("revision", "?"),
        "- JVM: `%s` (plus Hazelcast's `--add-opens`)" % meta.get("jvm", "?"),
        "- simulated cluster: %s workloads, %s services, %d nodes → %d node agents (real Hazelcast clients, "
        "`HazelcastMeshView`), %d controller member(s), all in one JVM; per-pod sample: %d more clients" % (
            "{:,}".format(n), "{:,}".format(s["services"]), nodes, nodes, s["members"], pods),
        "- runs: %d separate JVMs; reproduce: `cd /work/main && %s`" % (len(runs), reproduce),
        "- raw outputs: %s/ (not in git)" % os.path.relpath(out_dir, os.path.dirname(os.path.abspath(results_md))),
        "",
        "Median of the runs; spread = min–max; ratio = median / reference (for the per-node rows: per-node / "
        "per-pod model).",
        "",
        "| figure | median | spread | ratio | reference | runs |",
        "|---|---:|---:|---:|---|---|",
    ] + rows + [
        "",
        "Where one agent's view spends its bytes (class histogram of %d extra agents on the loaded mesh, less "
        "that of empty clients; bytes and instances per workload, median of the runs):" % s["probeAgents"],
        "",
        "| class | bytes per workload | instances per workload |",
        "|---|---:|---:|",
    ] + breakdown + [
        "",
        "### How it was measured",
        "",
        "- **Propagation**: after the initial load, %d single changes one at a time (in turn: relabel a workload, "
        "flip an endpoint's health, add a workload with its endpoint, remove one), each `offer()`ed to the "
        "leader's `Distribution`. For each (agent, change) pair the time from the offer to the first index "
        "passed to the agent's `onChange` that *contains* the change (checked on content: the label, the "
        "endpoint's health, the workload by IP and the service's endpoint); the next change is offered once "
        "every agent also holds it at its version. All %d agents share this JVM's 2 CPUs, and every agent "
        "rebuilds its whole `MeshIndex` per event batch, so the agents queue for CPU; the row \"one agent alone\" "
        "is the same measurement with one agent (%d changes)." % (s["changes"], nodes, s.get("soloChanges", 0)),
        "- **Bytes per workload**: live heap after full GCs (the memory pools' usage after collection, once steady) with %d more agents started on "
        "the loaded mesh, minus before, per agent, minus an empty client's heap (%d clients connected to empty "
        "maps, same method), divided by %s. Cross-checked by the class histogram (`GC.class_histogram`, same "
        "differences) and by the slope between %s and %s workloads (same method on a larger mesh: no fixed "
        "overhead at all). The Compact sizes are the member's `toData()` of each entry." % (
            s["probeAgents"], nodes, "{:,}".format(n), "{:,}".format(n), "{:,}".format(s["slopeWorkloads"])),
        "- **Egress**: `ss -tin` `bytes_acked` of the member's sockets to clients (sockets between members "
        "excluded) before and after the changes, less the idle rate (mean of 10 s before and 10 s after), less one full "
        "read (measured on the joining agents) per anti-entropy re-read the agents logged meanwhile. The node "
        "agents run the production check (every 5 s); the per-pod sample runs without it (1 h) and its egress "
        "is counted on its own sockets, so it is the changes' events alone.",
        "- **Per-node vs per-pod**: %d clients cannot run in one JVM on 2 CPUs, so the per-pod sample is %d "
        "clients (%.0f%% of the pods), each a full `HazelcastMeshView` (a sidecar without scoping holds the whole "
        "mesh too), started next to the %d node agents. Their heap (after GC), threads and native memory (NMT) "
        "per client and their egress per change per client were measured, then **extrapolated linearly** to "
        "%s clients; the per-node total is %d × (one agent's heap + the same native memory per client). The "
        "controller side of 5,000 connections (its own memory and CPU) is not extrapolated." % (
            n, pods, 100.0 * pods / n, nodes, "{:,}".format(n), nodes),
        "- **CSRs**: `CertificateAuthority.issue` (bootstrap-token check, CSR parse and signature check, "
        "placement, BC signing, PEM) from 256 prepared P-256 CSRs on one thread after a warm-up of the same "
        "length; per core = issued per second of that thread's CPU time. Through gRPC: the real `CaServer` "
        "(TLS 1.3, HTTP/2) on its own Vert.x with one event loop, called by the node agent's `CaClient`; per core "
        "= issued per second / CPU seconds per second of the server's event loop and worker threads (the clients, "
        "which verify every answer, run in the same JVM and are not counted). Log level WARN (production logs "
        "one INFO line per certificate).",
        "",
    ]
    section = "\n".join(lines)
    old = ""
    if os.path.exists(results_md):
        with open(results_md, encoding="utf-8") as f:
            old = f.read()
    before, old_section, after = section_of(old, HEADING)
    analysis = analysis_of(old_section)
    if analysis:
        section += "\n" + analysis
    if before and not before.endswith("\n\n"):
        before = before.rstrip("\n") + "\n\n"
    with open(results_md, "w", encoding="utf-8") as f:
        f.write(before + section + ("\n" + after if after else ""))


def carry(old_md, new_md):
    if not os.path.exists(old_md):
        return
    with open(old_md, encoding="utf-8") as f:
        _, section, _ = section_of(f.read(), HEADING)
    if not section:
        return
    with open(new_md, encoding="utf-8") as f:
        new = f.read()
    with open(new_md, "w", encoding="utf-8") as f:
        f.write(new.rstrip("\n") + "\n\n" + section.rstrip("\n") + "\n")


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "carry":
        carry(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 4:
        render(sys.argv[1], sys.argv[2], sys.argv[3])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
