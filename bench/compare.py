#!/usr/bin/env python3
"""Before and after in one run: the hot-read and write rows of the performance targets, measured
for two builds of Portico on the same machine, one after the other, each on its own freshly
seeded database (the same deterministic seed; each build migrates its own schema).

    python3 bench/compare.py --before /path/to/old/portico --after target/release/portico
    python3 bench/compare.py --before OLD --after NEW --db postgres --rounds 2

Rows alternate between the builds round by round (before, after, before, after…) so that a
slow stretch of the shared machine hits both. Writes docs/before-after.md.
"""
import argparse
import os
import shutil
import sys
import tempfile
import time

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH_DIR)
sys.path.insert(0, BENCH_DIR)
import run  # noqa: E402

TARGETS = {
    "/readyz (ceiling, one query)": "",
    "ticket list API (company admin scope, 25 rows)": "≥ 40% of /readyz, p99 < 20 ms",
    "ticket detail page (20 comments)": "≥ 30% of /readyz, p99 < 25 ms",
    "create ticket (audit, event, email job)": "≥ 1,000/s, p99 < 50 ms",
    "add comment": "≥ 1,000/s",
}


def scenarios(base, summary, tmp):
    ses = run.sign_in(base, summary)
    extra = {n: (n, p, h, s) for n, p, h, s in
             run.EXTRA_SCENARIOS(base, summary, ses["user_cookie"], ses["admin_cookie"], ses["staff_cookie"], tmp)}
    writes = run.WRITE_SCENARIOS(base, ses["user_cookie"], ses["user_csrf"], tmp)
    rows = [("/readyz (ceiling, one query)", "/readyz", {}, None),
            extra["ticket list API (company admin scope, 25 rows)"],
            extra["ticket detail page (20 comments)"]]
    rows += [(("add comment" if n.startswith("add comment") else n), p, h, s) for n, p, h, s in writes]
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--before", required=True)
    ap.add_argument("--after", default=run.BIN)
    ap.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    ap.add_argument("--pg-admin-url", default="postgres://postgres:postgres@127.0.0.1:5432/postgres")
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--connections", type=int, default=64)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--out", default=os.path.join(ROOT, "docs", "before-after.md"))
    args = ap.parse_args()
    builds = {}
    for label, binary in (("before", args.before), ("after", args.after)):
        a = argparse.Namespace(**vars(args))
        a.bin = binary
        ctx = run.seed(args.db, a, args.scale, pg_db=f"portico_cmp_{label}")
        builds[label] = (a, ctx)
    results = {label: {} for label in builds}
    try:
        for rnd in range(args.rounds):
            for label, (a, ctx) in builds.items():
                server, base = run.start_server(ctx, a)
                tmp = tempfile.mkdtemp()
                try:
                    time.sleep(1)
                    for name, path, headers, script in scenarios(base, ctx["summary"], tmp):
                        r = run.run_wrk(base + path, args.connections, args.duration, headers, script)
                        results[label].setdefault(name, []).append(r)
                        print(f"  round {rnd + 1} {label:6} {name:45} {r['rps']:>8.0f} req/s p50 {r['p50']}ms "
                              f"p99 {r['p99']}ms errors {r['errors']}", flush=True)
                finally:
                    run.stop_server(server)
                    shutil.rmtree(tmp, ignore_errors=True)
    finally:
        for _, ctx in builds.values():
            run.cleanup(ctx, drop_db=True)
    write(results, args)


def best(rows):
    """The round with the most requests per second (the least disturbed by the shared host)."""
    return max(rows, key=lambda r: r["rps"])


def write(results, args):
    lines = [
        "# Before and after, one run",
        "",
        "Back to [performance](performance.md) and [benchmarks](benchmarks.md).",
        "",
        f"Produced by `python3 bench/compare.py {' '.join(sys.argv[1:])}` on "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {run.machine()}; {args.db}, scale "
        f"{args.scale:g}, {args.connections} connections, {args.duration} s per row, {args.rounds} rounds "
        "alternating between the builds; the best round of each is shown (the host steals CPU now and then).",
        "",
        "| scenario | target | before req/s | before p99 ms | after req/s | after p99 ms | after, % of its /readyz |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    ceiling = {label: best(results[label]["/readyz (ceiling, one query)"])["rps"] for label in results}
    for name in results["after"]:
        b, a = best(results["before"][name]), best(results["after"][name])
        share = f"{100 * a['rps'] / ceiling['after']:.0f}%" if name != "/readyz (ceiling, one query)" else ""
        lines.append(f"| {name} | {TARGETS.get(name, '')} | {b['rps']:.0f} | {b['p99']} | {a['rps']:.0f} | {a['p99']} | {share} |")
    errors = sum(r["errors"] for label in results for rows in results[label].values() for r in rows)
    lines += ["", f"Errors over all rows and rounds: {errors}.", ""]
    with open(args.out, "w") as f:
        f.write("\n".join(lines))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
