"""Benchmark of indexing on Ray (`rag index --ray`) against the plain path, with no embedding cache.

On a corpus folder (default ../shared/bench/xquad-en/corpus, read where it is) it times, each in
its own process: (a) the plain path in one process: ``load_source``, sentences and chunks per
file, then ``embed_documents`` of every distinct chunk and sentence text; (b) ``RayExecutor`` on a
local Ray of 1 worker; (c) of 2 workers (``read``, then ``embed`` of the same texts). It prints
the stages' seconds, throughput, the load average of the machine around each run and the peak
memory of each process (the embedding actors of a Ray run separately).

    .venv/bin/python bench/ray_index.py [CORPUS] [--model multilingual-e5-small] [--workers 1 2]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "bench" / "xquad-en" / "corpus"
PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024


class ProcessMemory:
    """Peak resident memory (MB) of this process's descendants, by process title (Ray names its
    workers ``ray::...``), sampled from /proc every ``every`` seconds on a thread."""

    def __init__(self, every: float = 0.25) -> None:
        self.every, self.peaks = every, {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            self._sample()

    def _sample(self) -> None:
        parents: dict[int, int] = {}
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    stat = Path(f"/proc/{entry}/stat").read_text()
                    parents[int(entry)] = int(stat.rsplit(")", 1)[1].split()[1])
                except (OSError, ValueError, IndexError):
                    continue
        mine, grew = {os.getpid()}, True
        while grew:
            new = {pid for pid, ppid in parents.items() if ppid in mine and pid not in mine}
            mine |= new
            grew = bool(new)
        for pid in mine - {os.getpid()}:
            try:
                title = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0].decode(errors="replace")
                rss_mb = int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE_KB / 1024
            except (OSError, ValueError, IndexError):
                continue
            key = (pid, title)
            self.peaks[key] = max(self.peaks.get(key, 0.0), rss_mb)

    def stop(self) -> dict[str, float]:
        """Largest peak per kind of process: embedding actors, other Ray workers, Ray's daemons."""
        self._stop.set()
        self._thread.join()
        out: dict[str, float] = {}
        for (_pid, title), mb in self.peaks.items():
            kind = (
                "embed actor"
                if "_EmbedActor" in title
                else "ray worker"
                if title.startswith("ray::")
                else "other"
            )
            out[kind] = max(out.get(kind, 0.0), mb)
        return out


def texts_of(prepared: list) -> list[str]:
    """Distinct chunk texts, then distinct sentence texts, as an index build embeds them."""
    chunks = [c.text for p in prepared for cs in p.chunks.values() for c in cs]
    sentences = [s.text for p in prepared for ss in p.sentences.values() for s in ss]
    return list(dict.fromkeys(chunks + sentences))


def one_run(corpus: Path, model: str, workers: int) -> dict:
    """Runs in a child process: one run of the plain path (``workers`` 0) or of ``RayExecutor``."""
    sys.path.insert(0, str(ROOT))
    from rag.config import Settings
    from rag.index import ingest
    from rag.index.distributed import RayExecutor, prepare_source
    from rag.index.embed import load_embedder

    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(articles_dir=corpus, index_dir=Path(tmp) / "index", model=model)
        sources, _ = ingest.scan_folder(corpus)
        memory = ProcessMemory()
        t0 = time.perf_counter()
        if workers == 0:
            embedder = load_embedder(settings, questions=False)
            embedder.embed_documents(["warm-up"])  # loads torch and the model, as the actors do
            t1 = time.perf_counter()
            prepared = [prepare_source(src, settings) for src in sources]
            t2 = time.perf_counter()
            texts = texts_of(prepared)
            vectors = embedder.embed_documents(texts)
            t3 = time.perf_counter()
        else:
            with RayExecutor(settings, workers=workers, progress=False) as executor:
                t1 = time.perf_counter()
                prepared = executor.read(sources)
                t2 = time.perf_counter()
                texts = texts_of(prepared)
                vectors = executor.embed(texts)  # the actors' start and model load included
                t3 = time.perf_counter()
        peaks = memory.stop()
    return {
        "articles": sum(len(p.articles) for p in prepared),
        "texts": len(texts),
        "dim": int(vectors.shape[1]),
        "start_s": t1 - t0,
        "read_s": t2 - t1,
        "embed_s": t3 - t2,
        "wall_s": t3 - t0,
        "driver_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "actor_mb": peaks.get("embed actor", 0.0),
        "worker_mb": peaks.get("ray worker", 0.0),
        "load_before": load,
        "load_after": os.getloadavg()[0],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", nargs="?", type=Path, default=CORPUS)
    parser.add_argument("--model", default="multilingual-e5-small")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="Ray runs to make")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    corpus = args.corpus.resolve()
    if args.one is not None:
        print(json.dumps(one_run(corpus, args.model, args.one)))
        return
    print(f"corpus {corpus}; model {args.model}; {os.cpu_count()} cores; no embedding cache\n")
    print(
        f"{'run':<14}{'start s':>8}{'read s':>8}{'embed s':>9}{'wall s':>8}{'articles/s':>11}"
        f"{'texts/s':>9}{'driver MB':>10}{'reader MB':>10}{'actor MB':>9}{'load':>11}"
    )
    for workers in [0, *args.workers]:
        out = subprocess.run(
            [sys.executable, __file__, str(corpus), "--model", args.model, "--one", str(workers)],
            check=True,
            capture_output=True,
            text=True,
        )
        r = json.loads(out.stdout.strip().splitlines()[-1])
        name = "plain" if workers == 0 else f"ray {workers} worker" + "s" * (workers > 1)
        ray_mb = f"{r['worker_mb']:>10.0f}{r['actor_mb']:>9.0f}" if workers else f"{'-':>10}{'-':>9}"
        print(
            f"{name:<14}{r['start_s']:>8.1f}{r['read_s']:>8.1f}{r['embed_s']:>9.1f}{r['wall_s']:>8.1f}"
            f"{r['articles'] / r['wall_s']:>11.2f}{r['texts'] / r['embed_s']:>9.1f}"
            f"{r['driver_mb']:>10.0f}{ray_mb}{r['load_before']:>6.1f}>{r['load_after']:<4.1f}"
        )
    print(
        f"\n{r['articles']} articles, {r['texts']} texts (distinct chunks and sentences), dim {r['dim']}. "
        "start s: the model's load (plain) or Ray's start (ray); embed s includes, on Ray, starting "
        "the actors and loading the model in each; articles/s over the wall time; texts/s over embed s; "
        "reader MB, actor MB: peak RSS of one reading worker, of one embedding actor; "
        "load: 1-minute load average before>after the run."
    )


if __name__ == "__main__":
    main()
