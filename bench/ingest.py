"""Benchmark of `rag index`: full build speed, no-change rebuild time, peak memory.

For each corpus (the bundled seed articles and the 48 XQuAD English articles in
../shared/bench/xquad-en/corpus) it builds a fresh index in a temp folder with an
empty embedding cache (so every text is embedded), then runs `rag index` again as
a user would (a new process, nothing changed) and times it. Each build runs in its
own process so that its peak memory (ru_maxrss) is its own.

    .venv/bin/python bench/ingest.py [--model multilingual-e5-small] [--corpus DIR ...]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPORA = [ROOT / "articles", ROOT.parent / "shared" / "bench" / "xquad-en" / "corpus"]


def one_build(corpus: Path, index_dir: Path, model: str) -> dict:
    """Runs in a child process: one full build, timed, with its peak memory."""
    sys.path.insert(0, str(ROOT))
    from rag.config import Settings
    from rag.index.embed import load_embedder
    from rag.index.indexer import build_index

    settings = Settings(articles_dir=corpus, index_dir=index_dir, model=model)
    t0 = time.perf_counter()
    embedder = load_embedder(settings, questions=False)  # as `rag index` loads it
    load_s = time.perf_counter() - t0
    report = build_index(settings, embedder=embedder)
    total = time.perf_counter() - t0
    return {
        "articles": report.articles,
        "chunks": report.chunks,
        "sentences": report.sentences,
        "embedded": report.embedded,
        "model_load_s": load_s,
        "build_s": report.seconds,
        "total_s": total,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="multilingual-e5-small")
    parser.add_argument("--corpus", type=Path, action="append", help="corpus folder (repeatable)")
    parser.add_argument("--one", nargs=2, metavar=("CORPUS", "INDEX"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one_build(Path(args.one[0]), Path(args.one[1]), args.model)))
        return
    rag = Path(sys.executable).parent / "rag"
    print(f"model {args.model}; full build = fresh index and empty embedding cache\n")
    header = (
        f"{'corpus':<28}{'articles':>9}{'chunks':>8}{'texts':>7}{'build s':>9}"
        f"{'articles/s':>11}{'chunks/s':>10}{'no-change s':>12}{'peak MB':>9}"
    )
    print(header)
    for corpus in args.corpus or CORPORA:
        with tempfile.TemporaryDirectory() as tmp:
            index_dir = Path(tmp) / "index"
            out = subprocess.run(
                [sys.executable, __file__, "--model", args.model, "--one", str(corpus), str(index_dir)],
                check=True,
                capture_output=True,
                text=True,
            )
            r = json.loads(out.stdout.strip().splitlines()[-1])
            t0 = time.perf_counter()
            subprocess.run(
                [str(rag), "index", str(corpus), "--index", str(index_dir), "--model", args.model],
                check=True,
                capture_output=True,
            )
            no_change = time.perf_counter() - t0
        name = corpus.name if corpus.name != "corpus" else corpus.parent.name
        print(
            f"{name:<28}{r['articles']:>9}{r['chunks']:>8}{r['embedded']:>7}{r['build_s']:>9.1f}"
            f"{r['articles'] / r['build_s']:>11.2f}{r['chunks'] / r['build_s']:>10.2f}"
            f"{no_change:>12.2f}{r['peak_rss_mb']:>9.0f}"
        )
    print(
        "\nbuild s excludes the model load; texts = chunks + sentences embedded; "
        "no-change s is a whole `rag index` process (start-up included)"
    )


if __name__ == "__main__":
    main()
