#!/usr/bin/env python3
"""Upload memory benchmark: concurrent large uploads must stream, not buffer.

Builds the release binary (unless --no-build), starts `portico serve --demo` on a loopback port
with a temporary data directory, signs in once as a demo client, raises a ticket, then has
--clients clients upload a --size-mb MB text file each at the same time through
`POST /api/v1/tickets/{n}/attachments`, and afterwards download them all at once. The server's
resident memory is sampled from /proc/<pid>/status every 20 ms; the script prints the peak
VmRSS seen in each phase and the process's VmHWM (high-water mark of the whole run, sign-in
included) and exits non-zero when the highest of them passes --target-mb.

    python3 bench/upload_load.py                       # 8 clients x 50 MB, target 100 MB
    python3 bench/upload_load.py --no-build --clients 4 --size-mb 20
"""

import argparse
import hashlib
import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BOUNDARY = "portico-bench-boundary-7d1e"
CHUNK = 256 * 1024


def status_kb(pid, field):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


class Sampler(threading.Thread):
    """Samples the server's VmRSS; `peak()` is the largest value since the last `reset()`."""

    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid = pid
        self.lock = threading.Lock()
        self.max_kb = 0
        self.stop = threading.Event()

    def run(self):
        while not self.stop.is_set():
            kb = status_kb(self.pid, "VmRSS")
            with self.lock:
                self.max_kb = max(self.max_kb, kb)
            time.sleep(0.02)

    def reset(self):
        with self.lock:
            self.max_kb = status_kb(self.pid, "VmRSS")

    def peak(self):
        with self.lock:
            return self.max_kb


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def api(base, method, path, body=None, headers=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, method=method, headers=headers or {})
    if data is not None:
        req.add_header("content-type", "application/json")
    with urllib.request.urlopen(req, timeout=60) as r:
        return r.status, r.headers, r.read()


