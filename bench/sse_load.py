#!/usr/bin/env python3
"""Live events under load: N concurrent SSE streams on one node, the time from a staff reply to
its delivery on every stream (p50/p99/max) and the server's memory per open stream.

    python3 bench/sse_load.py --base http://127.0.0.1:8111 --tenant acme --conns 1000,10000

Logs in as a client user (default alice@globex.example, audience portal) and as staff
(staff@acme.example, audience admin), picks a ticket the client can see, opens `--conns`
streams on `GET /api/v1/events` (all sharing the client's session), then posts `--replies`
public staff replies and times the `ticket.comment` event of each reply on every stream.

Two latencies are measured per stream and reply, both from t0 = just before the POST is sent:
- delivery (p50_ms/p99_ms/max_ms): when the event's bytes reached the client socket, from the
  kernel's receive timestamp (SO_TIMESTAMPNS). On loopback that is when the server wrote them,
  so it does not include the time this single Python process needs to get round to each of
  thousands of sockets.
- client (client_p50_ms/...): when this process had read and parsed the event; at 10k streams
  this is dominated by the client's own event loop. The gap between the two is client overhead.

Memory: kb_per_conn = (server VmRSS with all streams open - VmRSS before) / streams. The
allocator keeps memory freed by an earlier run, so measure each size against a freshly started
server (e.g. `--conns 10000` alone) when the memory figure matters. The server needs an
open-file limit above the stream count (`ulimit -n`); a warning is printed otherwise.

Python 3 standard library only; non-blocking sockets driven by the asyncio loop's reader
callbacks (no task per stream) to keep per-event work small.
"""
import argparse
import asyncio
import json
import math
import os
import resource
import socket
import struct
import sys
import time
import urllib.parse
import urllib.request

# Linux values; the socket module does not export them. Old (32/64-bit native) timespec layout.
SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)
SCM_TIMESTAMPNS = getattr(socket, "SCM_TIMESTAMPNS", SO_TIMESTAMPNS)
TIMESPEC = struct.Struct("@ll")

BATCH = 500
CONNECT_TIMEOUT = 30.0
DELIVERY_TIMEOUT = 30.0
PAUSE = 0.3
EVENT_KIND = b"ticket.comment"


def rss_kb(pid):
    """Resident set size of `pid` in KiB (VmRSS)."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def cpu_ms(pid):
    """User + system CPU time of `pid` in ms."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")


def nofile_limit(pid):
    """Soft open-file limit of `pid`, or None when unknown/unlimited."""
    try:
        with open(f"/proc/{pid}/limits") as f:
            for line in f:
                if line.startswith("Max open files"):
                    v = line.split()[3]
                    return int(v) if v.isdigit() else None
    except OSError:
        pass
    return None


def self_cpu_ms():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return (r.ru_utime + r.ru_stime) * 1000


