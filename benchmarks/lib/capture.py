#!/usr/bin/env python3
"""Renders the "Capture mode (issue 4)" section of RESULTS.md from a run of
benchmarks/capture.sh (run.sh carries it over with carry.py when it rewrites RESULTS.md).

usage:
  capture.py render OUT_DIR RESULTS_MD   OUT_DIR/metrics.tsv + meta.env → the section of RESULTS_MD
                                         (replaced if present, else appended; a hand-written
                                         "### Analysis" subsection at its end is kept)
"""
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import analysis_of, load_metrics, read_meta, section_of  # noqa: E402

HEADING = "## Capture mode (issue 4)"
TOPOS = ["direct", "haproxy", "capstan"]

# key, label, number format, unit kind; the order is the table order.
FIGURES = [
    ("ka64_rps", "keep-alive req/s, 64 connections", "%.0f"),
    ("ka64_p50", "keep-alive p50 ms, 64 connections", "%.3f"),
    ("ka64_p99", "keep-alive p99 ms, 64 connections", "%.3f"),
    ("ka1_rps", "keep-alive req/s, 1 connection", "%.0f"),
    ("ka1_p50", "keep-alive p50 ms, 1 connection", "%.3f"),
    ("ka1_p99", "keep-alive p99 ms, 1 connection", "%.3f"),
    ("close_cps", "new connections/s (Connection: close, 32 connections)", "%.0f"),
    ("cpu_us_req", "proxy CPU µs per request (64-connection keep-alive, both hops)", "%.1f"),
    ("cpu_us_conn", "proxy CPU µs per new connection (both hops)", "%.0f"),
    ("bulk_gbps", "bulk throughput Gbit/s (iperf3, 1 stream)", "%.2f"),
    ("big_p50", "1 MiB response p50 ms, 1 connection", "%.2f"),
    ("rss", "proxy RSS MiB at the end of each round (both hops)", "%.1f"),
]


def render_section(out_dir):
    vals, warnings = load_metrics(os.path.join(out_dir, "metrics.tsv"))
    m = read_meta(os.path.join(out_dir, "meta.env"))
    rounds = sorted({r for v in vals.values() for r in v})

    def series(key, topo):
        return list(vals.get((key, topo), {}).values())

    def med(key, topo):
        v = series(key, topo)
        return statistics.median(v) if v else None

    lines = [
        HEADING, "",
        "Written by `benchmarks/capture.sh`: the data plane through real kernel capture, two nodes and "
        "their pods as network namespaces (see README.md, \"Capture mode\").", "",
        "- date: %s" % m.get("date", "?"),
        "- JDK: %s" % m.get("jdk", "?"),
        "- machine: %s" % m.get("machine", "?"),
        "- peers: %s" % m.get("peers", "?"),
        "- load before the run (`uptime`): %s" % m.get("load_start", "?").strip(),
        "- load after the run (`uptime`): %s" % m.get("load_end", "?").strip(),
        "- repository revision: %s" % m.get("revision", "?"),
        "- rounds: %s, %ss per measurement (1 MiB probe %ss); warm-up per step (keep-alive, close, "
        "1 MiB, iperf3): %ss per topology, %ss for Capstan in round 1 (cold JVMs); nothing pinned"
        % (m.get("rounds"), m.get("duration"), m.get("big_duration"), m.get("warmup"), m.get("first_warmup")),
        "- Capstan: node agents with `capture: {}`, `workerThreads: %s`, JVM flags `%s`; jars: %s"
        % (m.get("workers"), m.get("jvm"), m.get("jars")),
        "- HAProxy hop TLS (node1 → node2): %s" % m.get("ha_tls", "?"),
        "- capture counters at the end: %s" % m.get("capture", "?"),
        "- reproduce: `%s`" % m.get("reproduce", "?"),
        "- raw outputs: %s (not in git)" % m.get("raw", "?"),
        "",
        "Topologies: direct = client pod → server pod, routed node1 → node2 with no proxy; "
        "haproxy = client pod → HAProxy in node1 (10.0.0.1, mode tcp, nbthread 1) → TLS 1.3 mTLS → "
        "HAProxy in node2 → server pod; capstan = client pod → 10.1.2.10:80 unchanged, TPROXY to "
        "the node1 agent → HBONE mTLS to 10.1.2.10:15008 → TPROXY to the node2 agent → server pod. "
        "direct and haproxy use a second client pod and server pod that are not in the mesh (so not "
        "captured), with the same nginx/iperf3 configuration. All processes keep running for the "
        "whole run; the order of the topologies rotates every round.",
        "",
        "Medians across rounds; Capstan/HAProxy = Capstan median / HAProxy median (req/s, "
        "connections/s and Gbit/s: higher is better; ms, µs, MiB: lower is better); spread = min–max "
        "across rounds.", "",
        "| figure | direct | HAProxy | Capstan | Capstan/HAProxy | spread direct | spread HAProxy | spread Capstan |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for key, label, fmt in FIGURES:
        d, h, c = med(key, "direct"), med(key, "haproxy"), med(key, "capstan")
        if d is None and h is None and c is None:
            continue

        def f(x):
            return "—" if x is None else fmt % x

        def spread(topo):
            v = series(key, topo)
            return "—" if not v else "%s–%s" % (fmt % min(v), fmt % max(v))
        ratio = "—" if (h is None or c is None or h == 0) else "%.2fx" % (c / h)
        lines.append("| %s, through capture | %s | %s | %s | %s | %s | %s | %s |" % (
            label, f(d), f(h), f(c), ratio, spread("direct"), spread("haproxy"), spread("capstan")))
    lines += ["", "Per-round values:", "",
              "| figure | topology | " + " | ".join("round %d" % r for r in rounds) + " |",
              "|---|---|" + "---:|" * len(rounds)]
    for key, label, fmt in FIGURES:
        for topo in TOPOS:
            v = vals.get((key, topo))
            if v:
                lines.append("| %s | %s | %s |" % (label, topo, " | ".join(
                    (fmt % v[r]) if r in v else "—" for r in rounds)))
    lines += ["", "Warnings:", ""]
    lines += ["- " + w for w in warnings] if warnings else ["none"]
    return "\n".join(lines) + "\n"


def render(out_dir, results_md):
    section = render_section(out_dir)
    text = open(results_md, encoding="utf-8").read() if os.path.exists(results_md) else ""
    before, old, after = section_of(text, HEADING)
    analysis = analysis_of(old)
    if analysis:
        section += "\n" + analysis
    if before and not before.endswith("\n\n"):
        before = before.rstrip("\n") + "\n\n"
    with open(results_md, "w", encoding="utf-8") as f:
        f.write(before + section + ("\n" + after if after else ""))


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "render":
        render(sys.argv[2], sys.argv[3])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
