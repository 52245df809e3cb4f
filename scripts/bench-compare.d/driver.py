#!/usr/bin/env python3
"""The driver of scripts/bench-compare (which builds the binaries and exports the paths).

For each size: runs the scenarios against the bare responder (the HTTP stack's ceiling),
against scim-server on each backend (a fresh database seeded through the store by
`seed`), and against scim2-server (Python, in memory, seeded over HTTP, size capped);
prints one table per size and backend. Everything listens on 127.0.0.1 only, every loop is
bounded in time and count, and every process and database is removed on exit.
"""

import argparse
import http.client
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
COMMON_LUA = os.path.join(REPO, "scripts", "bench-http.d", "common.lua")
HTTP_LUA = os.path.join(REPO, "scripts", "bench-http.d")
CLK = os.sysconf("SC_CLK_TCK")
# The last SPARE seeded users are in no group: F adds and removes them (8 slots of 50, or
# 400 single members), and the concurrent PATCHes add 300 of them to an empty group.
SPARE = 400
CONCURRENT = 300
USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
PATCH_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp"

procs = []  # every process we started, killed on exit
pg_dbs = []  # every PostgreSQL database we created, dropped on exit
work = tempfile.mkdtemp(prefix="bench-compare-")


def log(msg):
    print(f"bench-compare: {msg}", file=sys.stderr, flush=True)


