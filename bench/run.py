#!/usr/bin/env python3
"""Portico benchmark: builds release, seeds at scale, starts `portico serve`, drives HTTP load
with wrk (keep-alive connections, a separate process) per scenario and concurrency, and writes
docs/benchmarks.md.

    python3 bench/run.py                      # SQLite, N=1, 16 and 64 connections
    python3 bench/run.py --db postgres        # PostgreSQL (needs a local server, see --pg-url)
    python3 bench/run.py --db both --duration 10
    python3 bench/run.py --bin /path/to/portico --no-build --sse 1000,10000 --curve 0.1,1,10
    python3 bench/run.py --no-build --sse-spread 10000   # only: 10,000 streams over 1,000 companies

Besides the wrk scenarios, per database: live events (SSE) under load via bench/sse_load.py, a
freshly started server per stream count on the same seeded data (--sse), and an optional scale
curve that seeds a fresh database per scale and runs two list scenarios at 64 connections
(--curve).
"""
import argparse
import datetime
import json
import os
import platform
import re
import resource
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH_DIR)
BIN = os.path.join(ROOT, "target", "release", "portico")  # default of --bin
sys.path.insert(0, BENCH_DIR)
import sse_load  # noqa: E402  (bench/sse_load.py)

CURVE_CONNS = 64
CURVE_SCENARIOS = ("ticket list API (company admin scope, 25 rows)", "staff queue API (SLA breached, 25 rows)")


def sh(cmd, **kw):
    print("+", cmd if isinstance(cmd, str) else " ".join(cmd), flush=True)
    return subprocess.run(cmd, check=True, shell=isinstance(cmd, str), **kw)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def rss_kb(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def http(method, url, body=None, headers=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    if data is not None:
        req.add_header("content-type", "application/json")
    with urllib.request.urlopen(req, timeout=30) as r:
        return r.status, dict(r.headers), r.read()


def login(base, tenant, email, password, audience="portal"):
    status, headers, body = http("POST", f"{base}/api/v1/auth/login?tenant={tenant}",
                                 {"email": email, "password": password, "audience": audience})
    cookie = headers.get("set-cookie", "").split(";")[0]
    return cookie, json.loads(body)["csrf_token"]


LUA_POST = """
wrk.method = "{method}"
wrk.body = [[{body}]]
wrk.headers["Content-Type"] = "application/json"
{extra}
"""


def parse_ms(v):
    m = re.match(r"([\d.]+)(us|ms|s)", v)
    if not m:
        return None
    n, unit = float(m.group(1)), m.group(2)
    return n / 1000 if unit == "us" else n * 1000 if unit == "s" else n


def run_wrk(url, conns, duration, headers, script=None):
    cmd = ["wrk", "-t2", f"-c{conns}", f"-d{duration}s", "--latency", "--timeout", "10s"]
    for k, v in headers.items():
        cmd += ["-H", f"{k}: {v}"]
    if script:
        cmd += ["-s", script]
    cmd.append(url)
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    res = {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))}
    for p in ("50", "90", "99"):
        m = re.search(rf"^\s+{p}%\s+(\S+)", out, re.M)
        res[f"p{p}"] = parse_ms(m.group(1)) if m else None
    errors = 0
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if m:
        errors += int(m.group(1))
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if m:
        errors += sum(int(x) for x in m.groups())
    res["errors"] = errors
    return res


def explain(db_kind, url, data_dir, queries):
    plans = {}
    for name, sql in queries:
        if db_kind == "sqlite":
            con = sqlite3.connect(os.path.join(data_dir, "portico.db"))
            rows = con.execute("EXPLAIN QUERY PLAN " + sql).fetchall()
            plans[name] = "\n".join(r[-1] for r in rows)
            con.close()
        else:
            out = subprocess.run(["psql", url, "-At", "-c", "EXPLAIN " + sql], capture_output=True, text=True)
            plans[name] = out.stdout.strip() or out.stderr.strip()
    return plans


