"""Milvus Lite at scale (issue 25, point 4): a Milvus Lite server with 100k and 1M synthetic chunks.

For each size a fresh data directory is used. A Milvus Lite server is started as a subprocess
(``.venv/bin/milvus-lite server --data-dir DIR --port PORT`` on a free port) and driven over gRPC with
``pymilvus.MilvusClient(uri="http://127.0.0.1:PORT")``. The collection has the shape of the project's
chunks collection:

    id INT64 (primary key, no auto_id), article_id VARCHAR(512), language VARCHAR(16), start INT64,
    end INT64, n_tokens INT64, text VARCHAR(65535) (~300 synthetic characters), vector FLOAT_VECTOR(384)

with a FLAT / IP index. Vectors are random normal, L2-normalised float32 (fixed seed), made and inserted
in batches; 10 % of the rows have language "de". Per size it measures:

    insert     seconds spent in ``client.insert`` (the server flushes by itself every 128 MB of
               MemTable, so this includes most of the flushing), and the wall time of the phase
    flush      ``client.flush`` seconds; then "settle": seconds until the server's background
               compaction + per-segment index build stop using CPU
    dense      top-10 search latency p50/p95 over --queries random unit queries (after a warm-up)
    filtered   the same with filter 'language == "de"'
    get        fetch 30 rows by primary key with output_fields text and vector, p50/p95
    memory     server RSS (VmRSS) after each phase and its peak (VmHWM); the client's RSS and peak
    disk       size of the data directory, number of segment (parquet) files
    restart    stop (SIGINT, graceful), start until the port accepts, load_collection, first search
    ann        optionally (--ann HNSW or IVF_FLAT): the FLAT index is dropped, the ANN index is
               created and loaded (build seconds), then dense and filtered p50/p95 and recall@10
               against the FLAT results of the same queries (random data is a hard case for ANN)

Before the next size the server peak is extrapolated linearly (above the empty server's RSS); if it
would pass --max-rss-gb the run stops there. A plain-text table is printed at the end and all numbers
go to --out as JSON.

    nice -n 10 .venv/bin/python bench/milvus_scale.py [--sizes 100000 1000000] [--batch 10000]
        [--ann HNSW] [--out /tmp/milvus-bench/results.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from pymilvus import DataType, MilvusClient, MilvusException

ROOT = Path(__file__).resolve().parent.parent
SERVER_BIN = ROOT / ".venv" / "bin" / "milvus-lite"
COLLECTION = "chunks"
DIM = 384
LIMIT = 10
GET_IDS = 30
DE_SHARE = 0.10
CHUNKS_PER_ARTICLE = 8
GB = 1024**3
KEEPALIVE_MS = 3_600_000
MB = 1024**2
WORDS = (
    "the of and to in a that for on with as by at from its their new more than after over "
    "government officials cooperation trade growth market leaders summit talks investment "
    "industry policy companies exports imports workers plan deal agreement year week region "
    "country economy support bilateral strategic global local public private sector minister "
    "said announced agreed noted stressed reported confirmed warned added Seoul Rome Busan Milan"
).split()


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


# ── process and disk probes ──────────────────────────────────────────────────────────────────


def proc_mem(pid: int | str) -> dict[str, int]:
    """VmRSS and VmHWM (peak) of a process in bytes, from /proc/PID/status."""
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(("VmRSS:", "VmHWM:")):
                key, value = line.split(":")
                out[key] = int(value.split()[0]) * 1024
    return {"rss": out.get("VmRSS", 0), "hwm": out.get("VmHWM", 0)}


def proc_cpu_seconds(pid: int) -> float:
    """utime + stime of a process (its threads included) in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def dir_size(path: Path) -> tuple[int, int]:
    """Total bytes of the files under path, and how many segment (data_*.parquet) files it holds."""
    total = segments = 0
    for dirpath, _dirs, files in os.walk(path):
        for name in files:
            try:
                total += os.path.getsize(os.path.join(dirpath, name))
            except OSError:
                continue
            if name.startswith("data_") and name.endswith(".parquet"):
                segments += 1
    return total, segments


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentiles(seconds: list[float]) -> dict[str, float]:
    ms = np.asarray(seconds) * 1000
    return {
        "p50_ms": float(np.percentile(ms, 50)),
        "p95_ms": float(np.percentile(ms, 95)),
        "mean_ms": float(ms.mean()),
        "max_ms": float(ms.max()),
        "n": int(ms.size),
    }