def raise_nofile(need):
    """Raises this process's open-file soft limit to `need` (capped by the hard limit)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = need if hard == resource.RLIM_INFINITY else min(need, hard)
    if soft != resource.RLIM_INFINITY and soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def pct(sorted_vals, p):
    if not sorted_vals:
        return None
    # Nearest rank.
    i = min(len(sorted_vals), max(1, math.ceil(p / 100 * len(sorted_vals)))) - 1
    return sorted_vals[i]


class Round:
    """One staff reply being waited for."""

    __slots__ = ("id", "nonce", "object_id", "t0", "kernel", "user", "expected", "done")

    def __init__(self, rid, nonce, ticket_number, expected, done):
        self.id = rid
        self.nonce = nonce
        self.object_id = b'"object_id":"%d"' % ticket_number
        self.t0 = 0
        self.kernel = []
        self.user = []
        self.expected = expected
        self.done = done

    def hit(self, kts, uts):
        self.kernel.append(kts - self.t0 if kts else None)
        self.user.append(uts - self.t0)
        if len(self.user) >= self.expected and not self.done.done():
            self.done.set_result(None)


class Bench:
    """Shared state of all streams."""

    def __init__(self):
        self.round = None
        self.alive = 0
        self.errors = 0
        self.error_kinds = {}
        self.strays = 0  # events delivered to streams outside the reply's audience

    def error(self, what):
        self.errors += 1
        self.error_kinds[what] = self.error_kinds.get(what, 0) + 1


class Stream:
    """One SSE connection: a small state machine fed by the loop's reader callback."""

    __slots__ = ("b", "loop", "sock", "fd", "raw", "headers_done", "chunked", "cstate",
                 "cleft", "sse", "greeted", "ready", "last_round", "dead", "target")

    def __init__(self, bench, loop, sock, target=True):
        self.b = bench
        self.target = target
        self.loop = loop
        self.sock = sock
        self.fd = sock.fileno()
        self.raw = b""
        self.headers_done = False
        self.chunked = False
        self.cstate = 0  # 0: chunk size line, 1: chunk data, 2: CRLF after data
        self.cleft = 0
        self.sse = b""
        self.greeted = False
        self.ready = loop.create_future()
        self.last_round = -1
        self.dead = False

    def fail(self, what):
        if self.dead:
            return
        self.dead = True
        self.b.error(what)
        if self.greeted and self.target:
            self.b.alive -= 1
        self.close()
        if not self.ready.done():
            self.ready.set_result(False)

    def close(self):
        self.dead = True
        try:
            self.loop.remove_reader(self.fd)
        except Exception:
            pass
        self.sock.close()

    def on_read(self):
        try:
            data, anc, _, _ = self.sock.recvmsg(65536, 64)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as e:
            self.fail(f"recv: {e.strerror or e}")
            return
        if not data:
            self.fail("closed by server")
            return
        kts = 0
        for level, typ, cd in anc:
            if level == socket.SOL_SOCKET and typ == SCM_TIMESTAMPNS and len(cd) >= TIMESPEC.size:
                s, ns = TIMESPEC.unpack_from(cd)
                kts = s * 1_000_000_000 + ns
        raw = self.raw + data if self.raw else data
        if not self.headers_done:
            i = raw.find(b"\r\n\r\n")
            if i < 0:
                self.raw = raw
                return
            head = raw[:i].decode("latin-1").split("\r\n")
            raw = raw[i + 4:]
            parts = head[0].split(" ", 2)
            hdrs = {}
            for line in head[1:]:
                k, _, v = line.partition(":")
                hdrs[k.strip().lower()] = v.strip().lower()
            if len(parts) < 2 or parts[1] != "200":
                self.fail(f"status {parts[1] if len(parts) > 1 else '?'}")
                return
            if not hdrs.get("content-type", "").startswith("text/event-stream"):
                self.fail("not text/event-stream")
                return
            self.chunked = "chunked" in hdrs.get("transfer-encoding", "")
            self.headers_done = True
        if self.chunked:
            body = []
            while raw:
                if self.cstate == 0:
                    i = raw.find(b"\r\n")
                    if i < 0:
                        break
                    size = int(raw[:i].split(b";", 1)[0], 16)
                    raw = raw[i + 2:]
                    if size == 0:
                        self.fail("stream ended")
                        return
                    self.cleft = size
                    self.cstate = 1
                elif self.cstate == 1:
                    take = raw[:self.cleft]
                    body.append(take)
                    raw = raw[len(take):]
                    self.cleft -= len(take)
                    if self.cleft == 0:
                        self.cstate = 2
                        self.cleft = 2
                else:
                    n = min(self.cleft, len(raw))
                    raw = raw[n:]
                    self.cleft -= n
                    if self.cleft == 0:
                        self.cstate = 0
            self.raw = raw
            payload = b"".join(body)
        else:
            self.raw = b""
            payload = raw
        if not payload:
            return
        sse = self.sse + payload if self.sse else payload
        if b"\n\n" not in sse:
            self.sse = sse
            return
        blocks = sse.split(b"\n\n")
        self.sse = blocks.pop()
        for block in blocks:
            self.on_block(block, kts)

    def on_block(self, block, kts):
        if block.startswith(b":"):
            if not self.greeted and block.startswith(b": connected"):
                self.greeted = True
                if self.target:
                    self.b.alive += 1
                if not self.ready.done():
                    self.ready.set_result(True)
            return  # keep-alive comment
        r = self.b.round
        if r is None or r.id == self.last_round or r.nonce not in block:
            return
        kind = b""
        for line in block.split(b"\n"):
            if line.startswith(b"event:"):
                kind = line[6:].strip()
                break
        if kind == EVENT_KIND and r.object_id in block:
            self.last_round = r.id
            if self.target:
                r.hit(kts, time.time_ns())
            else:
                self.b.strays += 1


