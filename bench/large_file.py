"""Ingestion time of one big article, stage by stage, at growing sizes: is each stage linear?

A synthetic news-like Markdown article (fixed seed) is built at each size: a headline and a
dateline, paragraphs of sentences, Markdown headings, emphasis, links, images, quotes and rules,
repeated photo captions, some very long lines without a newline, some runs of words without
sentence punctuation, some runs of blank lines, and a byline, a date and a copyright line at
the end. It then goes through the stages of ``rag index`` before the embedder, each timed on
its own:

    decode     bytes -> str (rag.index.ingest.decode_bytes)
    markdown   rag.index.ingest.markdown_to_text
    clean      rag.index.clean.clean_text
    meta       rag.index.meta.extract_metadata
    language   rag.index.language.detect_language, and the letter count load_source checks
    sentences  rag.index.sentences.split_sentences
    chunks     rag.index.chunking.chunk_sentences with cl100k_base token counts (400 / 40)

and prints seconds and MB/s (MB of the input file) per stage and size: a linear stage keeps its
MB/s as the size grows. Larger sizes are skipped once one size's total goes over ``--budget``.

    .venv/bin/python bench/large_file.py [--sizes 1 3 10 30] [--seed 23] [--budget 600]
"""

from __future__ import annotations

import argparse
import logging
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rag.index.chunking import chunk_sentences  # noqa: E402
from rag.index.clean import clean_text  # noqa: E402
from rag.index.ingest import decode_bytes, markdown_to_text  # noqa: E402
from rag.index.language import detect_language, script_counts  # noqa: E402
from rag.index.meta import extract_metadata  # noqa: E402
from rag.index.sentences import split_sentences  # noqa: E402
from rag.index.tokens import count_tokens, get_encoding  # noqa: E402

MB = 1024 * 1024
STAGES = ("decode", "markdown", "clean", "meta", "language", "sentences", "chunks")

PEOPLE = ["President Lee Jae Myung", "Prime Minister Giorgia Meloni", "Dr. Kim Min-ji", "the minister",
          "Mr. Park", "the spokesperson", "Sen. Rossi", "the governor", "Prof. Anna Weber"]  # fmt: skip
VERBS = ["said", "announced", "agreed", "noted", "stressed", "reported", "confirmed", "warned", "added"]
PLACES = ["Seoul", "Rome", "Busan", "the U.S.", "Milan", "Tokyo", "Brussels", "the Korean Peninsula"]
TOPICS = ["semiconductor supply chains", "critical raw materials", "the free trade agreement",
          "artificial intelligence (AI)", "aerospace cooperation", "cultural heritage", "energy prices",
          "the defense budget", "tourism", "disaster response", "the housing market"]  # fmt: skip
WORDS = (
    "the of and to in a that for on with as by at from its their new more than after over "
    "government officials cooperation trade growth market leaders summit talks investment "
    "industry policy companies exports imports workers plan deal agreement year week region "
    "country economy support bilateral strategic global local public private sector"
).split()


def _sentence(rng: random.Random) -> str:
    kind = rng.random()
    if kind < 0.3:
        return (
            f"{rng.choice(PEOPLE)} {rng.choice(VERBS)} on Monday that {rng.choice(TOPICS)} "
            f"in {rng.choice(PLACES)} grew by {rng.randint(2, 99)}.{rng.randint(0, 9)} percent."
        )
    if kind < 0.5:
        return f'"We will work on {rng.choice(TOPICS)} together," {rng.choice(PEOPLE)} {rng.choice(VERBS)}.'
    if kind < 0.6:
        return f"Trade rose from ${rng.randint(1, 20)}.{rng.randint(10, 99)} billion in 2012 to approx. {rng.randint(21, 40)} billion in 2024."  # noqa: E501
    if kind < 0.7:
        return f"Did {rng.choice(PLACES)} agree on {rng.choice(TOPICS)}?"
    n = rng.randint(8, 30)
    words = " ".join(rng.choice(WORDS) for _ in range(n))
    return (
        f"{words[:1].upper()}{words[1:]} in {rng.choice(PLACES)}, {rng.choice(PEOPLE)} {rng.choice(VERBS)}."
    )


def _paragraph(rng: random.Random, n: int) -> str:
    return " ".join(_sentence(rng) for _ in range(n))


