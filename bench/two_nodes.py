#!/usr/bin/env python3
"""Two Portico nodes behind nginx on one PostgreSQL: the scale-out measurement.

    python3 bench/two_nodes.py --bin target/release/portico           # writes docs/two-nodes.md
    python3 bench/two_nodes.py --duration 10 --streams 10000 --soak 120

Seeds scale 1 into a fresh PostgreSQL database, starts two `portico serve` processes on it
(sharing one data directory for uploads, standing in for the S3 bucket of a real deployment),
and nginx in front of them (round robin, the SSE settings of docs/deploy.md). Through nginx:

- the wrk read and write scenarios of bench/run.py (reads and writes land on both nodes);
- live events across nodes: half the streams sit on each node, staff replies land on either,
  delivery latency over all streams (PostgreSQL LISTEN/NOTIFY carries the event across);
- throttling across nodes: wrong passwords for one account alternate between the nodes until
  the answer is 429; the count must equal the single-node limit (5);
- jobs exactly once: staff replies on distinct tickets, each one notification email; after the
  job queue drains on both nodes every (recipient, reply) pair has exactly one email;
- optionally (--soak N) the mixed-load soak of bench/soak.py for N seconds.

Both nodes, nginx, PostgreSQL and the load generators share this machine's cores, so the
numbers say how the design behaves, not what two real machines would do.
"""
import argparse
import collections
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH_DIR)
sys.path.insert(0, BENCH_DIR)
import run  # noqa: E402  (bench/run.py: seeding, servers, wrk, scenarios)
import sse_load  # noqa: E402

NGINX_CONF = """
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/nginx-error.log warn;
events {{ worker_connections 30000; }}
worker_rlimit_nofile 65000;
http {{
    access_log off;
    upstream portico {{
        server {a};
        server {b};
        keepalive 128;
    }}
    server {{
        listen 127.0.0.1:{port};
        client_max_body_size 30m;
        location / {{
            proxy_pass http://portico;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
        }}
        # Event streams: no buffering, long reads (docs/deploy.md).
        location /api/v1/events {{
            proxy_pass http://portico;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            proxy_buffering off;
            proxy_cache off;
            proxy_read_timeout 1h;
        }}
    }}
}}
"""


