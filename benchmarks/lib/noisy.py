#!/usr/bin/env python3
"""Helpers of benchmarks/noisy-neighbour.sh.

  noisy.py sample OUT_TSV NAME=URL...       poll /metrics every 250 ms until killed; one line per
                                            sample: time, agent, held bytes, Netty direct bytes
  noisy.py collect DIR SCENARIO ROUND       print metrics.tsv lines from one scenario's outputs
  noisy.py render OUT_DIR RESULTS_MD SVG    write the "Noisy neighbour (issue 5)" section and the plot
"""
import json
import math
import os
import re
import statistics
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import analysis_of, read_meta, section_of  # noqa: E402

HEADING = "## Noisy neighbour (issue 5)"
MIB = 1024 * 1024
SCENARIOS = [("solo", "quiet alone"), ("on", "noisy flooding, quotas on"), ("off", "noisy flooding, quotas off"),
             ("direct-solo", "no agent on the quiet path, quiet alone"),
             ("direct-on", "no agent on the quiet path, noisy flooding (quotas on)")]
# short names under the chart's bars
CHART_NAMES = {"solo": "alone", "on": "flood, quotas on", "off": "flood, quotas off",
               "direct-solo": "no agent, alone", "direct-on": "no agent, flood"}
# the quiet tenant's latency rows also show the machine's own floor (no agent on the quiet path)
QUIET = ("solo", "on", "off", "direct-solo", "direct-on")
READ_BYTES = 64 * 1024  # the most one socket read takes (docs/flow-control.md, "The bound")

LINE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)')


def parse_metrics(text):
    """[(name, labels-string, value)] of a Prometheus text exposition."""
    out = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = LINE.match(line)
        if m:
            try:
                out.append((m.group(1), m.group(2) or "", float(m.group(3))))
            except ValueError:
                pass
    return out


def metric_sum(samples, name, label=None):
    vals = [v for n, l, v in samples if n == name and (label is None or label in l)]
    return sum(vals) if vals else None


# --------------------------------------------------------------------------- sample

def cmd_sample(out_tsv, targets):
    agents = [t.split("=", 1) for t in targets]
    with open(out_tsv, "a", encoding="utf-8") as f:
        while True:
            t0 = time.time()
            for name, url in agents:
                try:
                    with urllib.request.urlopen(url, timeout=1) as r:
                        s = parse_metrics(r.read().decode("utf-8", "replace"))
                    held = metric_sum(s, "capstan_buffer_held_bytes")
                    direct = metric_sum(s, "capstan_netty_direct_memory_bytes")
                    f.write("%.3f\t%s\t%s\t%s\n" % (t0, name, held, direct))
                except Exception as e:  # an agent busy or gone: record the miss
                    f.write("%.3f\t%s\terror\t%s\n" % (t0, name, type(e).__name__))
            f.flush()
            time.sleep(max(0.0, float(os.environ.get("SAMPLE_EVERY_S", "0.25")) - (time.time() - t0)))


# --------------------------------------------------------------------------- collect

def json_line(path):
    if not os.path.exists(path):
        return None
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.startswith("{"):
                return json.loads(line)
    return None