def nofile_target():
    """Open-file limit for the server: the hard limit (capped by fs.nr_open when unlimited)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY:
        return hard
    try:
        with open("/proc/sys/fs/nr_open") as f:
            return int(f.read())
    except (OSError, ValueError):
        return 1 << 20


def seed(db_kind, args, scale, pg_db="portico_bench"):
    """Seeds `portico demo --scale` into a fresh data dir (and, for PostgreSQL, a freshly created
    database `pg_db`). Returns the context the server, the SSE runs and the curve share."""
    data_dir = tempfile.mkdtemp(prefix="portico-bench-")
    env = dict(os.environ, PORTICO_DATA_DIR=data_dir, RUST_LOG="warn")
    db_url = None
    if db_kind == "postgres":
        sh(["psql", args.pg_admin_url, "-q", "-c", f"DROP DATABASE IF EXISTS {pg_db} WITH (FORCE)", "-c", f"CREATE DATABASE {pg_db}"])
        db_url = args.pg_admin_url.rsplit("/", 1)[0] + "/" + pg_db
        env["PORTICO_DATABASE_URL"] = db_url
    t0 = time.time()
    out = subprocess.run([args.bin, "demo", "--scale", str(scale)], env=env, capture_output=True, text=True, check=True).stdout
    seed_secs = time.time() - t0
    summary = json.loads(out.strip().splitlines()[-1].split(": ", 1)[1])
    print(f"[{db_kind}] seeded scale {scale:g}: {summary['tickets']} tickets in {seed_secs:.1f}s", flush=True)
    return dict(db=db_kind, scale=scale, data_dir=data_dir, env=env, db_url=db_url, pg_db=pg_db,
                pg_admin_url=args.pg_admin_url, summary=summary, seed_secs=seed_secs)


def cleanup(ctx, drop_db=False):
    shutil.rmtree(ctx["data_dir"], ignore_errors=True)
    if drop_db and ctx["db"] == "postgres":
        subprocess.run(["psql", ctx["pg_admin_url"], "-q", "-c", f"DROP DATABASE IF EXISTS {ctx['pg_db']} WITH (FORCE)"],
                       capture_output=True)


def start_server(ctx, args):
    """Starts `portico serve` on the seeded data with a high open-file limit; waits for /healthz.
    Returns (process, base URL)."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = dict(ctx["env"], PORTICO_LISTEN=f"127.0.0.1:{port}", PORTICO_BASE_URL=base)
    nofile = nofile_target()

    def raise_nofile():
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))
        except (ValueError, OSError):
            pass

    log = open(os.path.join(ctx["data_dir"], f"serve-{port}.log"), "wb")
    server = subprocess.Popen([args.bin, "serve"], env=env, stdout=subprocess.DEVNULL, stderr=log, preexec_fn=raise_nofile)
    log.close()
    for _ in range(300):
        if server.poll() is not None:
            break
        try:
            if http("GET", base + "/healthz")[0] == 200:
                return server, base
        except Exception:
            time.sleep(0.1)
    stop_server(server)
    with open(os.path.join(ctx["data_dir"], f"serve-{port}.log"), errors="replace") as f:
        tail = f.read()[-2000:]
    raise RuntimeError(f"portico serve did not become healthy on {base}:\n{tail}")


def stop_server(server):
    server.terminate()
    try:
        server.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def sign_in(base, summary):
    """Sessions of the sample client user, company admin and staff (audience admin)."""
    pw = summary["password"]
    user_cookie, user_csrf = login(base, "bench-01", summary["sample_user"], pw)
    admin_cookie, _ = login(base, "bench-01", summary["sample_admin"], pw)
    staff_cookie, staff_csrf = login(base, "bench-01", summary["sample_staff"], pw, "admin")
    return dict(user_cookie=user_cookie, user_csrf=user_csrf, admin_cookie=admin_cookie,
                staff_cookie=staff_cookie, staff_csrf=staff_csrf)


