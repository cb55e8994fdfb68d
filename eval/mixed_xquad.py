"""Two mixed-language XQuAD data sets: half the articles in German, the other half in English.

    .venv/bin/python eval/mixed_xquad.py /tmp/xquad-mixed [--bench ../shared/bench]
    rag eval --dataset /tmp/xquad-mixed/mix-a --out /tmp/mix-a
    rag eval --dataset /tmp/xquad-mixed/mix-b --out /tmp/mix-b

News corpora mix languages (the seed articles: four English, one German), and a question may
be answered only by an article in the other language. XQuAD's English and German sets are
translations of the same 48 articles with shared question ids, so a mixed corpus can be made
from them: ``mix-a`` takes the German text of every other article (sorted by name, the even
ones) and the English text of the rest; ``mix-b`` the opposite. Each holds all 1,190 questions
in both languages (2,380), half answered in their own language, half only across languages;
the gold answers and source are those of the article's language in the corpus, as
``rag eval --corpus`` does for a whole corpus.

The articles are copied into the output folder, which must lie outside the project: the
benchmark data is read from ``../shared/bench`` and never kept here.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
LANGUAGES = ("en", "de")


def _read(bench: Path, language: str) -> list[dict]:
    path = bench / f"xquad-{language}" / "questions.jsonl"
    if not path.is_file():
        raise SystemExit(f"error: {path} not found: --bench must hold xquad-en/ and xquad-de/")
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def _article(source: str) -> str:
    """``super-bowl-50.de.md`` -> ``super-bowl-50``."""
    return source.rsplit(".", 2)[0]


def make(bench: Path, out: Path) -> dict[str, int]:
    """Write ``out/mix-a`` and ``out/mix-b`` (``corpus/`` + ``questions.jsonl``); returns the
    number of questions written per data set."""
    questions = {lang: _read(bench, lang) for lang in LANGUAGES}
    gold = {lang: {q["id"]: q for q in questions[lang]} for lang in LANGUAGES}
    articles = sorted({_article(q["source"]) for q in questions["en"]})
    written = {}
    for name, german_half in (("mix-a", 0), ("mix-b", 1)):
        language_of = {a: ("de" if i % 2 == german_half else "en") for i, a in enumerate(articles)}
        target = out / name
        if target.exists():
            shutil.rmtree(target)
        (target / "corpus").mkdir(parents=True)
        for article, lang in language_of.items():
            shutil.copy(bench / f"xquad-{lang}" / "corpus" / f"{article}.{lang}.md", target / "corpus")
        n = 0
        with (target / "questions.jsonl").open("w", encoding="utf-8") as f:
            for lang in LANGUAGES:
                for q in questions[lang]:
                    answer_language = language_of[_article(q["source"])]
                    g = gold[answer_language].get(q["id"])
                    if g is None:
                        continue
                    row = {
                        "id": f"{lang}-{q['id']}",
                        "question": q["question"],
                        "lang": lang,
                        "answers": g["answers"],
                        "source": g["source"],
                    }
                    f.write(json.dumps(row, ensure_ascii=False) + "\n")
                    n += 1
        written[name] = n
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="output folder, outside the project")
    parser.add_argument("--bench", type=Path, default=PROJECT_DIR.parent / "shared" / "bench")
    args = parser.parse_args(argv)
    out = args.out.resolve()
    if out == PROJECT_DIR or PROJECT_DIR in out.parents:
        parser.error(f"{args.out} is inside the project: benchmark data is not kept here")
    for name, n in make(args.bench, out).items():
        print(f"{out / name}: {n} questions")
    return 0


if __name__ == "__main__":
    sys.exit(main())