def _block(rng: random.Random) -> str:
    """One piece of the article body: mostly paragraphs, sometimes Markdown or awkward text."""
    kind = rng.random()
    if kind < 0.80:
        return _paragraph(rng, rng.randint(2, 6))
    if kind < 0.85:
        return f"## {rng.choice(TOPICS).capitalize()} in {rng.choice(PLACES)}"
    if kind < 0.90:
        topic = rng.choice(TOPICS)
        return (
            f"**{rng.choice(PEOPLE)}** met officials on [{topic}](https://example.com/{rng.randint(1, 99)}) "
            f"and ![photo](https://example.com/img/{rng.randint(1, 9999)}.jpg) said the talks went well."
        )
    if kind < 0.93:
        return f"> {_paragraph(rng, 2)}"
    if kind < 0.94:
        return "---"
    if kind < 0.98:
        return f"{rng.choice(PEOPLE)} arrives in {rng.choice(PLACES)} for the summit talks (Photo: AJP)"
    if kind < 0.985:  # a long line without a newline: a whole section pasted as one paragraph
        return _paragraph(rng, rng.randint(100, 800))
    if kind < 0.995:  # words without sentence punctuation: a table or a transcript flattened into one line
        return " ".join(rng.choice(WORDS) for _ in range(rng.randint(300, 3000)))
    return "\n" * rng.randint(20, 2000)  # pages glued together with runs of blank lines


def synthetic_article(size_bytes: int, seed: int) -> bytes:
    """A Markdown news article of about ``size_bytes`` UTF-8 bytes (always the same for a seed).
    Its byline, date and copyright are at the end, so the metadata rules read the whole text."""
    rng = random.Random(seed)
    parts = [
        "# Seoul and Rome agree to deepen cooperation in chips and aerospace",
        f"SEOUL, January 19 - {_paragraph(rng, 3)}",
    ]
    size = sum(len(p.encode()) + 2 for p in parts)
    while size < size_bytes:
        block = _block(rng)
        parts.append(block)
        size += len(block.encode()) + 2
    parts += ["By Jane Doe (jane.doe@ajupress.com)", "Posted : January 19, 2026, 14:00", "© 2026 AJP."]
    return "\n\n".join(parts).encode("utf-8")


def _timed(times: dict[str, float], stage: str, fn: Callable, *args, **kwargs):
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    times[stage] = time.perf_counter() - t0
    return out


def run_stages(data: bytes) -> tuple[dict[str, float], dict[str, int]]:
    """Seconds per stage on one file's bytes, and the counts it produced."""
    enc = get_encoding("cl100k_base")
    times: dict[str, float] = {}
    text = _timed(times, "decode", decode_bytes, data, "big.md")
    text = _timed(times, "markdown", markdown_to_text, text)
    cleaned = _timed(times, "clean", clean_text, text)
    _timed(times, "meta", extract_metadata, text, cleaned, "big.md")
    t0 = time.perf_counter()
    language = detect_language(cleaned)
    sum(script_counts(cleaned).values())  # load_source's check that enough letters are left
    times["language"] = time.perf_counter() - t0
    sentences = _timed(times, "sentences", split_sentences, "big", cleaned, language)
    chunks = _timed(
        times,
        "chunks",
        chunk_sentences,
        "big",
        cleaned,
        sentences,
        max_tokens=400,
        overlap_tokens=40,
        count=lambda t: count_tokens(t, enc),
    )
    return times, {"chars": len(cleaned), "sentences": len(sentences), "chunks": len(chunks)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=float, nargs="+", default=[1, 3, 10, 30], help="sizes in MB")
    parser.add_argument("--seed", type=int, default=23)
    parser.add_argument("--budget", type=float, default=600, help="skip larger sizes after a slower one (s)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)  # no warning per over-long sentence
    get_encoding("cl100k_base")  # built once, outside the timings
    detect_language("The detector's models load on first use, outside the timings.")
    split_sentences("warm", "Warm up. Once.", "en")
    print(f"seed {args.seed}; seconds per stage (MB/s of the input file in brackets)\n")
    print(f"{'MB':>6}" + "".join(f"{s:>20}" for s in STAGES) + f"{'total':>10}{'sentences':>11}{'chunks':>8}")
    for size in args.sizes:
        data = synthetic_article(int(size * MB), args.seed)
        mb = len(data) / MB
        times, counts = run_stages(data)
        total = sum(times.values())
        cells = "".join(f"{times[s]:>9.2f} ({mb / max(times[s], 1e-9):>7.2f})" for s in STAGES)
        print(f"{mb:>6.1f}{cells}{total:>10.1f}{counts['sentences']:>11}{counts['chunks']:>8}", flush=True)
        if total > args.budget:
            print(f"\nstopped: {total:.0f} s at {mb:.1f} MB is over the budget of {args.budget:.0f} s")
            break
    print("\nlanguage includes the letter count of the cleaned text; chunks: cl100k_base, 400 / 40 tokens")


if __name__ == "__main__":
    main()