def text_block():
    """1 MiB of log-like UTF-8 text (repeated to make the file)."""
    line = "2024-05-01T12:00:00Z host-01 service[4242]: request served in 12 ms — ok\n".encode()
    block = line * (1024 * 1024 // len(line) + 1)
    return block[: 1024 * 1024]


def upload(port, path, cookie, csrf, name, size, block, results, i):
    head = (
        f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"attachments\"; "
        f"filename=\"{name}\"\r\nContent-Type: text/plain\r\n\r\n"
    ).encode()
    tail = f"\r\n--{BOUNDARY}--\r\n".encode()
    started = time.time()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    try:
        conn.putrequest("POST", path)
        conn.putheader("Cookie", cookie)
        conn.putheader("X-CSRF-Token", csrf)
        conn.putheader("Content-Type", f"multipart/form-data; boundary={BOUNDARY}")
        conn.putheader("Content-Length", str(len(head) + size + len(tail)))
        conn.endheaders()
        conn.send(head)
        sent = 0
        while sent < size:
            part = block[: min(len(block), size - sent)]
            for off in range(0, len(part), CHUNK):
                conn.send(part[off : off + CHUNK])
            sent += len(part)
        conn.send(tail)
        r = conn.getresponse()
        body = r.read()
        results[i] = (r.status, time.time() - started, body)
    except Exception as e:  # noqa: BLE001 - reported per client
        results[i] = (0, time.time() - started, str(e).encode())
    finally:
        conn.close()


def download(port, path, cookie, results, i):
    started = time.time()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    try:
        conn.request("GET", path, headers={"Cookie": cookie})
        r = conn.getresponse()
        h = hashlib.sha256()
        n = 0
        while True:
            b = r.read(CHUNK)
            if not b:
                break
            h.update(b)
            n += len(b)
        results[i] = (r.status, time.time() - started, n, h.hexdigest())
    except Exception as e:  # noqa: BLE001
        results[i] = (0, time.time() - started, 0, str(e))
    finally:
        conn.close()


def run_parallel(fn, argsets):
    results = [None] * len(argsets)
    threads = [threading.Thread(target=fn, args=(*a, results, i)) for i, a in enumerate(argsets)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--clients", type=int, default=8)
    p.add_argument("--size-mb", type=int, default=50)
    p.add_argument("--target-mb", type=float, default=100.0)
    p.add_argument("--bin", default=os.path.join(ROOT, "target", "release", "portico"))
    p.add_argument("--no-build", action="store_true")
    a = p.parse_args()

    if not a.no_build:
        subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
    data_dir = tempfile.mkdtemp(prefix="portico-upload-bench-")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = dict(os.environ)
    env.update({
        "PORTICO_DATA_DIR": data_dir,
        "PORTICO_LISTEN": f"127.0.0.1:{port}",
        "PORTICO_BASE_URL": base,
        "PORTICO_MAX_UPLOAD_MB": str(a.size_mb + 8),
        "RUST_LOG": "warn",
    })
    for k in ("PORTICO_DATABASE_URL", "PORTICO_STORAGE_URL"):
        env.pop(k, None)
    server = subprocess.Popen([a.bin, "serve", "--demo"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(300):
            try:
                if api(base, "GET", "/healthz")[0] == 200:
                    break
            except OSError:
                time.sleep(0.1)
        else:
            sys.exit("server did not start")
        idle_kb = status_kb(server.pid, "VmRSS")
        # One sign-in (Argon2 costs 19 MiB while it runs; it is not what this measures).
        _, h, body = api(base, "POST", "/api/v1/auth/login?tenant=acme",
                         {"email": "bob@globex.example", "password": "portico-demo",
                          "audience": "portal"})
        cookie = (h.get("set-cookie") or "").split(";")[0]
        csrf = json.loads(body)["csrf_token"]
        auth = {"Cookie": cookie, "X-CSRF-Token": csrf}
        _, _, body = api(base, "POST", "/api/v1/tickets",
                         {"subject": "Upload benchmark", "description": "Large logs",
                          "priority": "low", "category": "General"}, auth)
        number = json.loads(body)["number"]
        after_login_kb = status_kb(server.pid, "VmRSS")

        sampler = Sampler(server.pid)
        sampler.start()
        size = a.size_mb * 1024 * 1024
        block = text_block()
        sampler.reset()
        t0 = time.time()
        path = f"/api/v1/tickets/{number}/attachments"
        ups = run_parallel(upload, [(port, path, cookie, csrf, f"log{i}.txt", size, block)
                                    for i in range(a.clients)])
        up_secs = time.time() - t0
        up_peak = sampler.peak()
        bad = [(s, b[:200]) for s, _, b in ups if s != 201]
        if bad:
            sys.exit(f"uploads failed: {bad}")
        ticket = json.loads(api(base, "GET", f"/api/v1/tickets/{number}", headers=auth)[2])
        ids = [x["id"] for x in ticket["attachments"]]
        assert len(ids) == a.clients, ticket["attachments"]

        sampler.reset()
        t0 = time.time()
        downs = run_parallel(download, [(port, f"{path}/{i}", cookie) for i in ids])
        down_secs = time.time() - t0
        down_peak = sampler.peak()
        bad = [d for d in downs if d[0] != 200 or d[2] != size]
        if bad:
            sys.exit(f"downloads failed: {bad}")
        hwm_kb = status_kb(server.pid, "VmHWM")
        sampler.stop.set()

        mb = lambda kb: kb / 1024  # noqa: E731
        total_mb = a.clients * a.size_mb
        print(f"{a.clients} clients x {a.size_mb} MB ({total_mb} MB), local storage")
        print(f"  idle RSS                 {mb(idle_kb):7.1f} MB")
        print(f"  after sign-in            {mb(after_login_kb):7.1f} MB")
        print(f"  peak RSS while uploading {mb(up_peak):7.1f} MB   ({total_mb / up_secs:.0f} MB/s, {up_secs:.1f} s)")
        print(f"  peak RSS downloading     {mb(down_peak):7.1f} MB   ({total_mb / down_secs:.0f} MB/s, {down_secs:.1f} s)")
        print(f"  VmHWM (whole run)        {mb(hwm_kb):7.1f} MB")
        peak = max(up_peak, down_peak, hwm_kb)
        verdict = "OK" if mb(peak) < a.target_mb else "OVER"
        print(f"peak RSS {mb(peak):.1f} MB (target < {a.target_mb:.0f} MB): {verdict}")
        if verdict != "OK":
            sys.exit(1)
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
