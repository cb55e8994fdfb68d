"""The FAISS store against the Milvus store on one XQuAD corpus: load time, warm ask() latency,
a dense search inside Milvus, and memory.

    .venv/bin/python bench/stores.py [--dataset ../shared/bench/xquad-en] [--corpus OTHER/corpus]
                                     [--milvus /tmp/x.db] [--limit 300]

The index of the dataset's corpus is built (or brought up to date) on each store with the real
model, in the same index folder as ``rag eval --dataset`` uses, so the embedding cache is shared
and the two builds hold the same vectors. Then a pipeline is loaded from each store and the
questions are asked alternately, one store then the other, so a busy machine slows both alike.
Printed: load seconds, ask() p50/p95 in ms per store, whether every answer is the same, the
latency of a top-10 dense search done by Milvus itself over the chunk collection (what a
replica that does not hold the vectors would pay per question), and the process's RSS after
each load. Quality on the full question sets: ``rag eval --dataset ... --store ...``.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rag.config import PROJECT_DIR, Settings  # noqa: E402
from rag.evaluate import eval_index_settings  # noqa: E402
from rag.index.store import open_store  # noqa: E402
from rag.metrics import percentile  # noqa: E402
from rag.query.pipeline import Pipeline  # noqa: E402


def rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:")) / 1024


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dataset", type=Path, default=PROJECT_DIR.parent / "shared" / "bench" / "xquad-en")
    p.add_argument("--corpus", type=Path, help="another dataset's corpus (de questions on the en corpus)")
    p.add_argument("--milvus", help="Milvus URI or Milvus Lite folder (default: a new temporary .db)")
    p.add_argument("--limit", type=int, default=300)
    args = p.parse_args()
    milvus_uri = args.milvus or str(Path(tempfile.mkdtemp(prefix="bench-stores-")) / "milvus.db")
    with (args.dataset / "questions.jsonl").open(encoding="utf-8") as f:
        questions = [json.loads(line)["question"] for line in f if line.strip()][: args.limit]

    corpus = args.corpus or args.dataset / "corpus"
    base = eval_index_settings(Settings.from_env(), corpus)
    stores = {
        "faiss": base,
        "milvus": eval_index_settings(base.with_(store=milvus_uri), corpus),
    }
    pipelines, out = {}, {"dataset": str(args.dataset), "questions": len(questions), "stores": {}}
    for name, settings in stores.items():
        t0 = time.perf_counter()
        pipelines[name] = Pipeline.from_settings(settings)
        out["stores"][name] = {
            "load_s": round(time.perf_counter() - t0, 3),
            "rss_after_load_mb": round(rss_mb()),
        }
    for pipeline in pipelines.values():
        for q in questions[:5]:
            pipeline.ask(q)
    times: dict[str, list[float]] = {name: [] for name in pipelines}
    same = 0
    for q in questions:
        answers = {}
        for name, pipeline in pipelines.items():
            t = time.perf_counter()
            answers[name] = pipeline.ask(q)
            times[name].append((time.perf_counter() - t) * 1000)
        same += [s.citation for s in answers["faiss"].sentences] == [
            s.citation for s in answers["milvus"].sentences
        ]
    for name, ms in times.items():
        out["stores"][name].update(p50_ms=round(percentile(ms, 50), 1), p95_ms=round(percentile(ms, 95), 1))
    out["same_answers"] = same

    store = open_store(stores["milvus"])
    collection = store.collection(store.current(), "chunks")
    embedder = pipelines["milvus"].embedder
    search_ms = []
    for q in questions:
        vector = embedder.embed_queries([q])[0].tolist()
        t = time.perf_counter()
        store.client.search(collection, data=[vector], limit=10, output_fields=["id"])
        search_ms.append((time.perf_counter() - t) * 1000)
    out["milvus_dense_top10"] = {
        "p50_ms": round(percentile(search_ms, 50), 1),
        "p95_ms": round(percentile(search_ms, 95), 1),
    }
    print(json.dumps(out, indent=2))
    print(
        f"\n{args.dataset.name} on {corpus}: {len(questions)} questions, asked alternately on both stores\n"
        f"{'store':<8}{'load s':>8}{'ask p50 ms':>12}{'ask p95 ms':>12}{'RSS MB':>9}"
    )
    for name, row in out["stores"].items():
        print(
            f"{name:<8}{row['load_s']:>8.2f}{row['p50_ms']:>12.1f}{row['p95_ms']:>12.1f}{row['rss_after_load_mb']:>9}"
        )
    print(f"same answer sentences and citations: {same} of {len(questions)}")
    dense = out["milvus_dense_top10"]
    print(f"a top-10 dense search inside Milvus: p50 {dense['p50_ms']} ms, p95 {dense['p95_ms']} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