def start_nginx(a, b):
    d = tempfile.mkdtemp(prefix="portico-nginx-")
    port = run.free_port()
    conf = os.path.join(d, "nginx.conf")
    with open(conf, "w") as f:
        f.write(NGINX_CONF.format(dir=d, a=a, b=b, port=port))
    proc = subprocess.Popen(["nginx", "-p", d, "-c", conf, "-g", "daemon off;"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            if run.http("GET", base + "/healthz")[0] == 200:
                return proc, base, d
        except Exception:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("nginx did not start: " + proc.stderr.read().decode(errors="replace"))


def cpu_ms(pid):
    with open(f"/proc/{pid}/stat") as f:
        parts = f.read().rsplit(")", 1)[1].split()
    return (int(parts[11]) + int(parts[12])) * 1000 / os.sysconf("SC_CLK_TCK")


def throttle_across(base, nodes, summary):
    """Wrong passwords for one account, alternating nodes, until 429. Returns attempts refused
    with 401 before the first 429, per node hit."""
    email = summary["sample_admin"]
    hits = collections.Counter()
    attempts = 0
    for i in range(12):
        node = nodes[i % 2]
        try:
            run.http("POST", f"{node}/api/v1/auth/login?tenant=bench-01",
                     {"email": email, "password": "wrong-password", "audience": "portal"})
        except urllib.error.HTTPError as e:
            if e.code == 429:
                return attempts, dict(hits)
            if e.code != 401:
                raise
        attempts += 1
        hits[node] += 1
    return attempts, dict(hits)


def jobs_once(base, summary, data_dir, replies):
    """Staff replies on `replies` distinct tickets through nginx; waits until the mail count is
    stable, then counts emails per (recipient, reply marker)."""
    pw = summary["password"]
    user_cookie, _ = run.login(base, "bench-01", summary["sample_user"], pw)
    staff_cookie, staff_csrf = run.login(base, "bench-01", summary["sample_staff"], pw, "admin")
    numbers = run.open_ticket_numbers(base, user_cookie, replies)
    mail_dir = os.path.join(data_dir, "mail")
    before = set(glob.glob(os.path.join(mail_dir, "*.eml")))
    markers = []
    for i, n in enumerate(numbers):
        marker = f"twonodes{int(time.time())}x{i}"
        markers.append(marker)
        run.http("POST", f"{base}/api/v1/admin/tickets/{n}/comments",
                 {"body": f"We are on it ({marker}).", "internal": False},
                 {"Cookie": staff_cookie, "X-CSRF-Token": staff_csrf})
    last, stable_since = -1, time.time()
    deadline = time.time() + 120
    while time.time() < deadline:
        now = len(set(glob.glob(os.path.join(mail_dir, "*.eml"))) - before)
        if now != last:
            last, stable_since = now, time.time()
        elif time.time() - stable_since > 5 and now > 0:
            break
        time.sleep(0.5)
    pairs = collections.Counter()
    for path in set(glob.glob(os.path.join(mail_dir, "*.eml"))) - before:
        with open(path, errors="replace") as f:
            text = f.read()
        to = re.search(r"^To: (.*)$", text, re.M)
        for m in markers:
            if m in text:
                pairs[(to.group(1).strip() if to else "?", m)] += 1
    covered = {m for (_, m) in pairs}
    return dict(replies=len(numbers), emails=sum(pairs.values()), duplicates=sum(1 for c in pairs.values() if c > 1),
                replies_without_email=len(set(markers) - covered))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", default=run.BIN)
    ap.add_argument("--pg-admin-url", default="postgres://postgres:postgres@127.0.0.1:5432/postgres")
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--connections", type=int, default=64)
    ap.add_argument("--streams", type=int, default=10000, help="SSE streams over both nodes")
    ap.add_argument("--sse-replies", type=int, default=20)
    ap.add_argument("--replies", type=int, default=50, help="jobs exactly once: staff replies")
    ap.add_argument("--soak", type=int, default=0, help="mixed-load soak seconds through nginx")
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--out", default=os.path.join(ROOT, "docs", "two-nodes.md"))
    args = ap.parse_args()
    ctx = run.seed("postgres", args, args.scale, pg_db="portico_two_nodes")
    summary = ctx["summary"]
    procs = []
    report = dict(started=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), scale=args.scale)
    tmp = tempfile.mkdtemp()
    try:
        a, base_a = run.start_server(ctx, args)
        b, base_b = run.start_server(ctx, args)
        procs += [a, b]
        nginx, base, ndir = start_nginx(base_a.split("//")[1], base_b.split("//")[1])
        procs.append(nginx)
        time.sleep(1)
        ses = run.sign_in(base, summary)
        scenarios = [("/readyz (ceiling, one query)", "/readyz", {}, None)]
        scenarios += run.EXTRA_SCENARIOS(base, summary, ses["user_cookie"], ses["admin_cookie"], ses["staff_cookie"], tmp)
        scenarios += run.WRITE_SCENARIOS(base, ses["user_cookie"], ses["user_csrf"], tmp)
        rows = []
        for name, path, headers, script in scenarios:
            c0 = (cpu_ms(a.pid), cpu_ms(b.pid))
            r = run.run_wrk(base + path, args.connections, args.duration, headers, script)
            c1 = (cpu_ms(a.pid), cpu_ms(b.pid))
            r.update(name=name, conns=args.connections,
                     share_a=round((c1[0] - c0[0]) / max(1.0, (c1[0] - c0[0]) + (c1[1] - c0[1])), 2))
            rows.append(r)
            print(f"  {name:45} {r['rps']:>8.0f} req/s p50 {r['p50']}ms p99 {r['p99']}ms errors {r['errors']} "
                  f"node A CPU share {r['share_a']}", flush=True)
        report["wrk"] = rows

        attempts, hits = throttle_across(base, [base_a, base_b], summary)
        report["throttle"] = dict(allowed_before_429=attempts, per_node=list(hits.values()))
        print(f"  throttle: {attempts} wrong passwords answered 401 before 429, per node {list(hits.values())}", flush=True)

        report["jobs"] = jobs_once(base, summary, ctx["data_dir"], args.replies)
        print(f"  jobs: {report['jobs']}", flush=True)

        pw = summary["password"]
        user_cookie, _ = run.login(base, "bench-01", summary["sample_user"], pw)
        staff_cookie, staff_csrf = run.login(base, "bench-01", summary["sample_staff"], pw, "admin")
        _, _, body = run.http("GET", base + "/api/v1/tickets?status=all&limit=1", headers={"Cookie": user_cookie})
        ticket = json.loads(body)["items"][0]["number"]
        c0 = (cpu_ms(a.pid), cpu_ms(b.pid))
        rss0 = (run.rss_kb(a.pid, "VmRSS"), run.rss_kb(b.pid, "VmRSS"))
        sse = sse_load.measure(base, user_cookie, staff_cookie, staff_csrf, ticket, args.streams, a.pid,
                               replies=args.sse_replies)
        c1 = (cpu_ms(a.pid), cpu_ms(b.pid))
        sse["both_nodes_cpu_ms_per_reply"] = round(((c1[0] - c0[0]) + (c1[1] - c0[1])) / max(1, args.sse_replies), 1)
        sse["rss_mb_before"] = [round(x / 1024) for x in rss0]
        report["sse"] = sse
        print(f"  SSE {args.streams} streams over two nodes: {sse['connected']} connected, p50 {sse['p50_ms']}ms "
              f"p99 {sse['p99_ms']}ms max {sse['max_ms']}ms missed {sse['missed']} errors {sse['errors']}, "
              f"CPU both nodes {sse['both_nodes_cpu_ms_per_reply']} ms/reply", flush=True)

        if args.soak:
            import soak  # bench/soak.py
            rep = soak.run(base, a.pid, args.soak, pw, tenants=summary["tenants"], rate=120, streams=2000)
            report["soak"] = rep
        report["rss_mb_end"] = [round(run.rss_kb(p.pid, "VmRSS") / 1024) for p in (a, b)]
    finally:
        for p in reversed(procs):
            run.stop_server(p)
        shutil.rmtree(tmp, ignore_errors=True)
        run.cleanup(ctx, drop_db=True)
    with open(os.path.join(BENCH_DIR, "two-nodes.json"), "w") as f:
        json.dump(report, f, indent=1, default=str)
    write_markdown(report, args)


def write_markdown(rep, args):
    m = run.machine()
    lines = [
        "# Two nodes behind nginx on one PostgreSQL",
        "",
        "Back to [benchmarks](benchmarks.md) and [deploy](deploy.md).",
        "",
        f"Produced by `python3 bench/two_nodes.py {' '.join(sys.argv[1:])}` on {rep['started']}, {m}.",
        "Both Portico nodes, nginx, PostgreSQL, `wrk` and the SSE client share the same two cores, so",
        "two nodes here split one machine rather than double it (see the notes below).",
        "",
        f"## Through nginx, {args.connections} connections, {args.duration} s per row",
        "",
        "| scenario | req/s | p50 ms | p99 ms | errors | node A's share of server CPU |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for r in rep.get("wrk", []):
        lines.append(f"| {r['name']} | {r['rps']:.0f} | {r['p50']} | {r['p99']} | {r['errors']} | {r['share_a']} |")
    t = rep.get("throttle", {})
    j = rep.get("jobs", {})
    s = rep.get("sse", {})
    lines += [
        "",
        "## Across nodes",
        "",
        f"- **Throttling**: wrong passwords for one account alternated between the nodes; "
        f"{t.get('allowed_before_429')} were checked (per node {t.get('per_node')}) before the first 429 "
        "(the single-node limit is 5: the counter is a database row, not node memory).",
        f"- **Jobs exactly once**: {j.get('replies')} staff replies on distinct tickets, {j.get('emails')} "
        f"notification emails, {j.get('duplicates')} (recipient, reply) pairs sent twice, "
        f"{j.get('replies_without_email')} replies without an email. Both nodes run the job loop on the one queue.",
        f"- **Live events**: {s.get('conns')} streams through nginx (round robin, so about half on each node), "
        f"{s.get('connected')} connected; {s.get('replies', args.sse_replies)} staff replies landing on either node; "
        f"delivery p50 {s.get('p50_ms')} ms, p99 {s.get('p99_ms')} ms, max {s.get('max_ms')} ms, missed "
        f"{s.get('missed')}, errors {s.get('errors')}; server CPU of both nodes {s.get('both_nodes_cpu_ms_per_reply')} ms per reply.",
        f"- **Memory** at the end: nodes {rep.get('rss_mb_end')} MB RSS.",
    ]
    if "soak" in rep:
        so = rep["soak"]
        lines += ["", "## Mixed-load soak through nginx", "", "```", json.dumps({k: v for k, v in so.items() if k != "windows"},
                                                                                  indent=1, default=str)[:3000], "```"]
    lines += [
        "",
        "## What a larger machine would change",
        "",
        "On this machine every process competes for two cores: a second node adds a second process",
        "but no CPU, and nginx adds a hop, so the throughput rows are lower than one node's on the",
        "same machine. What the run shows is correctness across nodes (events, throttles and jobs",
        "behave as on one node) and the cost of the extra hop. With a machine per node the read",
        "rows scale with the nodes until PostgreSQL's CPU is the limit; writes are bound by",
        "PostgreSQL's commit rate, not by Portico.",
        "",
    ]
    with open(args.out, "w") as f:
        f.write("\n".join(lines))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
