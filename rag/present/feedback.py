"""Feedback on answers (👍/👎), kept locally as JSON lines, and read back for ``rag eval --feedback``.

    record_feedback(settings.feedback_file, question="Who visited Seoul?",
                    answer=answer_to_dict(answer), verdict="down", history=[], filters=None)
    entries, problems = read_feedback(settings.feedback_file)

The file is ``feedback.jsonl`` in the index folder (``Settings.feedback_file``): the index folder is
the app's state, and ``rag index`` (also ``--full``) only ever replaces and prunes ``builds/`` inside
it. One line is one verdict, a JSON object with :data:`ENTRY_KEYS`: ``time`` (UTC, ISO 8601),
``verdict`` ("up" or "down"), ``question``, ``history`` (the earlier questions sent with it),
``filters`` (None or the filter fields), ``answer`` (as ``rag ask --json`` gives it:
``rag.present.render.answer_to_dict``), ``citations`` (the answer sentences' citations, numbered as
the ``[n]`` the user saw), ``comment`` (None or text), ``app_version``, ``index_build`` (None when
unknown) and ``shortened`` (True when long texts of the answer were cut to keep the line under
:data:`MAX_LINE_BYTES`; a cut text ends in "…").

Writers may be several threads and processes at once (the chat's workers, a second app on the same
index): each line is written by one ``write`` on a file opened for appending, under a thread lock and
an exclusive ``flock`` on the file, so lines never interleave. A line left unfinished by a crash is
closed before the next one is written. Bad arguments raise :class:`FeedbackError` (a ``RagError``)
saying what is wrong; nothing is written then.
"""

from __future__ import annotations

import dataclasses
import fcntl
import functools
import json
import os
import threading
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path

from rag.errors import QuestionError, RagError
from rag.query.question import HISTORY_TURNS, check_history, clean_question

__all__ = [
    "ENTRY_KEYS",
    "MAX_COMMENT_CHARS",
    "MAX_LINE_BYTES",
    "VERDICTS",
    "FeedbackError",
    "read_feedback",
    "record_feedback",
]

VERDICTS = ("up", "down")
ENTRY_KEYS = (
    "time", "verdict", "question", "history", "filters", "answer", "citations", "comment",
    "app_version", "index_build", "shortened",
)  # fmt: skip
MAX_LINE_BYTES = 64 * 1024  # one verdict; a longer answer is shortened (question and history fit)
MAX_COMMENT_CHARS = 2000
_ANSWER_NEEDS = ("question", "answer", "sentences", "confidence", "abstained")
_CUTS = (4000, 1000, 300, 80)  # the longest text kept in the answer, tried in turn
_LOCK = threading.Lock()


class FeedbackError(RagError):
    """A verdict cannot be stored as given, or the feedback file cannot be read or written."""


