#!/usr/bin/env python3
"""Helpers for benchmarks/run.sh: port allocation, parsing of wrk/iperf3 output,
/proc sampling and rendering of RESULTS.md.

Subcommands:
  freeports N BASE ADDR...      print N ports >= BASE that are free on every ADDR
  wrk FILE                      print "rps requests p50_ms p99_ms errors" from wrk --latency output
  iperf FILE                    print receiver Gbit/s from iperf3 -J output
  cputicks PID...               print the sum of utime+stime (clock ticks) of the processes
  mem FIELD PID...              print the sum of FIELD (VmRSS, VmHWM) in KiB
  summarize RESULTS_DIR OUT_MD  render RESULTS.md from RESULTS_DIR/metrics.tsv and meta.txt
  compare BASE_MD NEW_MD        compare two RESULTS.md files (Capstan/HAProxy ratios and Capstan medians)
"""
import json
import os
import re
import socket
import statistics
import sys

# --------------------------------------------------------------------------- ports


ANALYSIS = "### Analysis"


def section_of(text, heading):
    """(before, section, after) around the section HEADING ("## ...", up to the next "## ") of a RESULTS.md text."""
    if text.startswith(heading + "\n"):
        start = 0
    else:
        start = text.find("\n" + heading + "\n")
        if start < 0:
            return text, "", ""
        start += 1
    end = text.find("\n## ", start + len(heading))
    if end < 0:
        return text[:start], text[start:], ""
    return text[:start], text[start:end + 1], text[end + 1:]


def analysis_of(section):
    """The hand-written "### Analysis" subsection at the end of a section (kept when it is rendered again)."""
    at = section.find("\n" + ANALYSIS)
    return section[at + 1:].rstrip("\n") + "\n" if at >= 0 else ""


def read_meta(path):
    """KEY=VALUE lines of a run's meta file."""
    meta = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            if "=" in line:
                k, v = line.rstrip("\n").split("=", 1)
                meta[k] = v
    return meta


