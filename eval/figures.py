"""The README's table of current figures, generated from the reports in eval/baselines/.

    .venv/bin/python eval/figures.py --add eval/results/xquad-en.json  # keep its figures as a baseline
    .venv/bin/python eval/figures.py                                    # print the table (Markdown)

A baseline keeps a report's settings, headline metrics and breakdowns, and not the per-question
records of a benchmark (its questions stay in ../shared/bench); the seed set's keep their records.
``rag eval --compare`` reads baselines like full reports.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASELINES = ROOT / "eval" / "baselines"

# (baseline file, what the row says), in the table's order.
ROWS = (
    ("xquad-en", "XQuAD English -> English (1,190)"),
    ("xquad-de", "XQuAD German -> German (1,190)"),
    ("xquad-de-on-xquad-en", "XQuAD German -> English (1,190)"),
    ("seed", "seed set, en/de/ko (100: 86 answerable, 14 not)"),
)


def keep(report: Path, out_dir: Path = BASELINES) -> Path:
    """Write the report's figures as ``out_dir / <name>.json``: without its records, except for the
    project's own seed set."""
    data = json.loads(report.read_text(encoding="utf-8"))
    slim = data if report.stem == "seed" else {k: v for k, v in data.items() if k != "records"}
    target = out_dir / report.name
    target.write_text(json.dumps(slim, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return target


def _unseen(data: dict) -> dict | None:
    for row in data.get("breakdowns", {}).get("reader_articles", []):
        if row.get("group", {}).get("reader_articles") == "unseen":
            return row
    return None


def table(folder: Path = BASELINES) -> str:
    lines = [
        "| questions -> articles | passage recall@1 | answer hit@1 | short-answer F1 / EM "
        "| F1 / EM, articles the reader never saw | answerable refused | unanswerable refused |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, label in ROWS:
        path = folder / f"{name}.json"
        if not path.is_file():
            continue
        data = json.loads(path.read_text(encoding="utf-8"))
        m = data["metrics"]
        unseen = _unseen(data)
        held = f"{unseen['f1']:.3f} / {unseen['exact_match']:.3f} ({unseen['n']})" if unseen else "–"
        refused = m.get("answerable_abstained")
        unans = m.get("unanswerable_abstained")
        n_unans = m.get("n_unanswerable") or 0
        lines.append(
            f"| {label} | {m['recall@1']:.3f} | {m['answer_hit@1']:.3f} "
            f"| {m['f1']:.3f} / {m['exact_match']:.3f} "
            f"| {held} | {refused:.1%} | "
            + (f"{round(unans * n_unans)} of {n_unans}" if n_unans and unans is not None else "–")
            + " |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--add", type=Path, nargs="*", default=[], help="reports to keep as baselines")
    args = parser.parse_args(argv)
    for report in args.add:
        print(f"kept {keep(report)}", file=sys.stderr)
    print(table())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