# ── the server ───────────────────────────────────────────────────────────────────────────────


class Server:
    """A ``milvus-lite server`` subprocess on a free port."""

    def __init__(self, data_dir: Path, log_path: Path) -> None:
        self.data_dir = data_dir
        self.log_path = log_path
        self.port = 0
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 300.0) -> float:
        """Start the server; return the seconds until its port accepts connections."""
        self.port = free_port()
        cmd = [str(SERVER_BIN), "server", "--data-dir", str(self.data_dir)]
        cmd += ["--host", "127.0.0.1", "--port", str(self.port)]
        t0 = time.perf_counter()
        with open(self.log_path, "a") as logf:
            logf.write(f"\n=== {time.strftime('%H:%M:%S')} {' '.join(cmd)}\n")
            logf.flush()
            self.proc = subprocess.Popen(cmd, stdout=logf, stderr=subprocess.STDOUT)
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"milvus-lite server exited with {self.proc.returncode}, see {self.log_path}"
                )
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return time.perf_counter() - t0
            except OSError:
                if time.perf_counter() - t0 > timeout:
                    raise RuntimeError(f"server port {self.port} not open after {timeout} s") from None
                time.sleep(0.05)

    def stop(self, timeout: float = 120.0) -> float:
        """Stop gracefully (SIGINT: the server drains requests and closes the db); return the seconds."""
        assert self.proc is not None
        t0 = time.perf_counter()
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            log(f"server {self.proc.pid} did not stop after SIGINT in {timeout} s; killing it")
            self.proc.kill()
            self.proc.wait()
        self.proc = None
        return time.perf_counter() - t0

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def mem(self) -> dict[str, int]:
        return proc_mem(self.pid)

    def wait_idle(self, quiet: float = 3.0, cpu_share: float = 0.03, timeout: float = 3600.0) -> float:
        """Seconds until the server's CPU use stays below cpu_share of one core for `quiet` seconds.

        Background compaction and per-segment index builds run on a server thread after a flush
        or a load; this is how long they keep the server busy.
        """
        t0 = time.perf_counter()
        last_cpu, last_t = proc_cpu_seconds(self.pid), t0
        quiet_since = t0
        while True:
            time.sleep(0.5)
            now, cpu = time.perf_counter(), proc_cpu_seconds(self.pid)
            if (cpu - last_cpu) > cpu_share * (now - last_t):
                quiet_since = now
            last_cpu, last_t = cpu, now
            if now - quiet_since >= quiet:
                return quiet_since - t0
            if now - t0 > timeout:
                log(f"server still busy after {timeout} s; going on")
                return now - t0


# ── synthetic data ───────────────────────────────────────────────────────────────────────────


def unit_vectors(rng: np.random.Generator, n: int) -> np.ndarray:
    v = rng.standard_normal((n, DIM), dtype=np.float32)
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    return v


def make_rows(vec_rng: np.random.Generator, meta_rng: np.random.Generator, start: int, n: int) -> list[dict]:
    vectors = unit_vectors(vec_rng, n)
    de = meta_rng.random(n) < DE_SHARE
    n_tokens = meta_rng.integers(60, 400, size=n)
    word_ids = meta_rng.integers(0, len(WORDS), size=(n, 70))
    rows = []
    for i in range(n):
        pk = start + i
        article = pk // CHUNKS_PER_ARTICLE
        text = f"Chunk {pk} of article {article}. " + " ".join(WORDS[w] for w in word_ids[i])
        text = text[:300].rsplit(" ", 1)[0] + "."
        offset = (pk % CHUNKS_PER_ARTICLE) * 1400
        rows.append(
            {
                "id": pk,
                "article_id": f"articles/{article // 1000:04d}/article-{article:07d}.md",
                "language": "de" if de[i] else "en",
                "start": offset,
                "end": offset + len(text),
                "n_tokens": int(n_tokens[i]),
                "text": text,
                "vector": vectors[i],
            }
        )
    return rows


