#!/usr/bin/env python3
"""Mixed-load soak: a day of traffic in an hour (or two minutes), against one seeded server.

    python3 bench/run.py --soak 3600            # builds, seeds scale 1, writes docs/soak.md
    python3 bench/run.py --soak 120 --no-build  # the CI-size run

20 tenants (the scale-1 seed); a fixed request rate shared by worker threads on keep-alive
connections: 70% page and API reads across tickets, team, audit, knowledge base, announcements,
invoices and documents; 20% comments; 5% new tickets; 5% sign-ins (Argon2id). Meanwhile 2,000
event streams stay open (spread over the tenants' users). Every 10 s: per endpoint p50/p99 and
count, errors, the server's RSS. Memory must be flat after warm-up (the last half of the run
grows less than 5%) and under 100 MB; errors must be 0.
"""
import asyncio
import http.client
import json
import os
import random
import socket
import sys
import threading
import time
import urllib.parse

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, BENCH_DIR)
import sse_load  # noqa: E402

WINDOW = 10.0
READS = [
    # (name, path, who) — who: user, admin (company admin) or staff.
    ("ticket list API", "/api/v1/tickets?status=all&limit=25", "user"),
    ("ticket list page", "/portal/tickets", "user"),
    ("ticket detail page", "/portal/tickets/{ticket}", "user"),
    ("dashboard page", "/portal/dashboard", "user"),
    ("team page", "/portal/team", "admin"),
    ("knowledge base page", "/portal/kb", "user"),
    ("announcements page", "/portal/announcements", "user"),
    ("invoices page", "/portal/invoices", "admin"),
    ("documents page", "/portal/documents", "user"),
    ("staff queue API", "/api/v1/admin/tickets?status=all&limit=25", "staff"),
    ("staff audit page", "/admin/audit", "staff"),
    ("staff users API", "/api/v1/admin/users?limit=50", "staff"),
]


def pct(vals, p):
    if not vals:
        return None
    s = sorted(vals)
    return round(s[min(len(s) - 1, max(0, int(round(p / 100 * len(s))) - 1))], 1)


class Conn:
    """One keep-alive HTTP connection with a session cookie."""

    def __init__(self, addr, host):
        self.addr, self.host = addr, host
        self.c = None

    def request(self, method, path, body=None, headers=None):
        h = {"Host": self.host, "Accept": "application/json, text/html"}
        h.update(headers or {})
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            h["Content-Type"] = "application/json"
        for attempt in (0, 1):
            try:
                if self.c is None:
                    self.c = http.client.HTTPConnection(*self.addr, timeout=30)
                self.c.request(method, path, body=data, headers=h)
                r = self.c.getresponse()
                payload = r.read()
                return r.status, r.getheader("set-cookie") or "", payload
            except (http.client.HTTPException, OSError):
                self.c = None
                if attempt:
                    raise
        raise RuntimeError("unreachable")


class Session:
    def __init__(self, tenant, email, audience, password):
        self.tenant, self.email, self.audience, self.password = tenant, email, audience, password
        self.cookie, self.csrf = "", ""
        self.tickets = []

    def sign_in(self, conn):
        st, cookie, body = conn.request("POST", f"/api/v1/auth/login?tenant={self.tenant}",
                                        {"email": self.email, "password": self.password,
                                         "audience": self.audience})
        if st != 200:
            raise RuntimeError(f"sign-in of {self.email}: {st} {body[:200]!r}")
        self.cookie = cookie.split(";")[0]
        self.csrf = json.loads(body)["csrf_token"]
        return st

    def headers(self, write=False):
        h = {"Cookie": self.cookie}
        if write:
            h["X-CSRF-Token"] = self.csrf
        return h


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.windows = []  # [{name: [ms]}, errors, rss]
        self.cur = {}
        self.errors = 0
        self.error_kinds = {}

    def add(self, name, ms, ok, what=""):
        with self.lock:
            self.cur.setdefault(name, []).append(ms)
            if not ok:
                self.errors += 1
                self.error_kinds[what] = self.error_kinds.get(what, 0) + 1

    def roll(self, rss_kb, streams):
        with self.lock:
            w, self.cur = self.cur, {}
            self.windows.append(dict(lat=w, errors=self.errors, rss_kb=rss_kb, streams=streams))