def cleanup():
    for p in procs:
        if p.poll() is None:
            p.terminate()
    for p in procs:
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
    procs.clear()
    admin = os.environ.get("SCIM_TEST_DATABASE_URL")
    for db in pg_dbs:
        subprocess.run(["psql", admin, "-qAtX", "-c", f"DROP DATABASE IF EXISTS {db}"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    pg_dbs.clear()
    shutil.rmtree(work, ignore_errors=True)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime (fields 14, 15)


def memory(pid):
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(("VmHWM", "VmRSS")):
                k, v = line.split(":")
                out[k] = int(v.split()[0]) // 1024
    return out


def settle(pid, pg_url=None, limit=180):
    """Waits (at most `limit` s) until the server has finished the work wrk left in flight:
    its CPU is quiet and, on PostgreSQL, no statement of its database is running. A slow
    PATCH keeps running after wrk has stopped; without this the next scenario would queue
    behind it."""
    deadline = time.time() + limit
    while time.time() < deadline:
        t0 = cpu_ticks(pid)
        time.sleep(0.5)
        busy = cpu_ticks(pid) - t0 > 0.05 * 0.5 * CLK
        if not busy and pg_url:
            q = ("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                 "AND state = 'active' AND pid <> pg_backend_pid()")
            r = subprocess.run(["psql", pg_url, "-qAtX", "-c", q], capture_output=True, text=True)
            busy = r.stdout.strip() not in ("0", "")
        if not busy:
            return
    log(f"the server (pid {pid}) was still busy after {limit} s; going on")


def wait_ready(proc, port, path, logfile, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            break
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            c.request("GET", path)
            c.getresponse().read()
            return
        except OSError:
            time.sleep(0.1)
    with open(logfile) as f:
        sys.exit(f"bench-compare: the server on port {port} did not start:\n{f.read()[-3000:]}")


def start(cmd, env, port, ready_path, name):
    logfile = os.path.join(work, f"{name}.log")
    out = open(logfile, "w")
    p = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT)
    procs.append(p)
    wait_ready(p, port, ready_path, logfile)
    return p


def stop(p):
    if p.poll() is None:
        p.terminate()
        try:
            p.wait(timeout=15)
        except subprocess.TimeoutExpired:
            p.kill()
    if p in procs:
        procs.remove(p)


class Client:
    """One keep-alive HTTP/1.1 connection to a loopback server."""

    def __init__(self, port, token, timeout=120):
        self.port, self.timeout = port, timeout
        self.headers = {"Authorization": f"Bearer {token}", "Accept": "application/scim+json"}
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)

    def call(self, method, path, body=None):
        headers = dict(self.headers)
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/scim+json"
        for attempt in range(2):
            try:
                self.conn.request(method, path, body=data, headers=headers)
                r = self.conn.getresponse()
                raw = r.read()
                return r.status, (json.loads(raw) if raw else None)
            except (http.client.HTTPException, ConnectionError):
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
                if attempt:
                    raise


def wrk(system, port, base_path, token, data_dir, lua, scenario, duration, n_users, pid,
        extra_env=None, check_body=False, timeout="30s"):
    env = dict(os.environ)
    env.update({
        "BENCH_COMMON_LUA": COMMON_LUA, "BENCH_LUA_DIR": HTTP_LUA,
        "BENCH_BASE_PATH": base_path, "BENCH_TOKEN": token, "BENCH_DATA_DIR": data_dir,
        "BENCH_USERS": str(max(1, n_users)), "BENCH_SCENARIO": scenario,
        "BENCH_RUN": secrets.token_hex(4), "BENCH_CHECK_BODY": "1" if check_body else "0",
    })
    env.update(extra_env or {})
    t0 = cpu_ticks(pid)
    r = subprocess.run(["wrk", "-t1", "-c16", f"-d{duration}", "--timeout", timeout, "--latency",
                        "-s", lua, f"http://127.0.0.1:{port}"],
                       env=env, capture_output=True, text=True)
    t1 = cpu_ticks(pid)
    line = next((l for l in r.stdout.splitlines() if l.startswith("BENCH ")), None)
    if line is None:
        log(f"[{system}] {scenario}: wrk printed no result:\n{r.stdout}\n{r.stderr}")
        return {"scenario": scenario, "failed": True}
    v = dict(kv.split("=", 1) for kv in line.split()[1:])
    res = {k: v[k] for k in ("scenario", "codes")}
    for k in ("requests", "unexpected", "s5xx", "socket_errors"):
        res[k] = int(v[k])
    for k in ("rps", "p50_ms", "p90_ms", "p99_ms", "max_ms"):
        res[k] = float(v[k])
    res["cpu_us"] = (t1 - t0) * 1e6 / CLK / max(1, res["requests"])
    bad = res["unexpected"] + res["socket_errors"]
    if bad:
        log(f"!!!!! [{system}] {scenario}: {res['unexpected']} unexpected responses "
            f"(codes {res['codes']}), {res['socket_errors']} socket errors !!!!!")
    log(f"[{system}] {scenario}: {res['rps']:.0f} req/s, p50 {res['p50_ms']:.1f} ms, "
        f"p99 {res['p99_ms']:.1f} ms, {res['cpu_us']:.0f} µs CPU/req, {bad} failures")
    return res


def walk(port, base_path, token, cursor, limit_s):
    """A full in-order import (count=100), sequential on one connection."""
    c = Client(port, token)
    t0 = time.time()
    pages = seen = 0
    start, cur = 1, ""
    total = None
    while True:
        if cursor:
            q = "cursor=" + urllib.parse.quote(cur) + "&count=100"
        else:
            q = f"startIndex={start}&count=100"
        status, page = c.call("GET", f"{base_path}/Users?{q}")
        if status != 200:
            return {"error": f"HTTP {status} at page {pages + 1}: {json.dumps(page)[:200]}"}
        pages += 1
        res = page.get("Resources", [])
        seen += len(res)
        total = page.get("totalResults", total)
        if cursor:
            if pages == 1 and "nextCursor" not in page and total and total > len(res):
                return {"skipped": "the server returned no nextCursor (no RFC 9865 cursor paging yet)"}
            cur = page.get("nextCursor")
            done = not cur
        else:
            start += len(res)
            done = not res or start > (total or 0)
        elapsed = time.time() - t0
        if done:
            return {"pages": pages, "users": seen, "seconds": elapsed, "total": total}
        if elapsed > limit_s:
            return {"pages": pages, "users": seen, "seconds": elapsed, "total": total,
                    "unfinished": True}


def sequential_patches(port, base_path, token, group_id, member_ids, reps=3):
    """One membership PATCH at a time (add len(member_ids), then remove them), `reps` times:
    the latency of one PATCH on an otherwise idle server, in ms, with the statuses."""
    c = Client(port, token, timeout=300)
    vals = [{"value": m} for m in member_ids]
    out = {"add_ms": [], "remove_ms": [], "codes": {}}
    for _ in range(reps):
        for op in ("add", "remove"):
            body = {"schemas": [PATCH_SCHEMA], "Operations": [{"op": op, "path": "members", "value": vals}]}
            t0 = time.time()
            status, _ = c.call("PATCH", f"{base_path}/Groups/{group_id}", body)
            out[f"{op}_ms"].append(round((time.time() - t0) * 1000, 1))
            out["codes"][status] = out["codes"].get(status, 0) + 1
    return out


def concurrent_patches(port, base_path, token, group_id, member_ids):
    """CONCURRENT single-member adds to one group at once; returns codes and the final count."""
    codes = {}
    lock = threading.Lock()
    barrier = threading.Barrier(len(member_ids))

    def one(mid):
        c = Client(port, token, timeout=300)
        body = {"schemas": [PATCH_SCHEMA],
                "Operations": [{"op": "add", "path": "members", "value": [{"value": mid}]}]}
        try:
            barrier.wait(timeout=60)
            status, _ = c.call("PATCH", f"{base_path}/Groups/{group_id}", body)
        except Exception as e:  # a socket error is a result here, not a crash
            status = type(e).__name__
        with lock:
            codes[status] = codes.get(status, 0) + 1

    t0 = time.time()
    threads = [threading.Thread(target=one, args=(m,)) for m in member_ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=600)
    elapsed = time.time() - t0
    status, group = Client(port, token).call("GET", f"{base_path}/Groups/{group_id}")
    landed = len(group.get("members", [])) if status == 200 else None
    return {"codes": codes, "landed": landed, "sent": len(member_ids), "seconds": elapsed}


def seed_scim2(port, token, start_i, end_i, ids_out, parallel=8):
    """POSTs users start_i..end_i to scim2-server with `parallel` keep-alive clients."""
    errors = []
    lock = threading.Lock()

    def worker(k):
        c = Client(port, token)
        for i in range(start_i + k, end_i, parallel):
            u = f"user{i}@example.com"
            body = {"schemas": [USER_SCHEMA], "userName": u,
                    "name": {"givenName": "Ada", "familyName": f"U{i}"},
                    "displayName": f"Ada U{i}", "externalId": f"00u{i:017x}",
                    "emails": [{"primary": True, "value": u, "type": "work"}], "active": True}
            status, r = c.call("POST", "/Users", body)
            with lock:
                if status == 201:
                    ids_out.append(r["id"])
                else:
                    errors.append(status)

    ts = [threading.Thread(target=worker, args=(k,)) for k in range(parallel)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return errors


def fmt_rps(r):
    if not r or r.get("failed"):
        return "—"
    return f"{r['rps']:.1f}" if r["rps"] < 10 else f"{r['rps']:,.0f}".replace(",", " ")


def failures(r):
    if not r or r.get("failed"):
        return "wrk failed"
    bad = r["unexpected"] + r["socket_errors"]
    return "0" if bad == 0 else f"**{bad}** ({r['codes'].rstrip(',')})"


def pct(a, b):
    """a's req/s as a percentage of b's (ours of the bare responder's)."""
    if not a or not b or a.get("failed") or b.get("failed") or not b["rps"]:
        return ""
    v = 100 * a["rps"] / b["rps"]
    return f" ({v:.2f} %)" if v < 0.1 else f" ({v:.1f} %)" if v < 10 else f" ({v:.0f} %)"


def ratio(a, b):
    if not a or not b or a.get("failed") or b.get("failed") or not b["rps"]:
        return ""
    return f" ({a['rps'] / b['rps']:.2f}×)" if a["rps"] / b["rps"] < 10 else f" ({a['rps'] / b['rps']:.0f}×)"


def main():
    ap = argparse.ArgumentParser(prog="scripts/bench-compare")
    ap.add_argument("--sizes", default="1000,100000,1000000")
    ap.add_argument("--duration", default="10s")
    ap.add_argument("--backends", default="sqlite,postgres")
    ap.add_argument("--systems", default="ours,bare,scim2-server")
    ap.add_argument("--walk-limit", type=float, default=600,
                    help="seconds after which an import walk stops (reported as unfinished)")
    ap.add_argument("--scim2-max", type=int, default=100000)
    ap.add_argument("--results", help="directory for the JSON results and server logs")
    ap.add_argument("--table-from", help="only print the tables of an earlier results.json")
    ap.add_argument("--request-log", choices=["on", "off"], default="on",
                    help="the server's request log (SCIM_REQUEST_LOG); on is the server's default")
    ap.add_argument("--scenarios", default="",
                    help="only these wrk scenarios of ours (e.g. A,B,C); skips the sequential, "
                         "concurrent and walk measurements")
    a = ap.parse_args()
    os.environ["SCIM_REQUEST_LOG"] = a.request_log
    ONLY.update(x for x in a.scenarios.split(",") if x)
    if a.table_from:
        olds = []
        for path in a.table_from.split(","):
            with open(path) as f:
                olds.append(json.load(f))
        names = [b for b in ("sqlite", "postgres") if any(b in r for r in olds[0]["runs"].values())]
        if len(olds) == 1:
            print_tables(olds[0], None, names)
        else:
            print_combined(olds, names)
        return 0
    sizes = sorted(int(s) for s in a.sizes.split(",") if s)
    backends = [b for b in a.backends.split(",") if b]
    systems = set(s for s in a.systems.split(",") if s)
    bin_dir = os.environ["BENCH_BIN_DIR"]
    server_bin = os.path.join(bin_dir, "scim-server")
    results = {"sizes": sizes, "duration": a.duration, "runs": {}}

    bare = None
    if "bare" in systems:
        port = free_port()
        p = start([os.path.join(bin_dir, "bare-responder"), "--bind", f"127.0.0.1:{port}"],
                  dict(os.environ), port, "/", "bare")
        bare = {"proc": p, "port": port, "dir": os.path.join(work, "bare")}
        os.makedirs(bare["dir"])
        with open(os.path.join(bare["dir"], "ids.txt"), "w") as f:
            f.write("6f1c2a9e4b7d4e0f9a3b8c5d2e1f0a7b\n")
        log(f"bare-responder pid {p.pid} on 127.0.0.1:{port}")

    scim2 = None
    if "scim2-server" in systems:
        exe = os.environ.get("BENCH_SCIM2")
        if not exe:
            log("scim2-server is not installed (pip could not install it): skipping it")
        else:
            port = free_port()
            token = secrets.token_hex(16)
            p = start([exe, "--hostname", "127.0.0.1", "--port", str(port), "--bearer-token", token],
                      dict(os.environ), port, "/ServiceProviderConfig", "scim2")
            scim2 = {"proc": p, "port": port, "token": token, "ids": [], "n": 0,
                     "dir": os.path.join(work, "scim2")}
            os.makedirs(scim2["dir"])
            log(f"scim2-server pid {p.pid} on 127.0.0.1:{port}")

    d = a.duration
    for n in sizes:
        run = results["runs"].setdefault(str(n), {})
        # --- the bare responder: the same requests, any answer is the fixed user --------
        if bare:
            r = run.setdefault("bare", {})
            for key, lua, env in [("A", "lookup.lua", {}), ("B", "get-user.lua", {}),
                                  ("C", "patch-active.lua", {}), ("E-random", "page-users.lua", {})]:
                path = os.path.join(HTTP_LUA if lua in ("get-user.lua", "patch-active.lua", "page-users.lua") else HERE, lua)
                r[key] = wrk("bare", bare["port"], "/scim/v2/bare", "x", bare["dir"], path, key, d,
                             n, bare["proc"].pid, env)
            r["memory"] = memory(bare["proc"].pid)

        # --- scim2-server: seeded over HTTP up to the cap ------------------------------
        if scim2:
            m = min(n, a.scim2_max)
            if m > scim2["n"]:
                t0 = time.time()
                errs = seed_scim2(scim2["port"], scim2["token"], scim2["n"], m, scim2["ids"])
                dt = time.time() - t0
                log(f"[scim2-server] seeded users {scim2['n']}..{m} in {dt:.1f} s "
                    f"({(m - scim2['n']) / dt:.0f} creates/s, {len(errs)} errors)")
                scim2["n"] = m
                with open(os.path.join(scim2["dir"], "ids.txt"), "w") as f:
                    f.write("\n".join(scim2["ids"][:: max(1, len(scim2["ids"]) // 100000)]) + "\n")
            r = run.setdefault("scim2", {"users": scim2["n"]})
            for key, lua, env in [("A", os.path.join(HERE, "lookup.lua"), {}),
                                  ("B", os.path.join(HTTP_LUA, "get-user.lua"), {}),
                                  ("E-random", os.path.join(HTTP_LUA, "page-users.lua"), {}),
                                  ("E-first", os.path.join(HERE, "page-at.lua"), {"BENCH_START": "1"}),
                                  ("E-last", os.path.join(HERE, "page-at.lua"),
                                   {"BENCH_START": str(max(1, scim2["n"] - 99))})]:
                r[key] = wrk("scim2", scim2["port"], "", scim2["token"], scim2["dir"], lua, key, d,
                             scim2["n"], scim2["proc"].pid, env, check_body=(key == "A"), timeout="60s")
            r["memory"] = memory(scim2["proc"].pid)

        # --- ours, per backend ---------------------------------------------------------
        if "ours" in systems:
            for backend in backends:
                run[backend] = run_ours(server_bin, bin_dir, backend, n, d, a.walk_limit)

    if bare:
        stop(bare["proc"])
    if scim2:
        stop(scim2["proc"])
    results["request_log"] = a.request_log
    if a.results:
        os.makedirs(a.results, exist_ok=True)
        with open(os.path.join(a.results, "results.json"), "w") as f:
            json.dump(results, f, indent=1)
    print_tables(results, systems, backends)
    if a.results:
        for name in os.listdir(work):
            if name.endswith(".log"):
                shutil.copy(os.path.join(work, name), a.results)
    bad = any(isinstance(x, dict) and (x.get("failed") or x.get("unexpected") or x.get("socket_errors"))
              for run in results["runs"].values() for sysres in run.values() if isinstance(sysres, dict)
              for x in sysres.values())
    return 1 if bad else 0


# The wrk scenarios of ours to run (empty: all, and the sequential, concurrent and walk
# measurements too).
ONLY = set()


def run_ours(server_bin, bin_dir, backend, n, d, walk_limit):
    tag = f"ours-{backend}-{n}"
    data = os.path.join(work, tag)
    os.makedirs(data)
    env = dict(os.environ)
    env.pop("SCIM_TOKEN_SIGNING_KEY", None)
    if backend == "sqlite":
        url = f"sqlite://{data}/scim.db"
    else:
        admin = os.environ.get("SCIM_TEST_DATABASE_URL")
        if not admin:
            sys.exit("bench-compare: no PostgreSQL (SCIM_TEST_DATABASE_URL is not set)")
        db = f"scim_bench_{secrets.token_hex(4)}"
        subprocess.run(["psql", admin, "-qAtX", "-v", "ON_ERROR_STOP=1", "-c", f"CREATE DATABASE {db}"],
                       check=True, stdout=subprocess.DEVNULL)
        pg_dbs.append(db)
        url = admin.rsplit("/", 1)[0] + "/" + db
    env["SCIM_DATABASE_URL"] = url
    if n < SPARE + 100:
        sys.exit(f"bench-compare: sizes must be at least {SPARE + 100}")
    members = [min(1000, n - SPARE)] + ([min(100000, n - SPARE)] if n >= 100000 else [])
    groups = 3  # group 0: 1 000 members, group 1: 100 000 (when N allows), group 2: empty
    t0 = time.time()
    seed = subprocess.run([os.path.join(bin_dir, "seed"), "--users", str(n), "--tail", str(SPARE),
                           "--groups", str(groups), "--group-members", ",".join(map(str, members)),
                           "--tenant-name", f"Bench {n}", "--out", data],
                          env=env, capture_output=True, text=True)
    if seed.returncode != 0:
        sys.exit(f"bench-compare: seed failed:\n{seed.stderr}")
    s = json.loads(seed.stdout.strip().splitlines()[-1])
    log(f"[{tag}] seeded {s['users']} users in {s['user_seconds']:.1f} s = {s['users_per_second']:.0f} users/s; "
        f"everything (with groups of {s['group_members']} members) in {time.time() - t0:.1f} s")
    if backend == "postgres":
        subprocess.run(["psql", url, "-qAtX", "-c",
                        "ANALYZE users; ANALYZE user_emails; ANALYZE groups; ANALYZE group_members"],
                       check=True, stdout=subprocess.DEVNULL)
    port = free_port()
    env.update({"SCIM_BIND": f"127.0.0.1:{port}", "SCIM_PUBLIC_URL": f"http://127.0.0.1:{port}",
                "SCIM_LOG_LEVEL": env.get("SCIM_LOG_LEVEL", "warn"),
                # One tenant at full speed is what is measured: no per-tenant rate limit.
                "SCIM_RATE_LIMIT_PER_TENANT": env.get("SCIM_RATE_LIMIT_PER_TENANT", "0")})
    p = start([server_bin, "serve"], env, port, "/healthz", tag)
    base = f"/scim/v2/{s['tenant_id']}"
    tok = s["token"]
    res = {"seed": {k: s[k] for k in ("users", "user_seconds", "users_per_second", "total_seconds",
                                      "group_members")}}
    scen = [("A", os.path.join(HERE, "lookup.lua"), {}),
            ("B", os.path.join(HTTP_LUA, "get-user.lua"), {}),
            ("C", os.path.join(HTTP_LUA, "patch-active.lua"), {}),
            ("E-random", os.path.join(HTTP_LUA, "page-users.lua"), {}),
            ("E-first", os.path.join(HERE, "page-at.lua"), {"BENCH_START": "1"}),
            ("E-last", os.path.join(HERE, "page-at.lua"), {"BENCH_START": str(max(1, n - 99))})]
    gids = s["group_ids"]
    for gi, m in enumerate(s["group_members"][:2]):
        if m == 0:
            continue
        for batch in (1, 50):
            scen.append((f"F{batch}@{m}", os.path.join(HERE, "patch-members.lua"),
                         {"BENCH_GROUP_ID": gids[gi], "BENCH_BATCH": str(batch)}))
    pg_url = url if backend == "postgres" else None
    if ONLY:
        scen = [x for x in scen if x[0] in ONLY]
    for key, lua, extra in scen:
        settle(p.pid, pg_url)
        res[key] = wrk(tag, port, base, tok, data, lua, key, d, n, p.pid, extra, check_body=(key == "A"))
        if p.poll() is not None:
            log(f"!!!!! [{tag}] the server died during {key} !!!!!")
            break
    res["memory_after_load"] = memory(p.pid)
    if ONLY:
        res["memory"] = memory(p.pid)
        stop(p)
        return res
    with open(os.path.join(data, "tail_ids.txt")) as f:
        spare = f.read().split()
    for gi, m in enumerate(s["group_members"][:2]):
        for batch in (1, 50) if m else ():
            settle(p.pid, pg_url)
            key = f"Fseq{batch}@{m}"
            res[key] = sequential_patches(port, base, tok, gids[gi], spare[-batch:])
            log(f"[{tag}] {key}: {json.dumps(res[key])}")
    settle(p.pid, pg_url)
    res["F-concurrent"] = concurrent_patches(port, base, tok, gids[2], spare[:CONCURRENT])
    fc = res["F-concurrent"]
    loud = "" if fc["landed"] == fc["sent"] else "!!!!! "
    log(f"{loud}[{tag}] {fc['sent']} concurrent single-member PATCHes: codes {fc['codes']}, "
        f"{fc['landed']} members landed, {fc['seconds']:.1f} s")
    for cursor in (False, True):
        settle(p.pid, pg_url)
        key = "walk-cursor" if cursor else "walk-index"
        res[key] = w = walk(port, base, tok, cursor, walk_limit)
        log(f"[{tag}] {key}: {json.dumps(w)}")
    res["memory"] = memory(p.pid)
    stop(p)
    return res


def print_combined(olds, backends):
    """One table per size and backend with the runs' figures side by side ("run 1 / run 2")."""
    def j(vals):
        return " / ".join(vals)

    for n in olds[0]["runs"]:
        for backend in backends:
            runs = [o["runs"].get(n, {}) for o in olds]
            if not all(backend in r for r in runs):
                continue
            print(f"#### {int(n):,}".replace(",", " ") + f" users, {backend}: runs {j(str(i + 1) for i in range(len(runs)))}")
            print()
            print("| scenario | bare req/s | ours req/s | ours % of bare | ours p99 ms | ours server CPU µs/req | ours failures | scim2-server req/s | ours ÷ scim2 |")
            print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
            keys = [k for k in runs[0][backend] if k[:1] in "ABCEF" and k != "F-concurrent" and not k.startswith("Fseq")]
            for k in keys:
                cells = {c: [] for c in ("b", "o", "pct", "p99", "cpu", "fail", "s", "rs")}
                for r in runs:
                    o = r[backend].get(k)
                    bare = r.get("bare", {})
                    b = bare.get(k) or bare.get("E-random" if k.startswith("E") else "C")
                    s2 = r.get("scim2", {}).get(k)
                    ok = o and not o.get("failed")
                    cells["b"].append(fmt_rps(b))
                    cells["o"].append(fmt_rps(o))
                    cells["pct"].append(pct(o, b).strip(" ()") or "—")
                    cells["p99"].append(f"{o['p99_ms']:.0f}" if ok else "—")
                    cells["cpu"].append(f"{o['cpu_us']:.0f}" if ok else "—")
                    cells["fail"].append(failures(o) if o else "—")
                    cells["s"].append(fmt_rps(s2) if s2 else "—")
                    cells["rs"].append(ratio(o, s2).strip(" ()") or "—" if s2 else "—")
                print(f"| {k} | " + " | ".join(j(cells[c]) for c in cells) + " |")
            print()
            for i, r in enumerate(runs):
                o = r[backend]
                sd = o.get("seed", {})
                extra = []
                if sd:
                    extra.append(f"seeded {sd['users']} users at {sd['users_per_second']:.0f}/s, groups of {sd['group_members']}")
                fc = o.get("F-concurrent")
                if fc:
                    extra.append(f"300 concurrent member adds: {fc['landed']} landed, statuses {fc['codes']}")
                for k in [k for k in o if k.startswith("Fseq")]:
                    extra.append(f"one {k[3:]} PATCH at a time: add {o[k]['add_ms']} ms, remove {o[k]['remove_ms']} ms")
                w = o.get("walk-index")
                if w and "pages" in w:
                    extra.append(f"index walk {w['users']} users in {w['seconds']:.1f} s" + (" (unfinished)" if w.get("unfinished") else ""))
                wc = o.get("walk-cursor")
                if wc and "skipped" in wc:
                    extra.append("cursor walk skipped (no nextCursor)")
                elif wc and "pages" in wc:
                    extra.append(f"cursor walk {wc['users']} users in {wc['seconds']:.1f} s")
                m = o.get("memory", {})
                if m:
                    extra.append(f"ours VmHWM {m.get('VmHWM')} MB")
                s2m = r.get("scim2", {}).get("memory")
                if s2m:
                    extra.append(f"scim2-server ({r['scim2']['users']} users) VmHWM {s2m.get('VmHWM')} MB")
                print(f"- run {i + 1}: " + "; ".join(extra))
            print()


def print_tables(results, systems, backends):
    d = results["duration"]
    print()
    for n, run in results["runs"].items():
        bare = run.get("bare", {})
        scim2 = run.get("scim2", {})
        for backend in backends:
            ours = run.get(backend)
            if ours is None and not bare:
                continue
            ours = ours or {}
            print(f"### {int(n):,}".replace(",", " ") + f" users, {backend} (wrk -t1 -c16 -d{d})")
            if "seed" in ours:
                sd = ours["seed"]
                print(f"seeded through the store: {sd['users']} users in {sd['user_seconds']:.1f} s "
                      f"({sd['users_per_second']:.0f} users/s); groups of {sd['group_members']} members")
            s2n = f" (scim2-server holds {scim2['users']} users)" if scim2 and scim2.get("users") != int(n) else ""
            print(s2n)
            print()
            print("| scenario | bare req/s | ours req/s (% of bare) | ours p50 / p99 ms | ours server CPU µs/req | ours failures | scim2-server req/s (ours ÷ scim2) |")
            print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
            keys = ["A", "B", "C", "E-random", "E-first", "E-last"] + [k for k in ours if k.startswith("F") and k != "F-concurrent" and not k.startswith("Fseq")]
            for k in keys:
                o, b, s = ours.get(k), bare.get(k), scim2.get(k)
                # The bare responder answers every request alike: its random-page and PATCH
                # figures stand for the other pages and the membership PATCHes.
                b = b or bare.get("E-random" if k.startswith("E") else "C")
                if not (o or b or s):
                    continue
                lat = f"{o['p50_ms']:.1f} / {o['p99_ms']:.1f}" if o and not o.get("failed") else ""
                cpu = f"{o['cpu_us']:.0f}" if o and not o.get("failed") else ""
                print(f"| {k} | {fmt_rps(b)} | {fmt_rps(o)}{pct(o, b)} | {lat} | {cpu} | "
                      f"{failures(o) if o else ''} | {fmt_rps(s)}{ratio(o, s)} |")
            print()
            if "F-concurrent" in ours:
                fc = ours["F-concurrent"]
                flag = "" if fc["landed"] == fc["sent"] else " **NOT ALL LANDED**"
                print(f"- F concurrent: {fc['sent']} single-member PATCHes at once to one group: codes "
                      f"{fc['codes']}, {fc['landed']} members landed{flag}, {fc['seconds']:.1f} s")
            for k in [k for k in ours if k.startswith("Fseq")]:
                q = ours[k]
                batch, m = k[4:].split("@")
                print(f"- F one PATCH at a time, group of {m} members: add {batch}: {q['add_ms']} ms, "
                      f"remove them: {q['remove_ms']} ms (statuses {q['codes']})")
            for k in ("walk-index", "walk-cursor"):
                w = ours.get(k)
                if not w:
                    continue
                if "skipped" in w:
                    print(f"- import walk ({k[5:]}): skipped: {w['skipped']}")
                elif "error" in w:
                    print(f"- import walk ({k[5:]}): **failed**: {w['error']}")
                else:
                    unf = " **unfinished (time limit)**" if w.get("unfinished") else ""
                    print(f"- import walk ({k[5:]}, count=100): {w['users']} users in {w['pages']} pages, "
                          f"{w['seconds']:.1f} s{unf}")
            mem = []
            if "memory" in ours:
                mem.append(f"ours VmHWM {ours['memory'].get('VmHWM')} MB, VmRSS {ours['memory'].get('VmRSS')} MB "
                           f"(after the wrk runs: {ours['memory_after_load'].get('VmRSS')} MB)")
            if bare.get("memory"):
                mem.append(f"bare VmHWM {bare['memory'].get('VmHWM')} MB")
            if scim2.get("memory"):
                mem.append(f"scim2-server VmHWM {scim2['memory'].get('VmHWM')} MB")
            if mem:
                print("- memory: " + "; ".join(mem))
            print()


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    signal.signal(signal.SIGINT, lambda *_: sys.exit(130))
    try:
        status = main()
    finally:
        cleanup()
    sys.exit(status)
