#!/usr/bin/env python3
"""Helpers for benchmarks/waypoint.sh (issue 6): parsing of wrk / h2load output, backend access-log
counts, per-process CPU ticks, and the "## Waypoint (issue 6)" section of RESULTS.md.

Subcommands:
  wrk FILE                      print "rps requests p50_ms p99_ms errors" from wrk --latency output
  h2load FILE LOG               print "rps requests p50_ms p99_ms errors" from h2load's output and its
                                per-request --log-file (latency percentiles, status codes)
  ticks PID...                  print utime+stime (clock ticks) of each process, space separated
  lines FILE...                 print the number of lines of each file (0 when missing)
  render OUT_DIR RESULTS_MD     write the section into RESULTS_MD (replacing it, keeping "### Analysis")
"""
import os
import re
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import analysis_of, cputicks, parse_wrk, section_of  # noqa: E402

HEADING = "## Waypoint (issue 6)"
TOPOS = ["direct", "haproxy", "nginx", "capstan"]
NAMES = {"direct": "direct", "haproxy": "HAProxy", "nginx": "nginx", "capstan": "Capstan"}

# --------------------------------------------------------------------------- parsing


def percentile(sorted_values, p):
    """Nearest-rank percentile of an already sorted list."""
    if not sorted_values:
        raise ValueError("no values")
    k = max(0, min(len(sorted_values) - 1, int(-(-p * len(sorted_values) // 100)) - 1))
    return sorted_values[k]


def parse_h2load(path, log_path):
    """(rps, succeeded, p50 ms, p99 ms, errors) of one h2load run.

    req/s is h2load's own figure (requests done / duration). Latency is taken from the per-request
    log (--log-file: start µs, status, µs until the end of the response): h2load itself prints only
    min/max/mean/sd of "time for request". errors = failed + errored + timed-out requests + non-2xx.
    """
    text = open(path, encoding="utf-8", errors="replace").read()
    rps = re.search(r"^finished in [0-9.]+\w+, ([0-9.]+) req/s", text, re.M)
    req = re.search(r"^requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, "
                    r"(\d+) errored, (\d+) timeout", text, re.M)
    codes = re.search(r"^status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx", text, re.M)
    if not (rps and req and codes):
        raise ValueError("unparseable h2load output in %s" % path)
    lat, non2xx_logged = [], 0
    with open(log_path, encoding="utf-8", errors="replace") as f:
        for line in f:
            cols = line.split("\t")
            if len(cols) < 3:
                continue
            try:
                status, us = int(cols[1]), int(cols[2])
            except ValueError:
                continue
            if not 200 <= status < 300:
                non2xx_logged += 1
            lat.append(us / 1000.0)
    if not lat:
        raise ValueError("h2load's request log %s is empty" % log_path)
    lat.sort()
    failed, errored, timeout = int(req.group(5)), int(req.group(6)), int(req.group(7))
    non2xx = sum(int(codes.group(i)) for i in (2, 3, 4))
    errors = failed + errored + timeout + max(non2xx, non2xx_logged)
    return float(rps.group(1)), int(req.group(4)), percentile(lat, 50), percentile(lat, 99), errors


def cmd_wrk(args):
    rps, req, p50, p99, errors = parse_wrk(args[0])
    print("%.2f %d %.4f %.4f %d" % (rps, req, p50, p99, errors))


def cmd_h2load(args):
    rps, req, p50, p99, errors = parse_h2load(args[0], args[1])
    print("%.2f %d %.4f %.4f %d" % (rps, req, p50, p99, errors))


def cmd_ticks(args):
    try:
        print(" ".join(str(cputicks(p)) for p in args))
    except (FileNotFoundError, ProcessLookupError) as e:
        sys.exit("process gone: %s" % e.filename)


def cmd_lines(args):
    out = []
    for p in args:
        try:
            with open(p, "rb") as f:
                out.append(sum(1 for _ in f))
        except FileNotFoundError:
            out.append(0)
    print(" ".join(map(str, out)))

# --------------------------------------------------------------------------- rendering

# key, label, number format, whether a Capstan/peer ratio is meaningful; the order is the table order.
FIGURES = [
    ("h1_rps", "keep-alive req/s, 64 connections, HTTP/1.1 (wrk)", "%.0f", True),
    ("h1_p50", "keep-alive p50 ms, 64 connections, HTTP/1.1", "%.2f", True),
    ("h1_p99", "keep-alive p99 ms, 64 connections, HTTP/1.1", "%.2f", True),
    ("h1_cpu", "proxy CPU µs per request, HTTP/1.1 (all three hops)", "%.1f", True),
    ("h1_cpu_l7", "L7 hop alone: CPU µs per request, HTTP/1.1", "%.1f", True),
    ("h2_rps", "req/s, HTTP/2, {h2conns} connections × {h2streams} streams (h2load)", "%.0f", True),
    ("h2_p50", "p50 ms, HTTP/2 (h2load request log)", "%.2f", True),
    ("h2_p99", "p99 ms, HTTP/2 (h2load request log)", "%.2f", True),
    ("h2_cpu", "proxy CPU µs per request, HTTP/2 (all three hops)", "%.1f", True),
    ("h2_cpu_l7", "L7 hop alone: CPU µs per request, HTTP/2", "%.1f", True),
    ("h1_v2", "share of requests that reached v2 % (route 90/10), HTTP/1.1", "%.2f", False),
    ("h2_v2", "share of requests that reached v2 % (route 90/10), HTTP/2", "%.2f", False),
    ("h1_err", "failed or non-2xx requests, HTTP/1.1 (sum of rounds)", "%.0f", False),
    ("h2_err", "failed or non-2xx requests, HTTP/2 (sum of rounds)", "%.0f", False),
]
SUMMED = {"h1_err", "h2_err"}


def read_run(out_dir):
    vals, warnings = {}, []  # (key, topo) -> {round: value}
    path = os.path.join(out_dir, "metrics.tsv")
    if os.path.exists(path):
        for line in open(path, encoding="utf-8"):
            parts = line.rstrip("\n").split("\t")
            if len(parts) < 4:
                continue
            rnd, topo, key, value = parts[:4]
            if key == "warning":
                warnings.append("round %s, %s: %s" % (rnd, topo, value))
                continue
            try:
                vals.setdefault((key, topo), {})[int(rnd)] = float(value)
            except ValueError:
                continue
    meta = {}
    mpath = os.path.join(out_dir, "meta.env")
    if os.path.exists(mpath):
        for line in open(mpath, encoding="utf-8"):
            if "=" in line:
                k, v = line.rstrip("\n").split("=", 1)
                meta[k] = v
    header = open(os.path.join(out_dir, "meta.md"), encoding="utf-8").read().rstrip("\n")
    return vals, warnings, meta, header


def render_section(out_dir):
    vals, warnings, meta, header = read_run(out_dir)
    rounds = sorted({r for v in vals.values() for r in v})

    def series(key, topo):
        return list(vals.get((key, topo), {}).values())

    def agg(key, topo):
        v = series(key, topo)
        if not v:
            return None
        return sum(v) if key in SUMMED else statistics.median(v)

    lines = [HEADING, "", header, "",
             "Medians across rounds. Capstan/HAProxy and Capstan/nginx = Capstan's median / the peer's median "
             "(req/s: higher is better, so ≥ 1.00x is the target; ms and µs: lower is better, so ≤ 1.00x is). "
             "Spreads are min–max across rounds (H = HAProxy, N = nginx, C = Capstan). The error rows are "
             "sums over all rounds.", "",
             "| figure | direct | HAProxy | nginx | Capstan | Capstan/HAProxy | Capstan/nginx | spreads |",
             "|---|---:|---:|---:|---:|---:|---:|---|"]
    for key, label, fmt, ratio_ok in FIGURES:
        label = label.format(h2conns=meta.get("H2_CONNS", "?"), h2streams=meta.get("H2_STREAMS", "?"))
        d, h, n, c = (agg(key, t) for t in TOPOS)
        proto = key.split("_")[0]

        def f(x, topo):
            if x is None:
                return "—"
            flagged = key not in SUMMED and (agg(proto + "_err", topo) or 0) > 0
            return fmt % x + (" †" if flagged else "")

        def ratio(peer):
            if not ratio_ok or peer is None or c is None or peer == 0:
                return "—"
            return "%.2fx" % (c / peer)

        spreads = []
        if key not in SUMMED:
            for topo, short in (("haproxy", "H"), ("nginx", "N"), ("capstan", "C")):
                v = series(key, topo)
                if v:
                    spreads.append("%s %s–%s" % (short, fmt % min(v), fmt % max(v)))
        lines.append("| %s | %s | %s | %s | %s | %s | %s | %s |" % (
            label, f(d, "direct"), f(h, "haproxy"), f(n, "nginx"), f(c, "capstan"), ratio(h), ratio(n),
            "; ".join(spreads) or "—"))
    lines += ["", "† measured in runs with failed or non-2xx requests (see Warnings): not a clean figure."]
    lines += ["", "### Per-round values (waypoint benchmark)", "",
              "| figure | topology | " + " | ".join("round %d" % r for r in rounds) + " |",
              "|---|---|" + "---:|" * len(rounds)]
    for key, label, fmt, _ in FIGURES:
        label = label.format(h2conns=meta.get("H2_CONNS", "?"), h2streams=meta.get("H2_STREAMS", "?"))
        for topo in TOPOS:
            v = vals.get((key, topo))
            if v:
                lines.append("| %s | %s | %s |" % (label, NAMES[topo], " | ".join(
                    (fmt % v[r]) if r in v else "—" for r in rounds)))
    lines += ["", "### Warnings (waypoint benchmark)", ""]
    lines += ["- " + w for w in warnings] if warnings else ["none: every request of every measured run "
                                                            "succeeded with a 2xx, and the 90/10 split held"]
    return "\n".join(lines) + "\n"


def cmd_render(args):
    out_dir, results_md = args
    section = render_section(out_dir)
    text = open(results_md, encoding="utf-8").read() if os.path.exists(results_md) else ""
    before, old, after = section_of(text, HEADING)
    analysis = analysis_of(old)
    if analysis:
        section = section.rstrip("\n") + "\n\n" + analysis
    if not old:  # a new section goes at the end
        before, after = text.rstrip("\n") + ("\n\n" if text.strip() else ""), ""
    with open(results_md, "w", encoding="utf-8") as f:
        f.write(before + section.rstrip("\n") + "\n" + ("\n" + after if after else ""))


def main():
    cmds = {"wrk": cmd_wrk, "h2load": cmd_h2load, "ticks": cmd_ticks, "lines": cmd_lines, "render": cmd_render}
    if len(sys.argv) < 2 or sys.argv[1] not in cmds:
        sys.exit(__doc__)
    cmds[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    main()