async def open_stream(bench, loop, addr, request, target=True):
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setblocking(False)
    try:
        sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
    except OSError:
        pass
    s = Stream(bench, loop, sock, target)
    try:
        await loop.sock_connect(sock, addr)
        await loop.sock_sendall(sock, request)
    except OSError as e:
        s.fail(f"connect: {e.strerror or e}")
        return s
    loop.add_reader(s.fd, s.on_read)
    try:
        await asyncio.wait_for(asyncio.shield(s.ready), CONNECT_TIMEOUT)
    except asyncio.TimeoutError:
        s.fail("timeout waiting for ': connected'")
    return s


async def post_reply(addr, host, path, staff_cookie, staff_csrf, body):
    """POSTs one staff reply on its own connection; returns (status, ms)."""
    data = json.dumps({"body": body, "internal": False}).encode()
    req = (f"POST {path} HTTP/1.1\r\nHost: {host}\r\nCookie: {staff_cookie}\r\n"
           f"X-CSRF-Token: {staff_csrf}\r\nContent-Type: application/json\r\n"
           f"Accept: application/json\r\nContent-Length: {len(data)}\r\n"
           f"Connection: close\r\n\r\n").encode() + data
    t = time.perf_counter()
    reader, writer = await asyncio.open_connection(*addr)
    try:
        writer.write(req)
        await writer.drain()
        resp = await reader.read()
    finally:
        writer.close()
    line = resp.split(b"\r\n", 1)[0].split()
    status = int(line[1]) if len(line) > 1 else 0
    if status != 201:
        print(f"  reply POST -> {resp[:300]!r}", file=sys.stderr)
    return status, (time.perf_counter() - t) * 1000