def connect(port: int) -> MilvusClient:
    """A client for the server on `port`.

    pymilvus pings every 10 s by default; during a long call (an HNSW build inside create_index
    takes minutes) the server answers the pings with GOAWAY "too_many_pings", the call fails as
    UNAVAILABLE and pymilvus retries it, so the keepalive is set longer than a build.
    """
    return MilvusClient(uri=f"http://127.0.0.1:{port}", grpc_options={"grpc.keepalive_time_ms": KEEPALIVE_MS})


def create_collection(client: MilvusClient) -> None:
    schema = client.create_schema(auto_id=False, enable_dynamic_field=False)
    schema.add_field("id", DataType.INT64, is_primary=True)
    schema.add_field("article_id", DataType.VARCHAR, max_length=512)
    schema.add_field("language", DataType.VARCHAR, max_length=16)
    schema.add_field("start", DataType.INT64)
    schema.add_field("end", DataType.INT64)
    schema.add_field("n_tokens", DataType.INT64)
    schema.add_field("text", DataType.VARCHAR, max_length=65535)
    schema.add_field("vector", DataType.FLOAT_VECTOR, dim=DIM)
    index_params = client.prepare_index_params()
    index_params.add_index("vector", index_type="FLAT", metric_type="IP")
    client.create_collection(COLLECTION, schema=schema, index_params=index_params)


# ── measurements ─────────────────────────────────────────────────────────────────────────────

DE_FILTER = 'language == "de"'


def timed_searches(
    client: MilvusClient,
    queries: np.ndarray,
    warmup: int,
    flt: str | None = None,
    params: dict | None = None,
) -> tuple[dict, list[list[int]]]:
    """Top-10 searches, one query per call; the first `warmup` queries are not timed."""
    search_params = {"metric_type": "IP", "params": params or {}}
    fields = ["article_id", "language"]
    times, ids = [], []
    bad_language = 0
    for k, q in enumerate(queries):
        t0 = time.perf_counter()
        res = client.search(
            COLLECTION,
            data=[q.tolist()],
            limit=LIMIT,
            filter=flt or "",
            output_fields=fields,
            search_params=search_params,
        )
        dt = time.perf_counter() - t0
        hits = res[0]
        if flt:
            bad_language += sum(1 for h in hits if h["entity"]["language"] != "de")
        if k >= warmup:
            times.append(dt)
            ids.append([int(h["id"]) for h in hits])
    stats = percentiles(times)
    stats["short_results"] = sum(1 for r in ids if len(r) < LIMIT)
    if flt:
        stats["hits_not_de"] = bad_language
    return stats, ids


def timed_gets(client: MilvusClient, rng: np.random.Generator, size: int, calls: int, warmup: int) -> dict:
    times = []
    missing = 0
    for k in range(calls + warmup):
        ids = rng.choice(size, size=GET_IDS, replace=False).tolist()
        t0 = time.perf_counter()
        rows = client.get(COLLECTION, ids=ids, output_fields=["text", "vector"])
        dt = time.perf_counter() - t0
        if k >= warmup:
            times.append(dt)
            missing += GET_IDS - len(rows)
            if rows and len(rows[0]["vector"]) != DIM:
                raise RuntimeError(f"get returned a vector of length {len(rows[0]['vector'])}")
    stats = percentiles(times)
    stats["missing_rows"] = missing
    return stats


def recall(ann: list[list[int]], exact: list[list[int]]) -> float:
    hits = sum(len(set(a) & set(e)) for a, e in zip(ann, exact, strict=True))
    total = sum(len(e) for e in exact)
    return hits / total if total else float("nan")


def client_mem() -> dict[str, int]:
    return proc_mem("self")