@functools.cache
def app_version() -> str | None:
    """The installed version of rag-news, None when it is not installed as a package."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("rag-news")
    except PackageNotFoundError:
        return None


def _history(history: object) -> list[str]:
    """The last :data:`HISTORY_TURNS` earlier questions, checked and cleaned; blank ones left out."""
    out = []
    for item in check_history(history)[-HISTORY_TURNS:]:
        try:
            out.append(clean_question(item))
        except QuestionError:  # blank: check_history has refused everything else
            continue
    return out


def _check_answer(answer: object) -> dict:
    if not isinstance(answer, Mapping):
        raise FeedbackError(
            "answer must be the answer as a dict (rag.present.render.answer_to_dict), "
            f"got {type(answer).__name__}"
        )
    missing = [k for k in _ANSWER_NEEDS if k not in answer]
    if missing:
        raise FeedbackError(
            f"answer lacks {', '.join(missing)}: pass rag.present.render.answer_to_dict(answer)"
        )
    try:
        return json.loads(json.dumps(dict(answer), ensure_ascii=False, allow_nan=False))
    except (TypeError, ValueError) as e:
        raise FeedbackError(f"answer cannot be stored as JSON: {e}") from None


def _check_filters(filters: object) -> dict | None:
    if filters is None:
        return None
    if dataclasses.is_dataclass(filters) and not isinstance(filters, type):
        filters = dataclasses.asdict(filters)
    if not isinstance(filters, Mapping) or not all(isinstance(k, str) for k in filters):
        raise FeedbackError(
            f"filters must be None, a Filters or a dict of filter names, got {type(filters).__name__}"
        )
    bad = [k for k, v in filters.items() if v is not None and not isinstance(v, str | bool)]
    if bad:
        raise FeedbackError(f"filter {bad[0]!r} must be text, true/false or None, got {filters[bad[0]]!r}")
    return {k: v for k, v in filters.items() if v is not None and v != "" and v is not False}


def _check_comment(comment: object) -> str | None:
    if comment is None:
        return None
    if not isinstance(comment, str):
        raise FeedbackError(f"comment must be text or None, got {type(comment).__name__}")
    comment = comment.strip()
    if len(comment) > MAX_COMMENT_CHARS:
        raise FeedbackError(
            f"the comment is too long ({len(comment):,} characters); the limit is {MAX_COMMENT_CHARS:,}"
        )
    return comment or None


def _citations(answer: dict) -> list[dict]:
    out = []
    for n, sentence in enumerate(answer.get("sentences") or [], 1):
        citation = sentence.get("citation") if isinstance(sentence, Mapping) else None
        if isinstance(citation, Mapping):
            out.append({"n": n, **citation})
    return out


def _cut(value: object, limit: int) -> tuple[object, bool]:
    """``value`` with every text longer than ``limit`` characters cut (ending in "…"), and whether one was."""
    if isinstance(value, str):
        return (value[: limit - 1].rstrip() + "…", True) if len(value) > limit else (value, False)
    if isinstance(value, list):
        pairs = [_cut(v, limit) for v in value]
        return [v for v, _ in pairs], any(c for _, c in pairs)
    if isinstance(value, dict):
        pairs = {k: _cut(v, limit) for k, v in value.items()}
        return {k: v for k, (v, _) in pairs.items()}, any(c for _, c in pairs.values())
    return value, False


def _line(entry: dict) -> bytes:
    return (json.dumps(entry, ensure_ascii=False) + "\n").encode("utf-8")


def _fitted(entry: dict) -> bytes:
    """The entry as one line of at most :data:`MAX_LINE_BYTES`, its answer's texts shortened if needed."""
    line = _line(entry)
    if len(line) <= MAX_LINE_BYTES:
        return line
    answer = entry["answer"]
    for limit in _CUTS:
        answer_cut, _ = _cut(answer, limit)
        citations_cut, _ = _cut(entry["citations"], limit)
        line = _line({**entry, "answer": answer_cut, "citations": citations_cut, "shortened": True})
        if len(line) <= MAX_LINE_BYTES:
            return line
    lean = {**answer_cut, "hits": [], "also_reported": [], "closest": []}  # the lists of a huge answer
    return _line({**entry, "answer": lean, "citations": citations_cut, "shortened": True})


def record_feedback(
    path: str | os.PathLike[str],
    *,
    question: str,
    answer: Mapping[str, object],
    verdict: str,
    history: Sequence[str] = (),
    filters: object = None,
    comment: str | None = None,
    index_build: str | None = None,
) -> None:
    """Append one verdict to the JSONL file at ``path`` (created, with its folder, when missing).

    ``question`` and ``history`` are checked as for asking (``rag.query.question``; only the last
    :data:`~rag.query.question.HISTORY_TURNS` of the history are kept); ``answer`` is
    ``answer_to_dict(answer)``; ``verdict`` "up" or "down"; ``filters`` None, a ``Filters`` or a dict;
    ``comment`` at most :data:`MAX_COMMENT_CHARS` characters. Raises :class:`FeedbackError` (bad
    argument or the file cannot be written; nothing is written then)."""
    if verdict not in VERDICTS:
        raise FeedbackError(f"verdict must be 'up' or 'down', got {verdict!r}")
    try:
        question = clean_question(question)
        history = _history(history)
    except QuestionError as e:
        raise FeedbackError(f"cannot record feedback: {e}") from None
    answer = _check_answer(answer)
    if index_build is not None and not isinstance(index_build, str):
        raise FeedbackError(f"index_build must be text or None, got {type(index_build).__name__}")
    entry = {
        "time": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "verdict": verdict,
        "question": question,
        "history": history,
        "filters": _check_filters(filters),
        "answer": answer,
        "citations": _citations(answer),
        "comment": _check_comment(comment),
        "app_version": app_version(),
        "index_build": index_build,
        "shortened": False,
    }
    _append(Path(path), _fitted(entry))