async def _measure(base_url, user_cookie, staff_cookie, staff_csrf, ticket_number, conns,
                   server_pid, replies, others=()):
    loop = asyncio.get_running_loop()
    u = urllib.parse.urlsplit(base_url)
    host = u.netloc
    addr = (socket.gethostbyname(u.hostname), u.port or 80)
    have = raise_nofile(conns + 256)
    if have < conns + 32:
        print(f"warning: this process may open only {have} files", file=sys.stderr)
    srv_limit = nofile_limit(server_pid)
    if srv_limit is not None and srv_limit < conns + 64:
        print(f"warning: the server's open-file limit is {srv_limit}; streams beyond it will "
              f"wait or fail (raise it with `ulimit -n` before starting the server)",
              file=sys.stderr)
    bench = Bench()
    request = (f"GET /api/v1/events HTTP/1.1\r\nHost: {host}\r\nCookie: {user_cookie}\r\n"
               f"Accept: text/event-stream\r\nCache-Control: no-cache\r\n\r\n").encode()

    # `others`: (cookie, streams) of sessions outside the reply's audience (the spread case).
    plan = [(request, True)] * conns
    for cookie, n in others:
        req = (f"GET /api/v1/events HTTP/1.1\r\nHost: {host}\r\nCookie: {cookie}\r\n"
               f"Accept: text/event-stream\r\nCache-Control: no-cache\r\n\r\n").encode()
        plan += [(req, False)] * n
    rss_before = rss_kb(server_pid)
    t_conn = time.perf_counter()
    streams = []
    for start in range(0, len(plan), BATCH):
        streams += await asyncio.gather(*(open_stream(bench, loop, addr, rq, tg)
                                          for rq, tg in plan[start:start + BATCH]))
    connect_s = time.perf_counter() - t_conn
    connected = sum(1 for s in streams if s.greeted and not s.dead)
    total = len(plan)
    await asyncio.sleep(1.0)  # let the server settle before sampling its memory
    rss_connected = rss_kb(server_pid)

    kernel, user, posts = [], [], []
    missed = 0
    run = f"{os.getpid():x}{int(time.time()) & 0xffffff:x}"
    path = f"/api/v1/admin/tickets/{ticket_number}/comments"
    srv_cpu0, cli_cpu0 = cpu_ms(server_pid), self_cpu_ms()
    t_phase = time.perf_counter()
    for i in range(replies if connected else 0):
        nonce = f"ssebench-{run}-{i}"
        r = Round(i, nonce.encode(), ticket_number, bench.alive, loop.create_future())
        bench.round = r
        body = f"Load test reply {i + 1} of {replies} ({nonce})."
        r.t0 = time.time_ns()
        post = asyncio.ensure_future(
            post_reply(addr, host, path, staff_cookie, staff_csrf, body))
        try:
            await asyncio.wait_for(asyncio.shield(r.done), DELIVERY_TIMEOUT)
        except asyncio.TimeoutError:
            pass
        try:
            status, ms = await asyncio.wait_for(post, DELIVERY_TIMEOUT)
            posts.append(ms)
            if status != 201:
                bench.error(f"reply POST status {status}")
        except Exception as e:  # noqa: BLE001 - counted, reported
            bench.error(f"reply POST: {e!r}")
        bench.round = None
        missed += max(0, r.expected - len(r.user))
        user += r.user
        kernel += r.kernel
        await asyncio.sleep(PAUSE)
    phase_s = time.perf_counter() - t_phase
    srv_cpu = cpu_ms(server_pid) - srv_cpu0
    cli_cpu = self_cpu_ms() - cli_cpu0

    for s in streams:
        if not s.dead:
            s.close()

    have_kernel = bool(kernel) and all(k is not None for k in kernel)
    user_ms = sorted(v / 1e6 for v in user)
    deliv_ms = sorted(v / 1e6 for v in kernel) if have_kernel else user_ms
    n = max(1, replies)
    return {
        "conns": conns,
        "connected": connected,
        "connect_s": round(connect_s, 2),
        "rss_before_kb": rss_before,
        "rss_connected_kb": rss_connected,
        "streams_total": total,
        "kb_per_conn": round((rss_connected - rss_before) / connected, 2) if connected else None,
        "p50_ms": _r(pct(deliv_ms, 50)),
        "p99_ms": _r(pct(deliv_ms, 99)),
        "max_ms": _r(deliv_ms[-1] if deliv_ms else None),
        "latency_source": "kernel receive timestamp" if have_kernel else "client read time",
        "client_p50_ms": _r(pct(user_ms, 50)),
        "client_p99_ms": _r(pct(user_ms, 99)),
        "client_max_ms": _r(user_ms[-1] if user_ms else None),
        "post_p50_ms": _r(pct(sorted(posts), 50)),
        "deliveries": len(user),
        "missed": missed,
        "strays": bench.strays,
        "errors": bench.errors,
        "error_kinds": bench.error_kinds,
        "server_cpu_ms_per_reply": round(srv_cpu / n, 1),
        "client_cpu_ms_per_reply": round(cli_cpu / n, 1),
        "reply_phase_s": round(phase_s, 2),
    }


def _r(v):
    return None if v is None else round(v, 2)


def measure(base_url: str, user_cookie: str, staff_cookie: str, staff_csrf: str,
            ticket_number: int, conns: int, server_pid: int, replies: int = 20,
            others=()) -> dict:
    """Opens `conns` SSE streams as the user (plus, for each `(cookie, n)` in `others`, n
    streams of a session outside the reply's audience), posts `replies` staff replies on the
    ticket and returns connection counts, server RSS per stream, delivery latencies on the
    user's streams and `strays`, deliveries to the other streams (see module doc)."""
    return asyncio.run(_measure(base_url, user_cookie, staff_cookie, staff_csrf,
                                int(ticket_number), int(conns), int(server_pid), int(replies),
                                others))


# --- CLI -------------------------------------------------------------------------------------