def run_size(size: int, args: argparse.Namespace, queries: np.ndarray) -> dict:
    data_dir = Path(args.data_root) / f"n{size}"
    shutil.rmtree(data_dir, ignore_errors=True)
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    server = Server(data_dir, Path(args.data_root) / f"server-n{size}.log")
    r: dict = {"size": size, "batch": args.batch}
    mem: dict[str, dict[str, int]] = {}
    r["server_memory"] = mem
    peaks = []

    r["start_s"] = server.start()
    client = connect(server.port)
    time.sleep(1.0)
    mem["empty"] = server.mem()
    log(f"n={size}: server pid {server.pid} on port {server.port}, RSS {mem['empty']['rss'] / MB:.0f} MB")
    create_collection(client)

    # insert
    vec_rng = np.random.default_rng(args.seed)
    meta_rng = np.random.default_rng(args.seed + 1)
    insert_s = gen_s = 0.0
    batch_times = []
    t_phase = time.perf_counter()
    for start in range(0, size, args.batch):
        n = min(args.batch, size - start)
        t0 = time.perf_counter()
        rows = make_rows(vec_rng, meta_rng, start, n)
        t1 = time.perf_counter()
        res = client.insert(COLLECTION, rows)
        t2 = time.perf_counter()
        if res["insert_count"] != n:
            raise RuntimeError(f"insert returned {res['insert_count']} for {n} rows")
        del rows
        gen_s += t1 - t0
        insert_s += t2 - t1
        batch_times.append(t2 - t1)
        done = start + n
        if done % (args.batch * 10) == 0 or done == size:
            m = server.mem()
            log(
                f"n={size}: inserted {done:,} rows, insert {insert_s:.1f} s (last batch {t2 - t1:.2f} s), "
                f"server RSS {m['rss'] / GB:.2f} GB peak {m['hwm'] / GB:.2f} GB"
            )
    r["insert_s"] = insert_s
    r["insert_wall_s"] = time.perf_counter() - t_phase
    r["datagen_s"] = gen_s
    r["insert_rows_per_s"] = size / insert_s
    r["insert_batch_s"] = {
        "p50": float(np.median(batch_times)),
        "max": float(np.max(batch_times)),
        "first": batch_times[0],
        "last": batch_times[-1],
    }
    mem["after_insert"] = server.mem()

    t0 = time.perf_counter()
    client.flush(COLLECTION)
    r["flush_s"] = time.perf_counter() - t0
    r["settle_after_flush_s"] = server.wait_idle()
    mem["after_flush"] = server.mem()
    r["row_count"] = int(client.get_collection_stats(COLLECTION)["row_count"])
    disk, segs = dir_size(data_dir)
    r["disk_bytes"], r["segments"] = disk, segs
    log(
        f"n={size}: flush {r['flush_s']:.2f} s, settle {r['settle_after_flush_s']:.1f} s, "
        f"rows {r['row_count']:,}, {segs} segments, disk {disk / MB:.0f} MB, "
        f"RSS {mem['after_flush']['rss'] / GB:.2f} GB"
    )

    # FLAT searches and gets
    w = args.warmup
    r["dense"], flat_ids = timed_searches(client, queries, w)
    log(f"n={size}: dense FLAT p50 {r['dense']['p50_ms']:.0f} ms p95 {r['dense']['p95_ms']:.0f} ms")
    r["filtered"], flat_de_ids = timed_searches(client, queries, w, flt=DE_FILTER)
    log(f"n={size}: filtered FLAT p50 {r['filtered']['p50_ms']:.0f} ms p95 {r['filtered']['p95_ms']:.0f} ms")
    r["get"] = timed_gets(client, np.random.default_rng(args.seed + 3), size, len(queries) - w, w)
    log(f"n={size}: get 30 p50 {r['get']['p50_ms']:.1f} ms p95 {r['get']['p95_ms']:.1f} ms")
    mem["after_queries"] = server.mem()
    peaks.append(mem["after_queries"]["hwm"])

    # restart
    client.close()
    rs: dict = {"stop_s": server.stop()}
    rs["start_s"] = server.start()
    t0 = time.perf_counter()
    client = connect(server.port)
    rs["connect_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    client.load_collection(COLLECTION)
    rs["load_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    first = client.search(COLLECTION, data=[queries[w].tolist()], limit=LIMIT, output_fields=["article_id"])
    rs["first_search_s"] = time.perf_counter() - t0
    rs["first_search_same_as_before"] = [int(h["id"]) for h in first[0]] == flat_ids[0]
    rs["total_s"] = rs["stop_s"] + rs["start_s"] + rs["connect_s"] + rs["load_s"] + rs["first_search_s"]
    r["restart"] = rs
    mem["after_restart"] = server.mem()
    log(
        f"n={size}: restart: stop {rs['stop_s']:.2f} s, start {rs['start_s']:.2f} s, "
        f"load {rs['load_s']:.2f} s, first search {rs['first_search_s']:.2f} s, "
        f"RSS {mem['after_restart']['rss'] / GB:.2f} GB"
    )
    r["restart_settle_s"] = server.wait_idle()
    mem["after_restart_settled"] = server.mem()

    # one ANN index
    if args.ann != "none":
        a: dict = {"index_type": args.ann, "build_params": args.ann_params, "search_params": args.ann_search}
        client.release_collection(COLLECTION)
        a["load_state_after_release"] = str(client.get_load_state(COLLECTION).get("state"))
        for name in client.list_indexes(COLLECTION):
            client.drop_index(COLLECTION, name)
        index_params = client.prepare_index_params()
        index_params.add_index("vector", index_type=args.ann, metric_type="IP", params=args.ann_params)
        t0 = time.perf_counter()
        try:
            client.create_index(COLLECTION, index_params)
        except MilvusException as e:
            # a retried call (after a dropped connection) finds the index the first call built
            if "already exists" not in str(e):
                raise
            a["create_index_retried"] = str(e)
            log(f"n={size}: create_index was retried and found the index built: {e}")
        a["create_index_s"] = time.perf_counter() - t0
        a["index_after_create"] = client.describe_index(COLLECTION, "vector").get("index_type")
        t0 = time.perf_counter()
        client.load_collection(COLLECTION, timeout=None)
        a["load_s"] = time.perf_counter() - t0
        # Lite builds the index inside create_index when the collection is still loaded, else in load
        a["load_build_s"] = a["create_index_s"] + a["load_s"]
        a["settle_s"] = server.wait_idle()
        mem["ann_loaded"] = server.mem()
        disk, _ = dir_size(data_dir)
        a["disk_bytes"] = disk
        log(
            f"n={size}: {args.ann} build (load) {a['load_build_s']:.1f} s, RSS "
            f"{mem['ann_loaded']['rss'] / GB:.2f} GB, disk {disk / MB:.0f} MB"
        )
        a["dense"], ann_ids = timed_searches(client, queries, w, params=args.ann_search)
        a["dense"]["recall_at_10_vs_flat"] = recall(ann_ids, flat_ids)
        a["filtered"], ann_de_ids = timed_searches(client, queries, w, flt=DE_FILTER, params=args.ann_search)
        a["filtered"]["recall_at_10_vs_flat"] = recall(ann_de_ids, flat_de_ids)
        log(
            f"n={size}: {args.ann} dense p50 {a['dense']['p50_ms']:.0f} ms recall "
            f"{a['dense']['recall_at_10_vs_flat']:.3f}; filtered p50 {a['filtered']['p50_ms']:.0f} ms "
            f"recall {a['filtered']['recall_at_10_vs_flat']:.3f}"
        )
        mem["ann_after_queries"] = server.mem()
        r["ann"] = a

    peaks.append(server.mem()["hwm"])
    client.close()
    r["final_stop_s"] = server.stop()
    r["server_peak_bytes"] = max(peaks)
    r["client_memory"] = client_mem()
    if not args.keep_data:
        shutil.rmtree(data_dir, ignore_errors=True)
    return r


# ── report ───────────────────────────────────────────────────────────────────────────────────


def fmt_table(results: list[dict], ann: str) -> str:
    def gb(b: int) -> str:
        return f"{b / GB:.2f} GB"

    def pp(d: dict) -> str:
        return f"{d['p50_ms']:.1f} / {d['p95_ms']:.1f}"

    rows: list[tuple[str, ...]] = [
        ("rows", *(f"{r['row_count']:,}" for r in results)),
        ("insert s (client.insert total)", *(f"{r['insert_s']:.1f}" for r in results)),
        ("insert rows/s", *(f"{r['insert_rows_per_s']:,.0f}" for r in results)),
        ("flush s", *(f"{r['flush_s']:.2f}" for r in results)),
        ("bg compaction+index after flush s", *(f"{r['settle_after_flush_s']:.1f}" for r in results)),
        ("segments (parquet files)", *(str(r["segments"]) for r in results)),
        ("dense FLAT top-10 p50/p95 ms", *(pp(r["dense"]) for r in results)),
        ('filtered FLAT (language=="de") p50/p95 ms', *(pp(r["filtered"]) for r in results)),
        ("get 30 ids (text+vector) p50/p95 ms", *(pp(r["get"]) for r in results)),
        ("server RSS empty", *(gb(r["server_memory"]["empty"]["rss"]) for r in results)),
        ("server RSS after insert", *(gb(r["server_memory"]["after_insert"]["rss"]) for r in results)),
        ("server RSS after flush+settle", *(gb(r["server_memory"]["after_flush"]["rss"]) for r in results)),
        ("server RSS after queries", *(gb(r["server_memory"]["after_queries"]["rss"]) for r in results)),
        (
            "server peak (VmHWM), first process",
            *(gb(r["server_memory"]["after_queries"]["hwm"]) for r in results),
        ),
        ("disk (data dir, FLAT)", *(f"{r['disk_bytes'] / MB:,.0f} MB" for r in results)),
        ("restart: stop s", *(f"{r['restart']['stop_s']:.2f}" for r in results)),
        ("restart: start (port open) s", *(f"{r['restart']['start_s']:.2f}" for r in results)),
        ("restart: load_collection s", *(f"{r['restart']['load_s']:.2f}" for r in results)),
        ("restart: first search s", *(f"{r['restart']['first_search_s']:.2f}" for r in results)),
        ("restart: total s", *(f"{r['restart']['total_s']:.2f}" for r in results)),
        (
            "server RSS after restart+search",
            *(gb(r["server_memory"]["after_restart"]["rss"]) for r in results),
        ),
    ]
    if ann != "none" and all("ann" in r for r in results):
        rows += [
            (f"{ann}: build (create_index+load) s", *(f"{r['ann']['load_build_s']:.1f}" for r in results)),
            (f"{ann}: dense top-10 p50/p95 ms", *(pp(r["ann"]["dense"]) for r in results)),
            (
                f"{ann}: dense recall@10 vs FLAT",
                *(f"{r['ann']['dense']['recall_at_10_vs_flat']:.3f}" for r in results),
            ),
            (f"{ann}: filtered p50/p95 ms", *(pp(r["ann"]["filtered"]) for r in results)),
            (
                f"{ann}: filtered recall@10 vs FLAT",
                *(f"{r['ann']['filtered']['recall_at_10_vs_flat']:.3f}" for r in results),
            ),
            (f"{ann}: server RSS loaded", *(gb(r["server_memory"]["ann_loaded"]["rss"]) for r in results)),
            (f"{ann}: disk", *(f"{r['ann']['disk_bytes'] / MB:,.0f} MB" for r in results)),
        ]
    rows += [
        ("server peak (VmHWM), all processes", *(gb(r["server_peak_bytes"]) for r in results)),
        (
            "client RSS / peak",
            *(f"{gb(r['client_memory']['rss'])} / {gb(r['client_memory']['hwm'])}" for r in results),
        ),
        ("wall s for this size", *(f"{r['wall_s']:.0f}" for r in results)),
    ]
    header = ("metric", *(f"n={r['size']:,}" for r in results))
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(c.ljust(widths[i]) if i == 0 else c.rjust(widths[i]) for i, c in enumerate(row))
             for row in [header, *rows]]  # fmt: skip
    lines.insert(1, "-" * len(lines[0]))
    return "\n".join(lines)


def extrapolate_peak(results: list[dict], size: int) -> float:
    """Server peak RSS expected at `size`, linear in the row count.

    With one measured size the line goes through the empty server's RSS and that size's peak; with
    two or more, through the peaks of the last two sizes, so the per-batch transients (a decoded
    insert batch, a MemTable, a compaction) count as a constant instead of growing with the rows.
    """
    last = results[-1]
    if len(results) >= 2:
        prev = results[-2]
        x0, y0 = prev["size"], prev["server_peak_bytes"]
    else:
        x0, y0 = 0, last["server_memory"]["empty"]["rss"]
    x1, y1 = last["size"], last["server_peak_bytes"]
    return y1 + (y1 - y0) / (x1 - x0) * (size - x1)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument("--batch", type=int, default=10_000, help="rows per insert call")
    ap.add_argument("--queries", type=int, default=200, help="timed searches / gets per kind")
    ap.add_argument("--warmup", type=int, default=10)
    ap.add_argument("--seed", type=int, default=25)
    ap.add_argument("--ann", default="HNSW", choices=["HNSW", "IVF_FLAT", "none"])
    ap.add_argument("--ann-params", type=json.loads, default=None, help="JSON build params")
    ap.add_argument("--ann-search", type=json.loads, default=None, help="JSON search params")
    ap.add_argument(
        "--max-rss-gb", type=float, default=16.0, help="stop before a size whose extrapolated peak is above"
    )
    ap.add_argument("--data-root", default="/tmp/milvus-bench/data")
    ap.add_argument("--keep-data", action="store_true")
    ap.add_argument("--out", default="/tmp/milvus-bench/results.json")
    args = ap.parse_args()
    defaults = {
        "HNSW": ({"M": 16, "efConstruction": 200}, {"ef": 64}),
        "IVF_FLAT": ({"nlist": 128}, {"nprobe": 10}),
    }
    if args.ann != "none":
        build, search = defaults[args.ann]
        args.ann_params = args.ann_params if args.ann_params is not None else build
        args.ann_search = args.ann_search if args.ann_search is not None else search
    sizes = sorted(args.sizes)

    import milvus_lite
    import pymilvus

    env = {
        "python": sys.version.split()[0],
        "pymilvus": pymilvus.__version__,
        "milvus_lite": getattr(milvus_lite, "__version__", "?"),
        "numpy": np.__version__,
        "cpus": os.cpu_count(),
        "machine": platform.machine(),
        "nice": os.nice(0),
    }
    log(f"sizes {sizes}, batch {args.batch}, queries {args.queries} (+{args.warmup} warm-up), ann {args.ann}")
    log(f"env {env}")
    queries = unit_vectors(np.random.default_rng(args.seed + 2), args.queries + args.warmup)

    results: list[dict] = []
    stopped = None
    for k, size in enumerate(sizes):
        t0 = time.perf_counter()
        r = run_size(size, args, queries)
        r["wall_s"] = time.perf_counter() - t0
        results.append(r)
        log(f"n={size}: done in {r['wall_s']:.0f} s")
        out = {"env": env, "args": vars(args), "results": results, "stopped": stopped}
        Path(args.out).write_text(json.dumps(out, indent=2))
        if k + 1 < len(sizes):
            nxt = sizes[k + 1]
            predicted = extrapolate_peak(results, nxt)
            from_empty = extrapolate_peak(results[-1:], nxt)
            log(
                f"extrapolated server peak at n={nxt:,}: {predicted / GB:.1f} GB (line through the empty "
                f"server: {from_empty / GB:.1f} GB; limit {args.max_rss_gb} GB)"
            )
            r["extrapolated_peak_next_bytes"] = predicted
            if predicted > args.max_rss_gb * GB:
                stopped = (
                    f"not running n={nxt}: extrapolated server peak {predicted / GB:.1f} GB "
                    f"> {args.max_rss_gb} GB"
                )
                log(stopped)
                break

    out = {"env": env, "args": vars(args), "results": results, "stopped": stopped}
    Path(args.out).write_text(json.dumps(out, indent=2))
    print()
    print(fmt_table(results, args.ann))
    if stopped:
        print(stopped)
    print(f"\nJSON: {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