def cmd_collect(d, scen, rnd):
    rows = []

    def put(key, value):
        if value is not None:
            rows.append("%s\t%s\t%s\t%s" % (rnd, scen, key, value))

    probe = json_line(os.path.join(d, scen + "-probe.json"))
    if probe:
        for k in ("p50_ms", "p90_ms", "p99_ms", "p999_ms", "max_ms", "errors", "requests", "rate"):
            put("q_" + k, probe[k])
    warm = json_line(os.path.join(d, scen + "-warmup-probe.json"))
    if warm:
        for k in ("p50_ms", "p99_ms", "max_ms", "errors"):
            put("qw_" + k, warm[k])
    flood = json_line(os.path.join(d, scen + "-flood.json"))
    if flood:
        for k in ("delivered_mb_s", "written_mb_s", "churn_per_s", "churn_failed", "bulk_errors", "streams"):
            put("n_" + k, flood[k])
    held, direct, misses = {}, {}, {}
    path = os.path.join(d, scen + "-samples.tsv")
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            for line in f:
                parts = line.rstrip("\n").split("\t")
                if len(parts) != 4:
                    continue
                _, agent, h, dm = parts
                if h == "error":
                    misses[agent] = misses.get(agent, 0) + 1
                    continue
                if h != "None":
                    held[agent] = max(held.get(agent, 0.0), float(h))
                if dm != "None":
                    direct[agent] = max(direct.get(agent, 0.0), float(dm))
    for agent in ("a", "b"):
        put("held_max_" + agent, held.get(agent))
        put("direct_max_" + agent, direct.get(agent))
        put("sample_misses_" + agent, misses.get(agent, 0))
        mpath = os.path.join(d, "%s-metrics-%s.txt" % (scen, agent))
        if not os.path.exists(mpath):
            continue
        with open(mpath, encoding="utf-8") as f:
            s = parse_metrics(f.read())
        put("peak_" + agent, metric_sum(s, "capstan_buffer_peak_bytes"))
        put("budget_" + agent, metric_sum(s, "capstan_buffer_budget_bytes"))
        put("direct_end_" + agent, metric_sum(s, "capstan_netty_direct_memory_bytes"))
        put("throttled_noisy_" + agent, metric_sum(s, "capstan_tenant_throttled_seconds_total", 'tenant="noisy"') or 0.0)
        put("throttled_quiet_" + agent, metric_sum(s, "capstan_tenant_throttled_seconds_total", 'tenant="quiet"') or 0.0)
        put("ratelimited_noisy_" + agent, metric_sum(s, "capstan_tenant_rate_limited_seconds_total", 'tenant="noisy"') or 0.0)
        put("ratelimited_quiet_" + agent, metric_sum(s, "capstan_tenant_rate_limited_seconds_total", 'tenant="quiet"') or 0.0)
        p99s = [v for n, l, v in s if n == "capstan_event_loop_delay_seconds" and 'quantile="0.99"' in l]
        put("loopdelay_p99_" + agent, max(p99s or [0.0]) * 1000)
        put("refused_" + agent, metric_sum(s, "capstan_tenant_connections_refused_total") or 0.0)
    print("\n".join(rows))


# --------------------------------------------------------------------------- render

def read_metrics(path):
    """{(scenario, key): [values by round]} and the warnings."""
    data, warnings = {}, []
    with open(path, encoding="utf-8") as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) != 4:
                continue
            rnd, scen, key, value = parts
            if key == "warning":
                warnings.append("round %s, %s: %s" % (rnd, scen, value))
                continue
            try:
                data.setdefault((scen, key), []).append(float(value))
            except ValueError:
                pass
    return data, warnings


