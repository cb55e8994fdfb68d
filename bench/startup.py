"""Start-up of one question: `rag ask` in a fresh process, its wall time and peak memory.

    .venv/bin/python bench/startup.py                  # 3 runs on ./articles and ./index (built)
    .venv/bin/python bench/startup.py --runs 5 --index /path/to/index

Each run is its own process (a cold start: imports, the ONNX question encoder and reader, the
index and the lexical tables), started from a small wrapper process so that its peak resident
memory (ru_maxrss of the child) is its own. The models must already be converted into the cache
(any earlier `rag index` or `rag ask` did it).
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
QUESTION = "How many MOUs were signed?"


def one_run(index: Path, articles: Path, question: str) -> dict:
    """Runs in the wrapper process: one `rag ask`, timed, with the child's peak memory."""
    rag = Path(sys.executable).parent / "rag"
    t0 = time.perf_counter()
    done = subprocess.run(
        [str(rag), "ask", question, "--index", str(index), "--json"],
        capture_output=True,
        text=True,
        cwd=articles.parent,
    )
    seconds = time.perf_counter() - t0
    if done.returncode != 0:
        raise SystemExit(f"rag ask failed: {done.stderr.strip()}")
    answer = json.loads(done.stdout)
    return {
        "seconds": seconds,
        "peak_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,  # Linux: KiB
        "abstained": answer.get("abstained"),
    }


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--index", type=Path, default=ROOT / "index")
    p.add_argument("--articles", type=Path, default=ROOT / "articles")
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--question", default=QUESTION)
    p.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.one:
        print(json.dumps(one_run(args.index, args.articles, args.question)))
        return 0
    runs = []
    for _ in range(args.runs):
        out = subprocess.run(
            [sys.executable, __file__, "--one", "--index", str(args.index), "--articles", str(args.articles),
             "--question", args.question],
            check=True, capture_output=True, text=True,
        )  # fmt: skip
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    print(f"rag ask {args.question!r}, cold process, {args.runs} runs")
    for i, r in enumerate(runs, 1):
        print(f"  run {i}: {r['seconds']:.2f} s, peak {r['peak_mb']:.0f} MB")
    seconds = [r["seconds"] for r in runs]
    peaks = [r["peak_mb"] for r in runs]
    median = statistics.median(seconds)
    print(f"median {median:.2f} s (min {min(seconds):.2f}), peak memory max {max(peaks):.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