def _append(path: Path, line: bytes) -> None:
    """Write ``line`` at the end of ``path``: one ``write`` under a thread lock and an exclusive flock."""
    if path.is_dir():
        raise FeedbackError(f"the feedback file {path} is a folder; give a file name")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with _LOCK:
            fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                size = os.fstat(fd).st_size
                if size and os.pread(fd, 1, size - 1) != b"\n":
                    line = b"\n" + line  # close a line a crash left unfinished: it is reported, not merged
                written = os.write(fd, line)
                while written < len(line):  # a short write (rare): the rest, still under the lock
                    written += os.write(fd, line[written:])
                os.fsync(fd)
            finally:
                os.close(fd)  # releases the flock
    except OSError as e:
        raise FeedbackError(f"cannot write feedback to {path}: {e.strerror or e}") from None


@dataclasses.dataclass(frozen=True)
class FeedbackEntry:
    """One verdict read back: its line number, and the fields of :data:`ENTRY_KEYS` that matter."""

    line: int
    verdict: str
    question: str
    time: str | None
    history: tuple[str, ...]
    filters: dict | None
    answer: dict
    comment: str | None


def _entry(n: int, raw: bytes) -> FeedbackEntry:
    """The entry of line ``n``; ``ValueError`` saying what is wrong with it."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ValueError(f"not UTF-8 text ({e.reason} at byte {e.start})") from None
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as e:
        raise ValueError(f"not valid JSON ({e.msg} at column {e.colno})") from None
    if not isinstance(obj, dict):
        raise ValueError(f"expected a JSON object, got {type(obj).__name__}")
    verdict, question = obj.get("verdict"), obj.get("question")
    if verdict not in VERDICTS:
        raise ValueError(f"verdict must be 'up' or 'down', got {verdict!r}")
    if not isinstance(question, str) or not question.strip():
        raise ValueError(f"question must be non-empty text, got {question!r}")
    answer = obj.get("answer")
    if not isinstance(answer, dict) or any(k not in answer for k in _ANSWER_NEEDS):
        raise ValueError("answer must be an answer object (with answer, sentences, confidence, abstained)")
    history = obj.get("history") or []
    if not isinstance(history, list) or not all(isinstance(h, str) for h in history):
        raise ValueError("history must be a list of texts")
    filters = obj.get("filters")
    if filters is not None and not isinstance(filters, dict):
        raise ValueError(f"filters must be an object or null, got {type(filters).__name__}")
    comment = obj.get("comment")
    time = obj.get("time")
    return FeedbackEntry(
        line=n,
        verdict=verdict,
        question=question,
        time=time if isinstance(time, str) else None,
        history=tuple(history),
        filters=filters or None,
        answer=answer,
        comment=comment if isinstance(comment, str) and comment.strip() else None,
    )


def read_feedback(path: str | os.PathLike[str]) -> tuple[list[FeedbackEntry], list[str]]:
    """(the entries of a feedback file in file order, one problem per bad line: "line N: ...").

    Blank lines are skipped silently, bad ones with a problem; a missing or unreadable file raises
    :class:`FeedbackError`."""
    path = Path(path)
    if not path.exists():
        raise FeedbackError(
            f"the feedback file {path} does not exist (the chat writes feedback.jsonl in the index "
            "folder when an answer gets 👍 or 👎)"
        )
    if not path.is_file():
        raise FeedbackError(f"the feedback file {path} is not a file")
    try:
        data = path.read_bytes()
    except OSError as e:
        raise FeedbackError(f"cannot read {path}: {e.strerror or e}") from None
    entries: list[FeedbackEntry] = []
    problems: list[str] = []
    for n, raw in enumerate(data.split(b"\n"), 1):
        if not raw.strip():
            continue
        try:
            entries.append(_entry(n, raw.rstrip(b"\r")))
        except ValueError as e:
            problems.append(f"line {n}: {e}")
    return entries, problems