def bench_db(db_kind, args):
    ctx = seed(db_kind, args, args.scale)
    summary = ctx["summary"]
    try:
        server, base = start_server(ctx, args)
        tmp = tempfile.mkdtemp()
        try:
            time.sleep(1)
            idle_rss = rss_kb(server.pid, "VmRSS")
            pw = summary["password"]
            ses = sign_in(base, summary)
            user_cookie, user_csrf = ses["user_cookie"], ses["user_csrf"]
            admin_cookie, staff_cookie = ses["admin_cookie"], ses["staff_cookie"]
            login_lua = os.path.join(tmp, "login.lua")
            with open(login_lua, "w") as f:
                f.write(LUA_POST.format(method="POST", body=json.dumps({"email": summary["sample_user"], "password": pw}), extra=""))
            scenarios = [
                ("/healthz (ceiling, no database)", "/healthz", {}, None),
                ("/readyz (ceiling, one query)", "/readyz", {}, None),
                ("branding API (anonymous)", "/api/portal/branding?tenant=bench-01", {}, None),
                ("dashboard page (client user)", "/portal/dashboard", {"Cookie": user_cookie}, None),
                ("me API (company admin)", "/api/v1/me", {"Cookie": admin_cookie}, None),
                ("users list API (staff, 50 rows)", "/api/v1/admin/users?limit=50", {"Cookie": staff_cookie}, None),
                ("companies page (staff)", "/admin/companies", {"Cookie": staff_cookie}, None),
            ]
            scenarios += EXTRA_SCENARIOS(base, summary, user_cookie, admin_cookie, staff_cookie, tmp)
            scenarios += WRITE_SCENARIOS(base, user_cookie, user_csrf, tmp)
            results = []
            peak = 0
            for name, path, headers, script in scenarios:
                for c in args.connections:
                    r = run_wrk(base + path, c, args.duration, headers, script)
                    r.update(name=name, conns=c)
                    results.append(r)
                    peak = max(peak, rss_kb(server.pid, "VmHWM"))
                    print(f"  {name:45} c={c:<4} {r['rps']:>9.0f} req/s  p50 {r['p50']}ms p99 {r['p99']}ms errors {r['errors']}", flush=True)
            # Login is bound by Argon2id on purpose: measured on its own at low concurrency.
            login_res = run_wrk(base + "/api/v1/auth/login?tenant=bench-01", 4, args.duration, {}, login_lua)
            login_res.update(name="login (Argon2id, 4 connections)", conns=4)
            login_peak = rss_kb(server.pid, "VmHWM")
            plans = explain(db_kind, ctx["db_url"], ctx["data_dir"], HOT_QUERIES)
        finally:
            stop_server(server)
            shutil.rmtree(tmp, ignore_errors=True)
        run = dict(db=db_kind, seed_secs=ctx["seed_secs"], summary=summary, idle_rss_kb=idle_rss, peak_rss_kb=peak,
                   login_peak_rss_kb=login_peak,
                   results=results, login=login_res, plans=plans)
        run["sse"] = bench_sse(ctx, args)
    finally:
        cleanup(ctx)
    run["curve"] = bench_curve(db_kind, args)
    return run


