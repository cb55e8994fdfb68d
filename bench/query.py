"""Latency of a warm ``Pipeline.ask`` and peak memory, on the seed articles and on XQuAD English.

    .venv/bin/python bench/query.py [--xquad ../shared/bench/xquad-en] [--limit 200]

Indexes are built (once, then reused) under ``~/.cache/rag-news/bench-index/``. For each corpus
the pipeline is loaded, warmed up with a few questions, then every question is asked once and
timed; the query embedding alone is timed too, since it dominates ("rest" = ask - embedding).
Then the embedding step alone runs over all the questions in a tight loop, with the question
encoder in use ("onnx" or "torch", see ``rag.index.embed``) and, for comparison, with
sentence-transformers' ``encode_query``: medians that a busy machine disturbs less. Prints
p50/p95 in ms and the process's peak resident memory (``resource.getrusage``: ru_maxrss).
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rag.cli import configure_logging  # noqa: E402
from rag.config import PROJECT_DIR, Settings, default_cache_dir  # noqa: E402
from rag.index.embed import Embedder, SentenceTransformerEmbedder  # noqa: E402
from rag.index.indexer import build_index  # noqa: E402
from rag.metrics import percentile  # noqa: E402
from rag.query.pipeline import Pipeline  # noqa: E402


def _questions(path: Path, key: str, limit: int) -> list[str]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line)[key] for line in f if line.strip()][:limit]


def _bench(name: str, articles: Path, questions: list[str], model: str) -> dict:
    settings = Settings(
        articles_dir=articles, index_dir=default_cache_dir() / "bench-index" / name, model=model
    )
    report = build_index(settings)
    t0 = time.perf_counter()
    pipeline = Pipeline.from_settings(settings)
    load = time.perf_counter() - t0
    for q in questions[:5]:  # warm-up: first calls pay for lazy initialisation
        pipeline.ask(q)
    ask_ms, embed_ms = [], []
    for q in questions:
        t = time.perf_counter()
        pipeline.ask(q)
        ask_ms.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        pipeline.embedder.embed_queries([q])
        embed_ms.append((time.perf_counter() - t) * 1000)
    rest = [a - e for a, e in zip(ask_ms, embed_ms, strict=True)]
    tight, reference, path = _tight_embedding_loop(pipeline.embedder, questions)
    return {
        "corpus": name,
        "articles": report.articles,
        "chunks": report.chunks,
        "questions": len(questions),
        "load_s": round(load, 2),
        "ask_p50_ms": round(percentile(ask_ms, 50), 1),
        "ask_p95_ms": round(percentile(ask_ms, 95), 1),
        "embed_p50_ms": round(percentile(embed_ms, 50), 1),
        "embed_p95_ms": round(percentile(embed_ms, 95), 1),
        "rest_p50_ms": round(percentile(rest, 50), 1),
        "rest_p95_ms": round(percentile(rest, 95), 1),
        "path": path,
        "tight_p50_ms": round(percentile(tight, 50), 1),
        "reference_p50_ms": round(percentile(reference, 50), 1) if reference else None,
    }


def _tight_embedding_loop(embedder: Embedder, questions: list[str]) -> tuple[list[float], list[float], str]:
    """(ms per question with the embedder, ms with sentence-transformers' encode_query, path name)."""
    tight = []
    for q in questions:
        t = time.perf_counter()
        embedder.embed_queries([q])
        tight.append((time.perf_counter() - t) * 1000)
    if not isinstance(embedder, SentenceTransformerEmbedder):
        return tight, [], "fake"
    model = embedder.model
    reference = []
    for q in questions:
        t = time.perf_counter()
        model.encode_query([q], normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)
        reference.append((time.perf_counter() - t) * 1000)
    return tight, reference, "onnx" if embedder.query_encoder is not None else "torch"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--xquad", type=Path, default=PROJECT_DIR.parent / "shared" / "bench" / "xquad-en")
    parser.add_argument("--limit", type=int, default=200, help="XQuAD questions to time (default 200)")
    parser.add_argument("--model", default="multilingual-e5-small")
    args = parser.parse_args()
    configure_logging(verbose=False)
    rows = [
        _bench(
            "seed",
            PROJECT_DIR / "articles",
            _questions(PROJECT_DIR / "eval" / "questions.jsonl", "question", 100),
            args.model,
        )
    ]
    if (args.xquad / "corpus").is_dir():
        rows.append(
            _bench(
                "xquad-en",
                args.xquad / "corpus",
                _questions(args.xquad / "questions.jsonl", "question", args.limit),
                args.model,
            )
        )
    else:
        print(f"(no XQuAD corpus at {args.xquad}; skipped)", file=sys.stderr)
    print(
        f"{'corpus':<9} {'articles':>8} {'chunks':>6} {'n':>4} {'load s':>6}  "
        "ask p50/p95 ms  embed p50/p95 ms  rest p50/p95 ms"
    )
    for r in rows:
        print(
            f"{r['corpus']:<9} {r['articles']:>8} {r['chunks']:>6} {r['questions']:>4} {r['load_s']:>6}  "
            f"{r['ask_p50_ms']:>6} / {r['ask_p95_ms']:<6}  {r['embed_p50_ms']:>6} / {r['embed_p95_ms']:<8}"
            f"{r['rest_p50_ms']:>6} / {r['rest_p95_ms']}"
        )
    print("\nembedding alone, tight loop (p50 ms):")
    for r in rows:
        reference = (
            f"{r['reference_p50_ms']} ms with encode_query" if r["reference_p50_ms"] else "no reference"
        )
        print(f"{r['corpus']:<9} {r['tight_p50_ms']} ms with the {r['path']} question encoder; {reference}")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB
    print(f"peak memory (ru_maxrss): {peak_mb:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