def worker(stop, stats, addr, host, sessions, rate_per_worker, rng):
    conn = Conn(addr, host)
    interval = 1.0 / rate_per_worker
    next_at = time.perf_counter()
    while not stop.is_set():
        next_at += interval
        delay = next_at - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        roll = rng.random()
        try:
            if roll < 0.70:
                name, path, who = rng.choice(READS)
                s = rng.choice(sessions[who])
                if "{ticket}" in path:
                    if not s.tickets:
                        continue
                    path = path.format(ticket=rng.choice(s.tickets))
                t = time.perf_counter()
                st, _, _ = conn.request("GET", path, headers=s.headers())
                stats.add(name, (time.perf_counter() - t) * 1000, st == 200, f"{name}: {st}")
            elif roll < 0.90:
                s = rng.choice(sessions["user"])
                if not s.tickets:
                    continue
                n = rng.choice(s.tickets)
                t = time.perf_counter()
                st, _, _ = conn.request("POST", f"/api/v1/tickets/{n}/comments",
                                        {"body": f"Soak comment {rng.randrange(1 << 30)}."},
                                        s.headers(write=True))
                stats.add("add comment API", (time.perf_counter() - t) * 1000, st == 201, f"comment: {st}")
            elif roll < 0.95:
                s = rng.choice(sessions["user"])
                t = time.perf_counter()
                st, _, body = conn.request("POST", "/api/v1/tickets",
                                           {"subject": "Soak: printer offline again",
                                            "description": "Created by the soak run.", "priority": "normal"},
                                           s.headers(write=True))
                stats.add("create ticket API", (time.perf_counter() - t) * 1000, st == 201, f"create: {st}")
                if st == 201 and len(s.tickets) < 50:
                    s.tickets.append(json.loads(body)["number"])
            else:
                s = rng.choice(sessions["signin"])
                t = time.perf_counter()
                st = Session(s.tenant, s.email, s.audience, s.password).sign_in(conn)
                stats.add("sign-in API (Argon2id)", (time.perf_counter() - t) * 1000, st == 200, f"sign-in: {st}")
        except Exception as e:  # noqa: BLE001 - counted, the soak goes on
            stats.add("transport", 0, False, f"transport: {type(e).__name__}")


async def hold_streams(stop_evt, addr, host, sessions, n, alive):
    loop = asyncio.get_running_loop()
    bench = sse_load.Bench()
    sse_load.raise_nofile(n + 512)
    streams = []
    for start in range(0, n, sse_load.BATCH):
        batch = []
        for i in range(start, min(n, start + sse_load.BATCH)):
            s = sessions[i % len(sessions)]
            req = (f"GET /api/v1/events HTTP/1.1\r\nHost: {host}\r\nCookie: {s.cookie}\r\n"
                   f"Accept: text/event-stream\r\nCache-Control: no-cache\r\n\r\n").encode()
            batch.append(sse_load.open_stream(bench, loop, addr, req))
        streams += await asyncio.gather(*batch)
    while not stop_evt.is_set():
        alive[0] = bench.alive
        alive[1] = dict(bench.error_kinds)
        await asyncio.sleep(1)
    for s in streams:
        s.close()


def run(base, server_pid, seconds, password, tenants=20, rate=120, workers=16, streams=2000, seed=7):
    """Runs the soak; returns the report dict."""
    u = urllib.parse.urlsplit(base)
    host = u.netloc
    addr = (socket.gethostbyname(u.hostname), u.port or 80)
    rng = random.Random(seed)
    conn = Conn(addr, host)
    sessions = {"user": [], "admin": [], "staff": [], "signin": []}
    print(f"soak: signing in users of {tenants} tenants", flush=True)
    for t in range(1, tenants + 1):
        slug = f"bench-{t:02d}"
        for c in range(3):
            user = Session(slug, f"u3.c{c}@{slug}.example", "portal", password)
            user.sign_in(conn)
            st, _, body = conn.request("GET", "/api/v1/tickets?status=all&limit=25", headers=user.headers())
            # Finished tickets (resolved or closed) refuse a client's comment; the soak comments
            # on the others.
            user.tickets = [i["number"] for i in json.loads(body).get("items", [])
                            if i.get("status") not in ("resolved", "closed")] if st == 200 else []
            sessions["user"].append(user)
            sessions["signin"].append(Session(slug, f"u4.c{c}@{slug}.example", "portal", password))
        admin = Session(slug, f"u0.c0@{slug}.example", "portal", password)
        admin.sign_in(conn)
        sessions["admin"].append(admin)
        staff = Session(slug, f"staff@{slug}.example", "admin", password)
        staff.sign_in(conn)
        sessions["staff"].append(staff)

    stats = Stats()
    stop = threading.Event()
    alive = [0, {}]
    stream_sessions = sessions["user"] + sessions["admin"]
    stream_stop = threading.Event()
    st_thread = threading.Thread(target=lambda: asyncio.run(
        hold_streams(stream_stop, addr, host, stream_sessions, streams, alive)), daemon=True)
    st_thread.start()
    time.sleep(min(30, 2 + streams / 500))
    print(f"soak: {alive[0]} streams open; {rate} req/s for {seconds}s", flush=True)
    threads = [threading.Thread(target=worker, args=(stop, stats, addr, host, sessions, rate / workers,
                                                     random.Random(seed + i)), daemon=True)
               for i in range(workers)]
    t0 = time.time()
    for th in threads:
        th.start()
    while time.time() - t0 < seconds:
        time.sleep(max(0.0, WINDOW - ((time.time() - t0) % WINDOW)))
        stats.roll(sse_load.rss_kb(server_pid), alive[0])
        w = stats.windows[-1]
        n = sum(len(v) for v in w["lat"].values())
        print(f"  t={time.time() - t0:5.0f}s {n / WINDOW:6.1f} req/s  errors {w['errors']}  "
              f"rss {w['rss_kb'] / 1024:.1f} MB  streams {w['streams']}", flush=True)
    stop.set()
    for th in threads:
        th.join(timeout=35)
    stream_stop.set()
    st_thread.join(timeout=10)
    return summarise(stats, seconds, rate, streams, alive)