# (label, key or key list summed, scale, format, scenarios, ratio to solo)
FIGURES = [
    ("quiet p50 ms", "q_p50_ms", 1, "%.2f", QUIET, True),
    ("quiet p99 ms", "q_p99_ms", 1, "%.2f", QUIET, True),
    ("quiet p99.9 ms", "q_p999_ms", 1, "%.2f", QUIET, True),
    ("quiet max ms", "q_max_ms", 1, "%.1f", QUIET, True),
    ("quiet requests/s completed", "q_rate", 1, "%.0f", QUIET, True),
    ("quiet errors", "q_errors", 1, "%.0f", QUIET, False),
    ("quiet p50 ms during the warm-up (cold agents; the flood starting, buffers filling)", "qw_p50_ms", 1, "%.1f",
     ("solo", "on", "off"), True),
    ("quiet p99 ms during the warm-up", "qw_p99_ms", 1, "%.1f", ("solo", "on", "off"), True),
    ("quiet max ms during the warm-up", "qw_max_ms", 1, "%.1f", ("solo", "on", "off"), True),
    ("noisy bulk MB/s delivered to the sink", "n_delivered_mb_s", 1, "%.1f", ("on", "off"), False),
    ("noisy bulk MB/s written by the clients", "n_written_mb_s", 1, "%.1f", ("on", "off"), False),
    ("noisy new connections/s completed", "n_churn_per_s", 1, "%.0f", ("on", "off"), False),
    ("noisy connections failed or refused", "n_churn_failed", 1, "%.0f", ("on", "off"), False),
    ("noisy bulk stream errors", "n_bulk_errors", 1, "%.0f", ("on", "off"), False),
    ("agent A buffer peak MiB (capstan_buffer_peak_bytes)", "peak_a", MIB, "%.2f", ("solo", "on", "off"), False),
    ("agent B buffer peak MiB", "peak_b", MIB, "%.2f", ("solo", "on", "off"), False),
    ("agent A buffer held max MiB (sampled every 250 ms)", "held_max_a", MIB, "%.2f", ("solo", "on", "off"), False),
    ("agent B buffer held max MiB", "held_max_b", MIB, "%.2f", ("solo", "on", "off"), False),
    ("agent A Netty direct memory max MiB", "direct_max_a", MIB, "%.1f", ("solo", "on", "off"), False),
    ("agent B Netty direct memory max MiB", "direct_max_b", MIB, "%.1f", ("solo", "on", "off"), False),
    ("agent A noisy tenant throttled s", "throttled_noisy_a", 1, "%.1f", ("on", "off"), False),
    ("agent B noisy tenant throttled s", "throttled_noisy_b", 1, "%.1f", ("on", "off"), False),
    ("agent A noisy tenant rate-limited s (overload governor)", "ratelimited_noisy_a", 1, "%.1f", ("on", "off"), False),
    ("agent B noisy tenant rate-limited s (overload governor)", "ratelimited_noisy_b", 1, "%.1f", ("on", "off"), False),
    ("agent A quiet tenant rate-limited s", "ratelimited_quiet_a", 1, "%.2f", ("solo", "on", "off"), False),
    ("agent B quiet tenant rate-limited s", "ratelimited_quiet_b", 1, "%.2f", ("solo", "on", "off"), False),
    ("agent A worst event-loop lateness p99 ms (capstan_event_loop_delay_seconds)", "loopdelay_p99_a", 1, "%.1f", ("solo", "on", "off"), True),
    ("agent B worst event-loop lateness p99 ms", "loopdelay_p99_b", 1, "%.1f", ("solo", "on", "off"), True),
    ("agent A quiet tenant throttled s", "throttled_quiet_a", 1, "%.2f", ("solo", "on", "off"), False),
    ("agent B quiet tenant throttled s", "throttled_quiet_b", 1, "%.2f", ("solo", "on", "off"), False),
    ("connections refused by the tenant caps (both agents)", ["refused_a", "refused_b"], 1, "%.0f", ("on", "off"), False),
    ("agents' RSS MiB at the end (A + B, ps)", ["rss_a", "rss_b"], 1024, "%.0f", ("solo", "on", "off"), False),
    ("agents' peak RSS MiB (A + B, VmHWM)", ["hwm_a", "hwm_b"], 1024, "%.0f", ("solo", "on", "off"), False),
]


def series(data, scen, key, scale):
    if isinstance(key, list):
        parts = [data.get((scen, k), []) for k in key]
        if not all(parts):
            return []
        n = min(len(p) for p in parts)
        return [sum(p[i] for p in parts) / scale for i in range(n)]
    return [v / scale for v in data.get((scen, key), [])]


def med(xs):
    return statistics.median(xs) if xs else None


