"""The ``rag`` command: ``rag index``, ``rag status``, ``rag ask``, ``rag eval``.

Parsing is argparse (standard library, enough for four subcommands). Logging is
configured here and nowhere else. Every ``RagError`` is printed as one line
``error: ...`` with exit status 2; a traceback means a bug.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path

from rag.config import DEFAULT_MODEL, DEFAULT_THRESHOLD, Settings, reader_thresholds
from rag.errors import ConfigError, QuestionError, RagError

LOG = logging.getLogger("rag")


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--index", dest="index_dir", type=Path, help="index folder (default: ./index, or RAG_INDEX_DIR)"
    )
    p.add_argument(
        "--model", help=f"embedding model: {DEFAULT_MODEL} (default), all-MiniLM-L6-v2, or a folder"
    )
    p.add_argument(
        "--store",
        help="where builds live: faiss (the index folder, the default), a Milvus Lite folder ending in .db, "
        "or a Milvus URI such as http://localhost:19530 (or RAG_STORE)",
    )
    p.add_argument("-v", "--verbose", action="store_true", help="log what each stage does")


def build_parser() -> argparse.ArgumentParser:
    # Defaults shown in help come from Settings() (and rag.query.pipeline), so they cannot drift.
    defaults = Settings()
    other = reader_thresholds()[1]
    threshold_help = (
        "abstain when the answer's confidence is below this, from 0 to 1 "
        f"(default {DEFAULT_THRESHOLD:g}, and {other:g} for an answer in another language than the "
        "question, fitted with the reader; or RAG_THRESHOLD; 0 never abstains)"
    )
    parser = argparse.ArgumentParser(prog="rag", description="Ask questions about a folder of news articles.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("index", help="bring the index up to date with the articles folder")
    p.add_argument("articles_dir", nargs="?", type=Path, help="articles folder (default: ./articles)")
    p.add_argument("--full", action="store_true", help="rebuild from scratch instead of incrementally")
    p.add_argument(
        "--chunk-tokens", type=int, help=f"largest chunk, in tokens (default {defaults.chunk_tokens})"
    )
    p.add_argument(
        "--chunk-overlap",
        type=int,
        help=f"overlap between chunks, in tokens (default {defaults.chunk_overlap})",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument(
        "--ray",
        nargs="?",
        const="local",
        metavar="ADDRESS",
        help="read, chunk and embed on a Ray cluster (ADDRESS, e.g. ray://head:10001 or head:6379; "
        "without it, a local Ray started for this run); needs pip install -e '.[scale]'",
    )
    p.add_argument(
        "--ray-workers", type=int, default=2, help="Ray workers that embed, one model each (default 2)"
    )
    _common(p)

    p = sub.add_parser("status", help="what is indexed and what is waiting in the articles folder")
    p.add_argument("articles_dir", nargs="?", type=Path, help="articles folder (default: ./articles)")
    p.add_argument("--json", action="store_true", help="print JSON")
    _common(p)

    p = sub.add_parser("ask", help="answer a question from the indexed articles")
    p.add_argument("question")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--language", help="only articles in this language (en, de, ko, ...)")
    p.add_argument(
        "--source",
        "--outlet",
        dest="source",
        help="only articles from this outlet (a part of its name); 'unknown': the articles that name none",
    )
    dated = (
        "2026-01-19, 2026-01 or 2026; an article dated only by month or year is kept when its month "
        "or year overlaps the range; articles without a date are left out unless --include-undated"
    )
    p.add_argument("--since", help=f"only articles published on or after this date ({dated})")
    p.add_argument("--until", help=f"only articles published on or before this date ({dated})")
    p.add_argument(
        "--include-undated",
        action="store_true",
        help="with --since/--until, keep the articles that give no date too",
    )
    p.add_argument("--threshold", type=float, help=threshold_help)
    _common(p)

    p = sub.add_parser("eval", help="run a question set against an index and write reports")
    p.add_argument("--questions", type=Path, help="question set (default: eval/questions.jsonl)")
    p.add_argument(
        "--dataset",
        type=Path,
        help="a folder with corpus/ and questions.jsonl (e.g. ../shared/bench/xquad-en)",
    )
    p.add_argument("--corpus", type=Path, help="pair the questions with another dataset's corpus folder")
    p.add_argument("--out", type=Path, help="report folder (default: eval/results)")
    p.add_argument("--compare", type=Path, help="a previous report JSON: print differences, fail on drops")
    p.add_argument("--tolerance", type=float, default=0.01, help="largest allowed drop with --compare")
    p.add_argument("--limit", type=int, help="only the first N questions")
    p.add_argument(
        "--feedback",
        type=Path,
        metavar="FILE",
        help="instead: report what went wrong with each 👎 of the chat's feedback file "
        "(INDEX/feedback.jsonl), asking its question again on the current index",
    )
    p.add_argument("--threshold", type=float, help=threshold_help)
    _common(p)
    return parser


def _settings(args: argparse.Namespace) -> Settings:
    return Settings.from_env(
        articles_dir=getattr(args, "articles_dir", None),
        index_dir=args.index_dir,
        model=args.model,
        chunk_tokens=getattr(args, "chunk_tokens", None),
        chunk_overlap=getattr(args, "chunk_overlap", None),
        threshold=getattr(args, "threshold", None),
        store=getattr(args, "store", None),
    )


def cmd_index(args: argparse.Namespace) -> int:
    from rag.index.indexer import build_index

    settings = _settings(args)
    if args.ray is None:
        report = build_index(settings, full=args.full, progress=not args.no_progress)
    else:
        if not 1 <= args.ray_workers <= 1024:
            raise ConfigError(f"--ray-workers must be between 1 and 1024, got {args.ray_workers}")
        from rag.index.distributed import OnDemand

        address = None if args.ray == "local" else args.ray
        with OnDemand(settings, address=address, workers=args.ray_workers) as executor:
            report = build_index(settings, full=args.full, progress=not args.no_progress, executor=executor)
    for line in report.problems():
        print(line, file=sys.stderr)
    print(report.summary())
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    from rag.index.indexer import pending_changes
    from rag.index.store import open_store

    settings = _settings(args)
    store = open_store(settings)
    out: dict = {
        "index": store.describe(),
        "articles_dir": str(settings.articles_dir.resolve()),
    }
    try:
        manifest = store.manifest(verify=True)
        out["indexed"] = {
            "articles": manifest["counts"]["articles"],
            "chunks": manifest["counts"]["chunks"],
            "languages": manifest.get("languages", {}),
            "model": manifest["model"]["id"],
            "built_at": manifest.get("built_at"),
        }
    except RagError as e:
        out["indexed"] = None
        out["problem"] = str(e)
    try:
        pending, errors = pending_changes(settings)
        out["pending"] = {k: v for k, v in pending.items() if k != "unchanged"}
        out["problems"] = [str(e) for e in errors]
    except RagError as e:
        out["pending"] = None
        out["problems"] = [str(e)]
    if args.json:
        print(json.dumps(out, indent=2, ensure_ascii=False))
        return 0
    ix = out["indexed"]
    print(f"index: {out['index']}")
    if ix:
        langs = ", ".join(f"{k} {v}" for k, v in ix["languages"].items())
        print(f"  {ix['articles']} articles ({langs}), {ix['chunks']} chunks")
        print(f"  model {ix['model']}, built {ix['built_at']}")
    else:
        print(f"  {out.get('problem')}")
    pend = out["pending"]
    print(f"articles folder: {out['articles_dir']}")
    if pend is not None:
        waiting = sum(len(v) for v in pend.values())
        for kind in ("added", "updated", "removed"):
            for rel in pend[kind]:
                print(f"  {kind:<8} {rel}")
        if waiting:
            print(f"  {waiting} change(s) waiting: run `rag index`")
        elif ix:
            print("  up to date")
    for problem in out["problems"]:
        print(f"  problem: {problem}")
    return 0


def cmd_ask(args: argparse.Namespace) -> int:
    from rag.present.render import answer_to_dict, format_answer
    from rag.query.pipeline import Filters, Pipeline
    from rag.query.retrieve import unmatched

    settings = _settings(args)
    pipeline = Pipeline.from_settings(settings)
    filters = Filters(
        language=args.language,
        source=args.source,
        since=args.since,
        until=args.until,
        include_undated=args.include_undated,
    )
    offer = unmatched(filters, pipeline.index.articles)
    if offer is not None:
        raise QuestionError(f"no indexed article matches the filters. In the index: {offer}")
    answer = pipeline.ask(args.question, filters=filters)
    if args.json:
        print(json.dumps(answer_to_dict(answer), indent=2, ensure_ascii=False))
    else:
        print(format_answer(answer))
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from rag.evaluate import cmd_eval as run

    return run(args)


def configure_logging(verbose: bool) -> None:
    """The one place logging is set up (the CLI and app.py call it). Warnings, and with
    ``verbose`` what each stage does; progress of long stages (``rag.progress``) always."""
    level = logging.INFO if verbose else logging.WARNING
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("rag.progress").setLevel(logging.INFO)

    for handler in logging.getLogger().handlers:
        handler.setLevel(logging.INFO)
        for old in [f for f in handler.filters if isinstance(f, _Shown)]:
            handler.removeFilter(old)
        handler.addFilter(_Shown(level))


class _Shown(logging.Filter):
    """Records at ``level`` and above (bm25s sets its own logger to DEBUG when imported), and
    progress lines."""

    def __init__(self, level: int) -> None:
        super().__init__()
        self.level = level

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= self.level or record.name == "rag.progress"


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    configure_logging(args.verbose)
    commands = {"index": cmd_index, "status": cmd_status, "ask": cmd_ask, "eval": cmd_eval}
    try:
        return commands[args.command](args)
    except RagError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted; the index in use is unchanged", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `rag ask ... | head`: the reader left; nothing more to say
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # so the interpreter's final flush does not fail again
        return 141


if __name__ == "__main__":
    sys.exit(main())