def summarise(stats, seconds, rate, streams, alive):
    wins = stats.windows
    names = sorted({n for w in wins for n in w["lat"]} - {"transport"})
    per = []
    for n in names:
        allv = [v for w in wins for v in w["lat"].get(n, [])]
        first = [v for w in wins[: max(1, len(wins) // 4)] for v in w["lat"].get(n, [])]
        last = [v for w in wins[-max(1, len(wins) // 4):] for v in w["lat"].get(n, [])]
        per.append(dict(name=n, count=len(allv), p50=pct(allv, 50), p99=pct(allv, 99),
                        p50_first=pct(first, 50), p99_first=pct(first, 99),
                        p50_last=pct(last, 50), p99_last=pct(last, 99)))
    rss = [w["rss_kb"] for w in wins]
    half = rss[len(rss) // 2:] or rss
    growth = (half[-1] - half[0]) / half[0] * 100 if half and half[0] else 0.0
    return dict(seconds=seconds, rate=rate, streams_wanted=streams, streams_open_end=alive[0],
                stream_errors=alive[1], errors=stats.errors, error_kinds=stats.error_kinds,
                rss_mb=[round(r / 1024, 1) for r in rss], rss_max_mb=round(max(rss) / 1024, 1) if rss else None,
                growth_last_half_pct=round(growth, 1), endpoints=per)


def markdown(rep, machine, command):
    ok_mem = rep["rss_max_mb"] is not None and rep["rss_max_mb"] < 100 and rep["growth_last_half_pct"] < 5
    lines = ["# Mixed-load soak", "",
             f"Run {time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC on {machine}. Command: `{command}`.", "",
             f"{rep['seconds']} s at {rep['rate']} requests/s (70% reads, 20% comments, 5% new tickets, 5% sign-ins) "
             f"over 20 tenants, with {rep['streams_wanted']} event streams open ({rep['streams_open_end']} still open "
             "at the end). The load generator runs on the same machine.", "",
             f"- Errors: **{rep['errors']}**" + (f" ({rep['error_kinds']})" if rep["error_kinds"] else "") +
             (f"; stream errors {rep['stream_errors']}" if rep["stream_errors"] else ""),
             f"- Server memory (RSS, every 10 s): max **{rep['rss_max_mb']} MB**, growth over the last half "
             f"**{rep['growth_last_half_pct']}%** — target under 100 MB and flat: **{'met' if ok_mem else 'missed'}**.",
             f"- RSS samples (MB): {', '.join(str(x) for x in rep['rss_mb'])}", "",
             "| endpoint | requests | p50 | p99 | p50 first quarter | p99 first quarter | p50 last quarter | p99 last quarter |",
             "|---|---|---|---|---|---|---|---|"]
    for e in rep["endpoints"]:
        lines.append(f"| {e['name']} | {e['count']} | {e['p50']} | {e['p99']} | {e['p50_first']} | {e['p99_first']} | "
                     f"{e['p50_last']} | {e['p99_last']} |")
    return "\n".join(lines) + "\n"