def render_section(out_dir, svg_rel):
    meta = read_meta(os.path.join(out_dir, "meta.txt"))
    data, warnings = read_metrics(os.path.join(out_dir, "metrics.tsv"))
    names = dict(SCENARIOS)
    budget = None
    for k in ("budget_a", "budget_b"):
        if data.get(("on", k)):
            budget = data[("on", k)][0]
    conns = int(meta.get("flood_streams", 0)) + int(meta.get("churn_threads", 0)) + int(meta.get("probe_connections", 0))

    lines = [HEADING, ""]
    lines.append("Written by `benchmarks/noisy-neighbour.sh` (see benchmarks/README.md, \"Noisy neighbour\"). "
                 "A quiet tenant's request latency through two node agents while a noisy tenant floods the same agents, "
                 "with the per-tenant buffer quotas of [docs/flow-control.md](../docs/flow-control.md) on and off.")
    lines.append("")
    lines.append("- Date: %s; revision %s" % (meta.get("date", "?"), meta.get("revision", "?")))
    lines.append("- JDK: %s; agents: `%s`" % (meta.get("jdk", "?"), meta.get("agent_jvm", "?")))
    lines.append("- Machine: %s CPUs, %s, kernel %s" % (meta.get("nproc", "?"), meta.get("cpu", "?"), meta.get("kernel", "?")))
    lines.append("- CPU: %s" % meta.get("cpu_model", "?"))
    lines.append("- Load average before / after: %s / %s" % (meta.get("load_before", "?"), meta.get("load_after", "?")))
    lines.append("- Agent jar: %s" % meta.get("agent_jar", "?"))
    lines.append("- Reproduce: `cd <repo> && ./mvnw -B -q -DskipTests package -pl benchmarks -am -Pcontrol-plane && %s`"
                 % meta.get("command", "benchmarks/noisy-neighbour.sh"))
    lines.append("- %s rounds; per scenario a fresh agent pair, %s s warm-up with the scenario's own load, then %s s measured "
                 "(the probe and the flood are each one process across both); scenario order rotates every round" % (meta.get("rounds", "?"), meta.get("warmup", "?"), meta.get("duration", "?")))
    lines.append("- Quiet tenant (ns `quiet`, 127.0.1.10 → `quiet/echo`): %s; open-loop, latency from the scheduled send "
                 "time (coordinated omission corrected, HdrHistogram)" % meta.get("probe", "?"))
    lines.append("- Noisy tenant (ns `noisy`, 127.0.1.20 → `noisy/sink`): %s" % meta.get("flood", "?"))
    lines.append("- Quotas on: `quota: {budget: %s}` on both agents (give-back a quarter, connection window 256 KiB, caps "
                 "10,000 connections and 10,000/s, overload governor at its default `loopDelayTarget: 2ms`). Quotas off: "
                 "budget 1TiB, giveBack 0, connectionWindow 1TiB, caps at their maxima, `loopDelayTarget: 0ms` (no governor)."
                 % meta.get("budget", "?"))
    lines.append("")
    lines.append("| figure | median | vs solo | min–max | per round |")
    lines.append("|---|---|---|---|---|")
    for label, key, scale, fmt, scens, ratio in FIGURES:
        for scen in scens:
            xs = series(data, scen, key, scale)
            if not xs:
                continue
            m = med(xs)
            r = ""
            # through the agents: against the quiet tenant alone through the agents; without them:
            # against the quiet tenant alone without them
            base = med(series(data, "direct-solo" if scen.startswith("direct-") else "solo", key, scale))
            if ratio and scen not in ("solo", "direct-solo") and base:
                r = "%.2fx" % (m / base)
            lines.append("| %s, %s | %s | %s | %s–%s | %s |" % (
                label, names[scen], fmt % m, r, fmt % min(xs), fmt % max(xs), ", ".join(fmt % x for x in xs)))
    lines.append("")

    # targets
    lines.append("Targets (quotas on):")
    lines.append("")
    solo99 = med(series(data, "solo", "q_p99_ms", 1))
    on99 = med(series(data, "on", "q_p99_ms", 1))
    off99 = med(series(data, "off", "q_p99_ms", 1))
    if solo99 and on99:
        ok = on99 <= 1.5 * solo99
        lines.append("- Quiet p99 ≤ 1.5x solo: **%s** — %.2f ms vs %.2f ms solo = %.2fx%s." % (
            "met" if ok else "not met", on99, solo99, on99 / solo99,
            "" if not off99 else " (quotas off: %.2fx)" % (off99 / solo99)))
    bare99 = med(series(data, "direct-solo", "q_p99_ms", 1))
    floor99 = med(series(data, "direct-on", "q_p99_ms", 1))
    if solo99 and floor99 and bare99:
        lines.append("- The machine's floor (not a target): with no agent on the quiet path at all, the flood alone takes the "
                     "quiet p99 from %.2f to %.2f ms (%.2fx): what the quiet tenant's own processes (probe, echo server) "
                     "lose to the CPU the flood takes, whatever proxy sits between them. Through the agents, quotas on: "
                     "%.2fx." % (bare99, floor99, floor99 / bare99, on99 / solo99))
    on_mb = med(series(data, "on", "n_delivered_mb_s", 1))
    off_mb = med(series(data, "off", "n_delivered_mb_s", 1))
    if on_mb is not None and off_mb:
        ok = on_mb >= 0.9 * off_mb
        lines.append("- The noisy tenant still gets the capacity the quiet one leaves idle (delivered MB/s with quotas ≥ 90%% "
                     "of without): **%s** — %.1f vs %.1f MB/s = %.0f%%." % ("met" if ok else "not met", on_mb, off_mb,
                                                                          100 * on_mb / off_mb))
    if budget:
        bound = budget + READ_BYTES * conns
        peaks = [p for k in ("peak_a", "peak_b") for p in data.get(("on", k), [])]
        if peaks:
            ok = max(peaks) <= bound
            lines.append("- Buffered bytes within budget + one 64 KiB read per connection (%.0f MiB + %d × 64 KiB = %.2f MiB): "
                         "**%s** — highest `capstan_buffer_peak_bytes` of either agent in any round %.2f MiB." % (
                             budget / MIB, conns, bound / MIB, "met" if ok else "not met", max(peaks) / MIB))
    lines.append("")
    lines.append("![Quiet tenant latency and noisy tenant throughput per scenario](%s)" % svg_rel)
    lines.append("")
    if warnings:
        lines.append("Warnings:")
        lines.append("")
        lines.extend("- " + w for w in warnings)
        lines.append("")
    return "\n".join(lines)