def http(method, url, body=None, headers=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    if data is not None:
        req.add_header("content-type", "application/json")
    with urllib.request.urlopen(req, timeout=30) as r:
        return r.status, r.headers, r.read()


def login(base, tenant, email, password, audience):
    """Returns (cookie `name=value`, csrf token)."""
    _, headers, body = http("POST", f"{base}/api/v1/auth/login?tenant={tenant}",
                            {"email": email, "password": password, "audience": audience})
    cookie = (headers.get("set-cookie") or "").split(";")[0]
    return cookie, json.loads(body)["csrf_token"]


def find_server_pid(base):
    """The pid of the process listening on the base URL's port (from /proc/net/tcp)."""
    port = urllib.parse.urlsplit(base).port or 80
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                next(f)
                for line in f:
                    p = line.split()
                    if p[3] == "0A" and int(p[1].rsplit(":", 1)[1], 16) == port:
                        inodes.add(p[9])
        except OSError:
            pass
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            for fd in os.listdir(f"/proc/{pid}/fd"):
                link = os.readlink(f"/proc/{pid}/fd/{fd}")
                if link.startswith("socket:[") and link[8:-1] in inodes:
                    return int(pid)
        except OSError:
            continue
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--base", required=True, help="e.g. http://127.0.0.1:8111")
    ap.add_argument("--tenant", default="acme")
    ap.add_argument("--user", default="alice@globex.example", help="client user (portal)")
    ap.add_argument("--staff", default="staff@acme.example", help="staff user (admin)")
    ap.add_argument("--password", default="portico-demo")
    ap.add_argument("--ticket", type=int, help="ticket number (default: first the user sees)")
    ap.add_argument("--conns", default="1000,10000", help="comma-separated stream counts")
    ap.add_argument("--replies", type=int, default=20)
    ap.add_argument("--pid", type=int, help="server pid (default: found from the port)")
    ap.add_argument("--settle", type=float, default=20.0,
                    help="seconds to wait between runs so the server drops closed streams")
    ap.add_argument("--json", action="store_true", help="also print each result as JSON")
    a = ap.parse_args()
    base = a.base.rstrip("/")

    pid = a.pid or find_server_pid(base)
    if not pid:
        sys.exit("cannot find the server process; pass --pid")
    user_cookie, _ = login(base, a.tenant, a.user, a.password, "portal")
    staff_cookie, staff_csrf = login(base, a.tenant, a.staff, a.password, "admin")
    ticket = a.ticket
    if ticket is None:
        _, _, body = http("GET", f"{base}/api/v1/tickets?status=all&limit=1",
                          headers={"Cookie": user_cookie})
        items = json.loads(body).get("items") or []
        if not items:
            sys.exit(f"{a.user} sees no ticket; pass --ticket")
        ticket = items[0]["number"]
    sizes = [int(x) for x in a.conns.split(",") if x.strip()]
    print(f"server pid {pid}, ticket #{ticket}, user {a.user}, staff {a.staff}, "
          f"{a.replies} replies per run, event '{EVENT_KIND.decode()}'", flush=True)

    rows = []
    for k, n in enumerate(sizes):
        if k:
            time.sleep(a.settle)
        res = measure(base, user_cookie, staff_cookie, staff_csrf, ticket, n, pid, a.replies)
        rows.append(res)
        if a.json:
            print(json.dumps(res), flush=True)
        else:
            print(f"  {n} streams done: {res['connected']} connected, "
                  f"p50 {res['p50_ms']} ms, p99 {res['p99_ms']} ms", flush=True)

    cols = [("conns", "conns"), ("connected", "connected"), ("kb_per_conn", "KiB/conn"),
            ("rss_before_kb", "RSS before KiB"), ("rss_connected_kb", "RSS conn. KiB"),
            ("p50_ms", "p50 ms"), ("p99_ms", "p99 ms"), ("max_ms", "max ms"),
            ("client_p50_ms", "client p50"), ("client_p99_ms", "client p99"),
            ("missed", "missed"), ("errors", "errors"),
            ("server_cpu_ms_per_reply", "srv CPU ms/reply"),
            ("client_cpu_ms_per_reply", "cli CPU ms/reply")]
    print()
    print("| " + " | ".join(h for _, h in cols) + " |")
    print("|" + "|".join("---:" for _ in cols) + "|")
    for r in rows:
        print("| " + " | ".join("" if r[k] is None else str(r[k]) for k, _ in cols) + " |")
    print(f"\np50/p99/max: t0 (before the POST) to the event's bytes reaching the client socket "
          f"({rows[0]['latency_source'] if rows else ''}); client p50/p99: to this process "
          f"having parsed it.")
    for r in rows:
        if r["error_kinds"]:
            print(f"errors at {r['conns']}: {r['error_kinds']}")


if __name__ == "__main__":
    main()