def port_free(addr, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        # SO_REUSEADDR ignores TIME_WAIT leftovers but still conflicts with any listener
        # (including a wildcard 0.0.0.0 listener on the same port).
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((addr, port))
        s.listen(1)
        return True
    except OSError:
        return False
    finally:
        s.close()


def cmd_freeports(args):
    n, base, addrs = int(args[0]), int(args[1]), args[2:]
    out, port = [], base
    while len(out) < n:
        if port > 32000:  # stay below the ephemeral range (32768+)
            sys.exit("no free ports below 32000 starting at %d" % base)
        if all(port_free(a, port) for a in addrs):
            out.append(port)
        port += 1
    print(" ".join(map(str, out)))

# --------------------------------------------------------------------------- wrk / iperf3


_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def _to_ms(text):
    m = re.fullmatch(r"([0-9.]+)(us|ms|s|m)", text.strip())
    if not m:
        raise ValueError("bad latency %r" % text)
    return float(m.group(1)) * _UNITS_MS[m.group(2)]


def parse_wrk(path):
    text = open(path, encoding="utf-8", errors="replace").read()
    rps = re.search(r"^Requests/sec:\s+([0-9.]+)", text, re.M)
    req = re.search(r"^\s*(\d+) requests in", text, re.M)
    p50 = re.search(r"^\s+50%\s+(\S+)", text, re.M)
    p99 = re.search(r"^\s+99%\s+(\S+)", text, re.M)
    if not (rps and req and p50 and p99):
        raise ValueError("unparseable wrk output in %s" % path)
    errors = 0
    se = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    if se:
        errors += sum(int(x) for x in se.groups())
    n2 = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    if n2:
        errors += int(n2.group(1))
    return float(rps.group(1)), int(req.group(1)), _to_ms(p50.group(1)), _to_ms(p99.group(1)), errors


def cmd_wrk(args):
    rps, req, p50, p99, errors = parse_wrk(args[0])
    print("%.2f %d %.4f %.4f %d" % (rps, req, p50, p99, errors))


def cmd_iperf(args):
    data = json.load(open(args[0]))
    if "error" in data:
        sys.exit("iperf3 error: %s" % data["error"])
    bps = data["end"]["sum_received"]["bits_per_second"]
    print("%.3f" % (bps / 1e9))

# --------------------------------------------------------------------------- /proc


def cputicks(pid):
    with open("/proc/%s/stat" % pid) as f:
        rest = f.read().rsplit(")", 1)[1].split()
    # fields after ")" start at field 3 (state); utime=14, stime=15
    return int(rest[14 - 3]) + int(rest[15 - 3])


def cmd_cputicks(args):
    try:
        print(sum(cputicks(p) for p in args))
    except (FileNotFoundError, ProcessLookupError) as e:
        sys.exit("process gone: %s" % e.filename)


def cmd_mem(args):
    field, total = args[0], 0
    for pid in args[1:]:
        try:
            with open("/proc/%s/status" % pid) as f:
                for line in f:
                    if line.startswith(field + ":"):
                        total += int(line.split()[1])
        except FileNotFoundError:
            sys.exit("process gone: %s" % pid)
    print(total)

# --------------------------------------------------------------------------- summary

# key, label, number format; the order is the table order.
FIGURES = [
    ("ka64_rps", "keep-alive req/s, 64 connections", "%.0f"),
    ("ka64_p50", "keep-alive p50 ms, 64 connections", "%.3f"),
    ("ka64_p99", "keep-alive p99 ms, 64 connections", "%.3f"),
    ("ka1_rps", "keep-alive req/s, 1 connection", "%.0f"),
    ("ka1_p50", "keep-alive p50 ms, 1 connection", "%.3f"),
    ("ka1_p99", "keep-alive p99 ms, 1 connection", "%.3f"),
    ("close_cps", "new connections/s (Connection: close, 32 connections)", "%.0f"),
    ("close_cps_fullhs", "new connections/s, HAProxy hop without TLS session reuse", "%.0f"),
    ("cpu_us_req", "proxy CPU µs per request (64-connection keep-alive, both hops)", "%.1f"),
    ("cpu_us_conn", "proxy CPU µs per new connection (both hops)", "%.0f"),
    ("cpu_us_conn_fullhs", "proxy CPU µs per new connection, HAProxy hop without TLS session reuse", "%.0f"),
    ("bulk_gbps", "bulk throughput Gbit/s (iperf3, 1 stream)", "%.2f"),
    ("big_p50", "1 MiB response p50 ms, 1 connection", "%.2f"),
    ("rss_idle", "proxy RSS idle MiB (both hops)", "%.1f"),
    ("rss_peak", "proxy RSS peak MiB (both hops, VmHWM)", "%.1f"),
]
TOPOS = ["direct", "haproxy", "capstan"]


def load_metrics(path):
    vals = {}  # (key, topo) -> {round: value}
    warnings = []
    if not os.path.exists(path):
        return vals, warnings
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
    return vals, warnings


def cmd_summarize(args):
    rdir, out = args[0], args[1]
    vals, warnings = load_metrics(os.path.join(rdir, "metrics.tsv"))
    meta = open(os.path.join(rdir, "meta.txt"), encoding="utf-8").read().rstrip("\n")
    rounds = sorted({r for v in vals.values() for r in v})

    def series(key, topo):
        return list(vals.get((key, topo), {}).values())

    def med(key, topo):
        v = series(key, topo)
        return statistics.median(v) if v else None

    lines = [meta, "", "## Results", "",
             "Medians across rounds. Capstan/HAProxy = Capstan median / HAProxy median (for req/s, "
             "connections/s and Gbit/s higher is better; for ms, µs and MiB lower is better). "
             "Spread = min–max across rounds. Compare runs by the ratio column: absolute figures "
             "on a shared machine swing far more between runs than within one run.", "",
             "| figure | direct | HAProxy | Capstan | Capstan/HAProxy | spread HAProxy | spread Capstan |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for key, label, fmt in FIGURES:
        # Capstan has a single configuration; the full-handshake HAProxy row compares it to the
        # HAProxy hop with TLS session reuse disabled.
        ckey = {"close_cps_fullhs": "close_cps", "cpu_us_conn_fullhs": "cpu_us_conn"}.get(key, key)
        d, h, c = med(ckey, "direct"), med(key, "haproxy"), med(ckey, "capstan")

        def f(x):
            return "—" if x is None else fmt % x

        def spread(k, topo):
            v = series(k, topo)
            return "—" if not v else "%s–%s" % (fmt % min(v), fmt % max(v))
        ratio = "—" if (h is None or c is None or h == 0) else "%.2fx" % (c / h)
        lines.append("| %s | %s | %s | %s | %s | %s | %s |" % (
            label, f(d), f(h), f(c), ratio, spread(key, "haproxy"), spread(ckey, "capstan")))
    lines += ["", "## Per-round values", "",
              "| figure | topology | " + " | ".join("round %d" % r for r in rounds) + " |",
              "|---|---|" + "---:|" * len(rounds)]
    for key, label, fmt in FIGURES:
        for topo in TOPOS:
            v = vals.get((key, topo))
            if v:
                lines.append("| %s | %s | %s |" % (label, topo, " | ".join(
                    (fmt % v[r]) if r in v else "—" for r in rounds)))
    lines += ["", "## Warnings", ""]
    lines += ["- " + w for w in warnings] if warnings else ["none"]
    lines += ["", "## Notes", "", ""]
    with open(out, "w", encoding="utf-8") as fh:
        fh.write("\n".join(lines))


def parse_results_table(path):
    """figure -> (direct, haproxy, capstan, ratio) as strings, from a RESULTS.md."""
    rows, in_table = {}, False
    for line in open(path, encoding="utf-8"):
        if line.startswith("| figure | direct |"):
            in_table = True
            continue
        if in_table:
            if not line.startswith("|"):
                break
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if cells[0].startswith("---"):
                continue
            rows[cells[0]] = cells[1:5]
    return rows


def _num(text):
    try:
        return float(text.rstrip("x"))
    except ValueError:
        return None


def cmd_compare(args):
    base, new = parse_results_table(args[0]), parse_results_table(args[1])
    print("%-72s %10s %10s %8s   %10s %10s %8s" % (
        "figure", "base C/H", "new C/H", "change", "base Cap", "new Cap", "change"))
    for fig, cells in new.items():
        old = base.get(fig)
        if not old:
            print("%-72s (not in baseline)" % fig)
            continue

        def delta(a, b):
            a, b = _num(a), _num(b)
            return "—" if a in (None, 0) or b is None else "%+.0f%%" % ((b / a - 1) * 100)
        print("%-72s %10s %10s %8s   %10s %10s %8s" % (
            fig[:72], old[3], cells[3], delta(old[3], cells[3]),
            old[2], cells[2], delta(old[2], cells[2])))


def main():
    cmds = {"freeports": cmd_freeports, "wrk": cmd_wrk, "iperf": cmd_iperf,
            "cputicks": cmd_cputicks, "mem": cmd_mem, "summarize": cmd_summarize,
            "compare": cmd_compare}
    if len(sys.argv) < 2 or sys.argv[1] not in cmds:
        sys.exit(__doc__)
    cmds[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    main()