def svg_chart(out_dir, path):
    data, _ = read_metrics(os.path.join(out_dir, "metrics.tsv"))
    w, h = 860, 380
    out = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" '
           'font-family="sans-serif" font-size="12">' % (w, h, w, h),
           '<rect width="100%" height="100%" fill="white"/>']

    def text(x, y, s, anchor="middle", size=12, weight="normal"):
        out.append('<text x="%.1f" y="%.1f" text-anchor="%s" font-size="%d" font-weight="%s">%s</text>'
                   % (x, y, anchor, size, weight, s.replace("&", "&amp;").replace("<", "&lt;")))

    # left panel: quiet p50 / p99 per scenario, log scale
    x0, y0, pw, ph = 70, 50, 480, 270
    text(x0 + pw / 2, 25, "Quiet tenant latency (median of rounds, whiskers min–max), log scale", size=13, weight="bold")
    vals = [v for s, _ in SCENARIOS for k in ("q_p50_ms", "q_p99_ms") for v in series(data, s, k, 1) if v > 0]
    lo = 10 ** math.floor(math.log10(min(vals))) if vals else 0.01
    hi = 10 ** math.ceil(math.log10(max(vals))) if vals else 100
    if hi <= lo:
        hi = lo * 10

    def ly(v):
        v = max(v, lo)
        return y0 + ph - (math.log10(v) - math.log10(lo)) / (math.log10(hi) - math.log10(lo)) * ph

    out.append('<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="black"/>' % (x0, y0, x0, y0 + ph))
    out.append('<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="black"/>' % (x0, y0 + ph, x0 + pw, y0 + ph))
    e = math.log10(lo)
    while e <= math.log10(hi) + 1e-9:
        for m in (1, 2, 5):
            v = m * 10 ** e
            if lo <= v <= hi:
                y = ly(v)
                out.append('<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#ddd"/>' % (x0, y, x0 + pw, y))
                text(x0 - 5, y + 4, ("%g" % v), anchor="end")
        e += 1
    text(18, y0 + ph / 2, "ms", size=12)
    colours = {"q_p50_ms": "#4e79a7", "q_p99_ms": "#e15759"}
    group = pw / len(SCENARIOS)
    for i, (scen, name) in enumerate(SCENARIOS):
        for j, key in enumerate(("q_p50_ms", "q_p99_ms")):
            xs = series(data, scen, key, 1)
            if not xs:
                continue
            m = med(xs)
            bx = x0 + i * group + group * 0.2 + j * group * 0.3
            bw = group * 0.28
            out.append('<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"/>'
                       % (bx, ly(m), bw, y0 + ph - ly(m), colours[key]))
            cx = bx + bw / 2
            out.append('<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="black"/>' % (cx, ly(min(xs)), cx, ly(max(xs))))
            text(cx, ly(m) - 4, "%.2f" % m if m < 10 else "%.0f" % m, size=10)
        text(x0 + i * group + group / 2, y0 + ph + 18, CHART_NAMES[scen], size=11)
    for j, (key, lab) in enumerate((("q_p50_ms", "p50"), ("q_p99_ms", "p99"))):
        out.append('<rect x="%d" y="%d" width="12" height="12" fill="%s"/>' % (x0 + 10 + j * 60, y0 + ph + 35, colours[key]))
        text(x0 + 27 + j * 60, y0 + ph + 45, lab, anchor="start")

    # right panel: noisy delivered MB/s, quotas on vs off, linear
    x1, pw2 = 620, 200
    text(x1 + pw2 / 2, 25, "Noisy tenant bulk MB/s delivered", size=13, weight="bold")
    scen2 = [("on", "quotas on"), ("off", "quotas off")]
    vals = [v for s, _ in scen2 for v in series(data, s, "n_delivered_mb_s", 1)]
    top = max(vals) * 1.15 if vals and max(vals) > 0 else 1.0

    def y2(v):
        return y0 + ph - v / top * ph

    out.append('<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="black"/>' % (x1, y0, x1, y0 + ph))
    out.append('<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="black"/>' % (x1, y0 + ph, x1 + pw2, y0 + ph))
    for t in range(5):
        v = top * t / 4
        out.append('<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#ddd"/>' % (x1, y2(v), x1 + pw2, y2(v)))
        text(x1 - 5, y2(v) + 4, "%.0f" % v, anchor="end")
    for i, (scen, name) in enumerate(scen2):
        xs = series(data, scen, "n_delivered_mb_s", 1)
        if not xs:
            continue
        m = med(xs)
        bx, bw = x1 + i * pw2 / 2 + pw2 * 0.12, pw2 * 0.26
        out.append('<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="#59a14f"/>' % (bx, y2(m), bw, y0 + ph - y2(m)))
        cx = bx + bw / 2
        out.append('<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="black"/>' % (cx, y2(min(xs)), cx, y2(max(xs))))
        text(cx, y2(m) - 4, "%.1f" % m, size=10)
        text(cx, y0 + ph + 18, name, size=11)
    out.append("</svg>")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(out) + "\n")


def cmd_render(out_dir, results_md, svg):
    svg_chart(out_dir, svg)
    rel = os.path.relpath(svg, os.path.dirname(os.path.abspath(results_md)))
    section = render_section(out_dir, rel)
    text = open(results_md, encoding="utf-8").read() if os.path.exists(results_md) else ""
    before, old, after = section_of(text, HEADING)
    analysis = analysis_of(old)
    if analysis:
        section = section.rstrip("\n") + "\n\n" + analysis
    if before and not before.endswith("\n\n"):
        before = before.rstrip("\n") + "\n\n"
    with open(results_md, "w", encoding="utf-8") as f:
        f.write(before + section.rstrip("\n") + "\n" + ("\n" + after if after else ""))


def main():
    a = sys.argv[1:]
    if len(a) >= 2 and a[0] == "sample":
        cmd_sample(a[1], a[2:])
    elif len(a) == 4 and a[0] == "collect":
        cmd_collect(a[1], a[2], a[3])
    elif len(a) == 4 and a[0] == "render":
        cmd_render(a[1], a[2], a[3])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