def bench_sse(ctx, args):
    """Live events: per stream count, a fresh server on the same seeded data (memory per stream
    is measured against a fresh process), sse_load.measure, then the server is stopped."""
    rows = []
    summary = ctx["summary"]
    for n in args.sse:
        print(f"[{ctx['db']}] live events: {n} streams, {args.sse_replies} replies, fresh server", flush=True)
        server, base = start_server(ctx, args)
        try:
            time.sleep(1)
            pw = summary["password"]
            user_cookie, _ = login(base, "bench-01", summary["sample_user"], pw)
            staff_cookie, staff_csrf = login(base, "bench-01", summary["sample_staff"], pw, "admin")
            _, _, body = http("GET", base + "/api/v1/tickets?status=all&limit=1", headers={"Cookie": user_cookie})
            items = json.loads(body).get("items") or []
            if not items:
                raise RuntimeError(f"{summary['sample_user']} sees no ticket")
            r = sse_load.measure(base, user_cookie, staff_cookie, staff_csrf, items[0]["number"], n, server.pid,
                                 replies=args.sse_replies)
            rows.append(r)
            print(f"  SSE {n:>6} streams: {r['connected']} connected, {r['kb_per_conn']} KiB/stream, "
                  f"p50 {r['p50_ms']}ms p99 {r['p99_ms']}ms max {r['max_ms']}ms missed {r['missed']} errors {r['errors']}"
                  + (f" {r['error_kinds']}" if r["error_kinds"] else ""), flush=True)
        except Exception as e:  # noqa: BLE001 - reported as a failed row, the rest of the run goes on
            print(f"  SSE {n:>6} streams: FAILED: {e!r}", flush=True)
            rows.append(dict(conns=n, failed=repr(e)))
        finally:
            stop_server(server)
    return rows


KEEP = "<!-- Kept by bench/run.py: measured by other tools. -->"


def sse_spread(kinds, args):
    """Live events spread over companies: `--sse-spread N` streams over `--spread-companies`
    companies of the scale seed (20 per tenant; scale 2.5 gives 1,000), N / companies streams
    per company admin's session, then staff replies on a ticket of one company. Latency is
    measured on that company's streams; `strays` counts deliveries to any other stream."""
    from concurrent.futures import ThreadPoolExecutor
    rows = []
    per_tenant = 20
    companies = args.spread_companies
    for k in kinds:
        scale = max(args.scale, companies / (20 * per_tenant))
        ctx = seed(k, args, scale)
        try:
            server, base = start_server(ctx, args)
            try:
                pw = ctx["summary"]["password"]
                staff_cookie, staff_csrf = login(base, "bench-01", "staff@bench-01.example", pw, "admin")
                target_cookie, _ = login(base, "bench-01", "u0.c0@bench-01.example", pw)
                _, _, body = http("GET", base + "/api/v1/tickets?status=all&limit=1", headers={"Cookie": target_cookie})
                ticket = json.loads(body)["items"][0]["number"]
                who = [(f"bench-{t:02}", f"u0.c{c}@bench-{t:02}.example")
                       for t in range(1, companies // per_tenant + 2) for c in range(per_tenant)]
                who = [w for w in who if w[1] != "u0.c0@bench-01.example"][:companies - 1]
                t0 = time.time()
                with ThreadPoolExecutor(4) as ex:
                    cookies = list(ex.map(lambda w: login(base, w[0], w[1], pw)[0], who))
                print(f"[{k}] spread: {len(cookies) + 1} company sessions signed in in {time.time() - t0:.1f}s", flush=True)
                per = max(1, args.sse_spread // companies)
                r = sse_load.measure(base, target_cookie, staff_cookie, staff_csrf, ticket, per, server.pid,
                                     replies=args.sse_replies, others=[(c, per) for c in cookies])
                r.update(db=k, companies=len(cookies) + 1)
                rows.append(r)
                print(f"  spread {r['streams_total']} streams over {r['companies']} companies: {r['connected']} connected, "
                      f"p50 {r['p50_ms']}ms p99 {r['p99_ms']}ms max {r['max_ms']}ms missed {r['missed']} strays {r['strays']} "
                      f"server CPU {r['server_cpu_ms_per_reply']} ms/reply, {r['kb_per_conn']} KiB/stream, errors {r['errors']}"
                      + (f" {r['error_kinds']}" if r["error_kinds"] else ""), flush=True)
            finally:
                stop_server(server)
        finally:
            cleanup(ctx, drop_db=True)
    print(json.dumps(rows))


def bench_curve(db_kind, args):
    """Scale curve: per scale a fresh data dir/database, a fresh server, two list scenarios."""
    rows = []
    for scale in args.curve:
        ctx = seed(db_kind, args, scale, pg_db="portico_bench_curve")
        summary = ctx["summary"]
        tmp = tempfile.mkdtemp()
        try:
            server, base = start_server(ctx, args)
            try:
                ses = sign_in(base, summary)
                scen = {name: (path, headers, script) for name, path, headers, script in
                        EXTRA_SCENARIOS(base, summary, ses["user_cookie"], ses["admin_cookie"], ses["staff_cookie"], tmp)}
                for name in CURVE_SCENARIOS:
                    path, headers, script = scen[name]
                    r = run_wrk(base + path, CURVE_CONNS, args.duration, headers, script)
                    r.update(name=name, conns=CURVE_CONNS, scale=scale, tickets=summary["tickets"], seed_secs=ctx["seed_secs"])
                    rows.append(r)
                    print(f"  curve {scale:<6g} {name:45} c={CURVE_CONNS:<4} {r['rps']:>9.0f} req/s  "
                          f"p50 {r['p50']}ms p99 {r['p99']}ms errors {r['errors']}", flush=True)
            finally:
                stop_server(server)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
            cleanup(ctx, drop_db=True)
    return rows


# Scenarios added by features (tickets, KB, invoices) as they land: (name, path, headers, lua).
def EXTRA_SCENARIOS(base, summary, user_cookie, admin_cookie, staff_cookie, tmp):
    return [
        ("ticket list API (user scope, 25 rows)", "/api/v1/tickets?status=all&limit=25", {"Cookie": user_cookie}, None),
        ("ticket list API (company admin scope, 25 rows)", "/api/v1/tickets?scope=company&status=all&limit=25", {"Cookie": admin_cookie}, None),
        ("ticket list page (user)", "/portal/tickets", {"Cookie": user_cookie}, None),
        ("ticket detail page (20 comments)", "/portal/tickets/1001", {"Cookie": user_cookie}, None),
        ("staff queue API (SLA breached, 25 rows)", "/api/v1/admin/tickets?sla=breached&status=all&limit=25", {"Cookie": staff_cookie}, None),
        ("staff queue page (SLA breached)", "/admin/tickets?sla=breached", {"Cookie": staff_cookie}, None),
    ]


def open_ticket_numbers(base, cookie, want=200):
    """Numbers of open tickets the user sees (a client cannot comment on finished ones)."""
    numbers, cursor = [], None
    while len(numbers) < want:
        url = base + "/api/v1/tickets?limit=100" + (f"&cursor={cursor}" if cursor else "")
        page = json.loads(http("GET", url, headers={"Cookie": cookie})[2])
        numbers += [t["number"] for t in page["items"]]
        cursor = page.get("next_cursor")
        if not cursor:
            break
    return numbers[:want]


LUA_ROTATE = """
wrk.method = "POST"
wrk.body = [[{body}]]
wrk.headers["Content-Type"] = "application/json"
{extra}
local paths = {{{paths}}}
local i = 0
request = function()
  i = i + 1
  return wrk.format(nil, paths[(i % #paths) + 1])
end
"""


def WRITE_SCENARIOS(base, user_cookie, user_csrf, tmp):
    """Writes: each gets its own Lua script with the session cookie and CSRF header. Comments go
    round the user's open tickets, so threads stay their realistic length instead of one
    ticket collecting thousands of comments."""
    extra = f'wrk.headers["Cookie"] = "{user_cookie}"\nwrk.headers["X-CSRF-Token"] = "{user_csrf}"'
    create = os.path.join(tmp, "create.lua")
    with open(create, "w") as f:
        f.write(LUA_POST.format(method="POST", extra=extra, body=json.dumps(
            {"subject": "Benchmark: printer jams", "description": "Every second page.", "priority": "normal", "category": "General"})))
    numbers = open_ticket_numbers(base, user_cookie)
    comment = os.path.join(tmp, "comment.lua")
    with open(comment, "w") as f:
        f.write(LUA_ROTATE.format(body=json.dumps({"body": "Still happening after a restart."}), extra=extra,
                                  paths=", ".join(f'"/api/v1/tickets/{n}/comments"' for n in numbers)))
    return [
        ("create ticket (audit, event, email job)", "/api/v1/tickets", {}, create),
        (f"add comment (round {len(numbers)} open tickets)", f"/api/v1/tickets/{numbers[0]}/comments", {}, comment),
    ]


HOT_QUERIES = [
    ("session lookup (every signed-in request)",
     "SELECT s.last_seen_at FROM sessions s JOIN users u ON u.id = s.user_id JOIN tenants t ON t.id = s.tenant_id "
     "LEFT JOIN companies c ON c.id = u.company_id WHERE s.token_hash = 'x' AND s.audience = 'portal'"),
    ("tenant by slug (anonymous requests)", "SELECT id FROM tenants t WHERE t.slug = 'bench-01'"),
    ("ticket list, user scope (keyset)",
     "SELECT t.id FROM tickets t WHERE t.tenant_id = 'x' AND t.company_id = 'c' AND (t.requester_id = 'u' OR EXISTS "
     "(SELECT 1 FROM ticket_cc x WHERE x.ticket_id = t.id AND x.user_id = 'u')) ORDER BY t.updated_at DESC, t.id DESC LIMIT 26"),
    ("ticket list, company scope (keyset)",
     "SELECT t.id FROM tickets t WHERE t.tenant_id = 'x' AND t.company_id = 'c' ORDER BY t.updated_at DESC, t.id DESC LIMIT 26"),
    ("staff queue, SLA breached (open tickets, partial index)",
     "SELECT t.id FROM tickets t WHERE t.tenant_id = 'x' AND t.status NOT IN ('resolved', 'closed') "
     "AND t.resolution_due_at < 0 ORDER BY t.updated_at DESC, t.id DESC LIMIT 26"),
    ("staff queue, all statuses",
     "SELECT t.id FROM tickets t WHERE t.tenant_id = 'x' ORDER BY t.updated_at DESC, t.id DESC LIMIT 26"),
    ("ticket comments of one ticket",
     "SELECT id FROM ticket_comments WHERE tenant_id = 'x' AND ticket_id = 't' AND (internal = 0 OR 0 = 1) ORDER BY created_at, id"),
    ("users list, keyset", "SELECT u.id FROM users u LEFT JOIN companies c ON c.id = u.company_id "
     "WHERE u.tenant_id = 'x' AND ('' = '' OR u.company_id = '') AND u.email > '' ORDER BY u.email LIMIT 50"),
]


def machine():
    model = ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} cores ({model}), {mem:.0f} GiB RAM, {platform.system()} {platform.release()}"


def fmt(v):
    return "–" if v is None else f"{v:g}" if isinstance(v, float) else str(v)


def sse_section(rows, args):
    if not rows:
        return []
    ok = [r for r in rows if "failed" not in r]
    source = ok[0]["latency_source"] if ok else "kernel receive timestamp"
    out = ["### Live events (SSE)", "",
           f"Streams on `GET /api/v1/events`, all sharing one client user's session; per size a freshly started "
           f"server on the same data, then {args.sse_replies} public staff replies on one ticket. Latency is the time "
           f"from sending the staff reply POST to the `ticket.comment` event reaching each client socket "
           f"({source}); KiB per stream is the server's RSS growth with all streams open, divided by the streams. "
           f"CPU per reply is the server's and the load client's CPU time per reply delivered to every stream "
           f"(both share this machine's cores).", "",
           "| streams | connected | KiB per stream | p50 ms | p99 ms | max ms | missed | server CPU ms/reply | client CPU ms/reply |",
           "|---|---|---|---|---|---|---|---|---|"]
    notes = []
    for r in rows:
        if "failed" in r:
            out.append(f"| {r['conns']} | failed | | | | | | | |")
            notes.append(f"{r['conns']} streams: {r['failed']}")
            continue
        out.append(f"| {r['conns']} | {r['connected']} | {fmt(r['kb_per_conn'])} | {fmt(r['p50_ms'])} | "
                   f"{fmt(r['p99_ms'])} | {fmt(r['max_ms'])} | {r['missed']} | "
                   f"{fmt(r.get('server_cpu_ms_per_reply'))} | {fmt(r.get('client_cpu_ms_per_reply'))} |")
        if r["errors"]:
            notes.append(f"{r['conns']} streams: {r['errors']} errors {r['error_kinds']}")
    out.append("")
    if notes:
        out += ["Errors: " + "; ".join(notes) + ".", ""]
    return out


def curve_section(rows, args):
    if not rows:
        return []
    out = ["### Scale curve", "",
           f"Per scale a fresh database seeded with `portico demo --scale S` and a fresh server; "
           f"{CURVE_CONNS} connections, {args.duration}s per row.", "",
           "| scale | tickets | seeded in | scenario | req/s | p50 | p99 |",
           "|---|---|---|---|---|---|---|"]
    for r in rows:
        out.append(f"| {r['scale']:g} | {r['tickets']} | {r['seed_secs']:.1f}s | {r['name']} | {r['rps']:.0f} | "
                   f"{r['p50']} | {r['p99']} |")
    if any(r["errors"] for r in rows):
        out += ["", "Errors: " + "; ".join(f"scale {r['scale']:g} {r['name']}: {r['errors']}" for r in rows if r["errors"]) + "."]
    return out + [""]


def report(runs, args):
    lines = ["# Portico benchmarks", "",
             f"Run {datetime.datetime.utcnow().strftime('%Y-%m-%d %H:%M')} UTC on {machine()}.", "",
             "Command: `" + " ".join(["python3", "bench/run.py"] + sys.argv[1:]) + "`", "",
             f"Load: wrk, 2 threads, keep-alive, {args.duration}s per row, separate process on the same machine. "
             "Latencies in milliseconds. Ratios are against the ceilings measured in the same run "
             "at the same concurrency.", "",
             "What the numbers mean against the targets, what was fixed and what remains, with the "
             "profiles: [performance.md](performance.md).", ""]
    for run in runs:
        s = run["summary"]
        lines += [f"## {run['db']}", "",
                  f"Data: scale {args.scale}: {s['tenants']} tenants, {s['companies']} companies, {s['users']} client users, "
                  f"{s['tickets']} tickets, {s['comments']} comments; "
                  f"seeded in {run['seed_secs']:.1f}s. Server memory: {run['idle_rss_kb']/1024:.1f} MB idle after start, "
                  f"{run['peak_rss_kb']/1024:.1f} MB peak over the scenarios above (VmHWM); "
                  f"{run['login_peak_rss_kb']/1024:.1f} MB after the login row, whose Argon2id hashes take "
                  "19 MiB each (one per core at a time).", "",
                  "| scenario | conns | req/s | p50 | p90 | p99 | errors | vs /healthz | vs /readyz |",
                  "|---|---|---|---|---|---|---|---|---|"]
        ceil = {(r["name"].split(" ")[0], r["conns"]): r["rps"] for r in run["results"] if "ceiling" in r["name"]}
        for r in run["results"]:
            h = ceil.get(("/healthz", r["conns"])) or 1
            rd = ceil.get(("/readyz", r["conns"])) or 1
            lines.append(f"| {r['name']} | {r['conns']} | {r['rps']:.0f} | {r['p50']} | {r['p90']} | {r['p99']} | {r['errors']} | "
                         f"{100*r['rps']/h:.0f}% | {100*r['rps']/rd:.0f}% |")
        lg = run["login"]
        lines += ["", f"Login (bound by Argon2id on purpose): {lg['rps']:.0f} req/s at 4 connections, p50 {lg['p50']} ms, p99 {lg['p99']} ms.", ""]
        lines += sse_section(run.get("sse"), args) + curve_section(run.get("curve"), args)
        lines += ["Query plans of the hot queries:", ""]
        for name, plan in run["plans"].items():
            lines += [f"- {name}:", "", "  ```", *["  " + l for l in plan.splitlines()], "  ```", ""]
    # Sections measured by other tools (the PSA sync benchmark, the spread live-events run) sit
    # after the KEEP marker and survive a new run.
    path = os.path.join(ROOT, "docs", "benchmarks.md")
    kept = ""
    if os.path.exists(path):
        with open(path) as f:
            old = f.read()
        if KEEP in old:
            kept = "\n" + old[old.index(KEEP):]
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n" + kept)
    print("wrote docs/benchmarks.md")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", choices=["sqlite", "postgres", "both"], default="sqlite")
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--connections", type=lambda s: [int(x) for x in s.split(",")], default=[16, 64])
    ap.add_argument("--pg-admin-url", default="postgres://postgres:postgres@127.0.0.1:5432/postgres")
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--bin", default=BIN, help="portico binary (default target/release/portico)")
    ap.add_argument("--sse", type=lambda s: [int(x) for x in s.split(",") if x.strip() and int(x) > 0], default="1000,10000",
                    help="live events: comma-separated stream counts, a fresh server each; '0' or '' disables")
    ap.add_argument("--sse-spread", type=int, default=0,
                    help="only the spread live-events run: this many streams over --spread-companies companies")
    ap.add_argument("--spread-companies", type=int, default=1000)
    ap.add_argument("--sse-replies", type=int, default=20, help="staff replies timed per SSE run")
    ap.add_argument("--soak", type=int, default=0,
                    help="mixed-load soak of this many seconds instead of the scenarios (bench/soak.py; writes docs/soak.md)")
    ap.add_argument("--soak-rate", type=int, default=120, help="soak: requests per second")
    ap.add_argument("--soak-streams", type=int, default=2000, help="soak: event streams held open")
    ap.add_argument("--curve", type=lambda s: [float(x) for x in s.split(",") if x.strip()], default="",
                    help="scale curve: comma-separated scales, e.g. 0.1,1,10 (default off)")
    args = ap.parse_args()
    args.bin = os.path.abspath(args.bin)
    if shutil.which("wrk") is None:
        sh("apt-get install -y wrk || (apt-get update && apt-get install -y wrk)")
    if not args.no_build:
        sh(["cargo", "build", "--release"], cwd=ROOT)
    if not os.access(args.bin, os.X_OK):
        sys.exit(f"no portico binary at {args.bin} (build it or pass --bin)")
    kinds = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    if args.soak:
        soak_all(kinds, args)
        return
    if args.sse_spread:
        sse_spread(kinds, args)
        return
    runs = [bench_db(k, args) for k in kinds]
    report(runs, args)


def soak_all(kinds, args):
    """The mixed-load soak per database, on a fresh scale-1 seed; writes docs/soak.md."""
    import soak  # bench/soak.py
    parts = []
    for k in kinds:
        ctx = seed(k, args, 1.0)
        try:
            server, base = start_server(ctx, args)
            try:
                rep = soak.run(base, server.pid, args.soak, ctx["summary"]["password"],
                               tenants=ctx["summary"]["tenants"], rate=args.soak_rate, streams=args.soak_streams)
            finally:
                stop_server(server)
        finally:
            cleanup(ctx, drop_db=True)
        with open(os.path.join(ROOT, "bench", f"soak-{k}.json"), "w") as f:
            json.dump(rep, f, indent=1)
        parts.append(soak.markdown(rep, machine(), " ".join(["python3", "bench/run.py"] + sys.argv[1:]))
                     .replace("# Mixed-load soak", f"## {k}", 1))
    with open(os.path.join(ROOT, "docs", "soak.md"), "w") as f:
        f.write("# Mixed-load soak\n\nBack to [benchmarks](benchmarks.md) and [performance](performance.md).\n\n"
                + "\n".join(parts))
    print("wrote docs/soak.md")


if __name__ == "__main__":
    main()
