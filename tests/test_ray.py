"""The Ray executor of ``rag index --ray`` (rag.index.distributed), on a local Ray of 2 workers
started once for the file, with the fake embedder: it must give what the plain functions give."""

from __future__ import annotations

import random
import shutil
import time
from dataclasses import replace

import numpy as np
import pytest

from rag.config import Settings
from rag.errors import ConfigError, RagError
from rag.index import distributed, ingest
from rag.index.distributed import Prepared, RayExecutor, prepare_source
from rag.index.embed import FakeEmbedder

from .conftest import SEED_DIR

# Ray Data reads its own deprecated settings when it copies its context.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:ray.data.context")

FEED = (
    '{"title": "Seoul hosts the summit", "text": "Leaders met in Seoul. They signed three agreements."}\n'
    "not json at all\n"
)


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The seed articles and three bad or half-bad files: a binary .txt, an empty .md and a feed
    with one good line and one malformed line."""
    root = tmp_path_factory.mktemp("ray")
    articles = root / "articles"
    shutil.copytree(SEED_DIR, articles)
    (articles / "binary.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 20)
    (articles / "empty.md").write_bytes(b"")
    (articles / "feed.jsonl").write_text(FEED, encoding="utf-8")
    return Settings(articles_dir=articles, index_dir=root / "index", cache_dir=root / "cache", model="fake")


@pytest.fixture(scope="module")
def executor(settings: Settings):
    with RayExecutor(settings, workers=2) as ex:
        yield ex


@pytest.fixture(scope="module")
def sources(settings: Settings) -> list[ingest.SourceFile]:
    """Every file of the folder, in an order that is not the folder's, to see it kept."""
    found, errors = ingest.scan_folder(settings.articles_dir)
    assert not errors and len(found) == 8
    return random.Random(7).sample(found, len(found))


@pytest.fixture(scope="module")
def prepared(executor: RayExecutor, sources: list[ingest.SourceFile]) -> list[Prepared]:
    return executor.read(sources)


def _errors(p: Prepared) -> list[tuple[str, str]]:
    return [(e.location, e.reason) for e in p.errors]


def test_read_gives_what_the_plain_functions_give_for_every_file(prepared, sources, settings):
    assert [p.source for p in prepared] == sources  # the order of the sources
    seed = {p.name for p in SEED_DIR.iterdir()}
    for p in prepared:
        plain = prepare_source(p.source, settings)
        assert p.articles == plain.articles
        assert p.sentences == plain.sentences
        assert p.chunks == plain.chunks
        assert _errors(p) == _errors(plain)
        if p.source.relpath in seed:
            assert len(p.articles) == 1 and not p.errors
            assert set(p.sentences) == set(p.chunks) == {p.articles[0].id}
            assert p.chunks[p.articles[0].id] and p.sentences[p.articles[0].id]


def test_read_matches_load_source_split_sentences_and_chunk_sentences(prepared):
    from rag.index.chunking import chunk_sentences
    from rag.index.sentences import split_sentences
    from rag.index.tokens import count_tokens, get_encoding

    enc = get_encoding("cl100k_base")
    for p in prepared:
        articles, errors = ingest.load_source(p.source)
        assert p.articles == articles
        for a in articles:
            sents = split_sentences(a.id, a.text, a.language, a.furniture)
            assert p.sentences[a.id] == sents
            assert p.chunks[a.id] == chunk_sentences(
                a.id,
                a.text,
                sents,
                max_tokens=400,
                overlap_tokens=40,
                count=lambda t: count_tokens(t, enc),
                furniture=a.furniture,
            )


def test_a_bad_file_comes_back_as_an_error_not_an_exception(prepared):
    by_name = {p.source.relpath: p for p in prepared}
    binary, empty, feed = by_name["binary.txt"], by_name["empty.md"], by_name["feed.jsonl"]
    assert binary.articles == [] and [e.location for e in binary.errors] == ["binary.txt"]
    assert binary.errors[0].reason.startswith("binary file")
    assert empty.articles == [] and [e.reason[:10] for e in empty.errors] == ["empty file"]
    assert [a.title for a in feed.articles] == ["Seoul hosts the summit"]  # the good line is kept
    assert [e.location for e in feed.errors] == ["feed.jsonl line 2"]
    assert all(isinstance(e, RagError) for p in prepared for e in p.errors)


def test_reading_prints_nothing(executor, sources, capfd):
    capfd.readouterr()
    assert len(executor.read(sources[:2])) == 2
    assert capfd.readouterr() == ("", "")


def test_a_bug_on_a_worker_is_raised_here_as_the_plain_path_raises_it(executor, settings):
    src = ingest.SourceFile("nul.txt", settings.articles_dir / "nul\0.txt", "0" * 64, 10)
    with pytest.raises(ValueError, match="null byte") as plain:
        prepare_source(src, settings)  # open() refuses the name: not a bad file, a bug
    with pytest.raises(ValueError, match="null byte") as remote:
        executor.read([src])
    assert any("raised on a Ray worker while reading nul.txt" in n for n in remote.value.__notes__)
    assert type(remote.value) is type(plain.value)


def test_read_of_no_files_is_empty(executor):
    assert executor.read([]) == []


def test_embed_equals_the_fake_embedder_keeps_the_order_and_prints_nothing(
    executor, prepared, monkeypatch, capfd
):
    texts = [c.text for p in prepared for cs in p.chunks.values() for c in cs]
    texts += [s.text for p in prepared for ss in p.sentences.values() for s in ss]
    random.Random(3).shuffle(texts)
    monkeypatch.setattr(distributed, "BLOCK_TEXTS", 16)  # many blocks, over both actors, in any order
    capfd.readouterr()
    vectors = executor.embed(texts)
    assert capfd.readouterr() == ("", "")
    assert vectors.dtype == np.float32 and vectors.shape == (len(texts), 64)
    assert np.allclose(vectors, FakeEmbedder().embed_documents(texts), atol=1e-6)


def test_embed_of_no_texts_has_the_model_dimension(executor):
    empty = executor.embed([])
    assert empty.shape == (0, 64) and empty.dtype == np.float32
    assert executor.dim == 64


def test_a_missing_model_is_a_rag_error_before_any_actor_starts(executor, settings):
    from rag.errors import ModelError

    with RayExecutor(replace(settings, model="/no/such/model")) as other:  # joins the Ray started above
        with pytest.raises(ModelError, match="not available offline"):
            other.embed(["a text"])


@pytest.mark.parametrize("address", ["127.0.0.1:1", "ray://127.0.0.1:1"])
def test_an_unreachable_address_is_a_rag_error_at_once(settings, address):
    t0 = time.monotonic()
    with pytest.raises(RagError) as err:
        RayExecutor(settings, address=address)
    # A guard, not a timing: Ray itself waits minutes for an address where nothing answers.
    assert time.monotonic() - t0 < 30
    message = str(err.value)
    assert "127.0.0.1:1" in message and "ray start --head" in message and "\n" not in message


@pytest.mark.parametrize("workers", [0, -1, 1.5, True])
def test_workers_must_be_a_whole_number_of_at_least_one(settings, workers):
    with pytest.raises(ConfigError, match="at least 1"):
        RayExecutor(settings, workers=workers)


def test_rag_index_on_ray_into_milvus_gives_the_plain_build_and_updates_it(
    executor, settings, tmp_path, capsys
):
    pytest.importorskip("pymilvus", reason="the Milvus store needs pip install -e '.[scale]'")
    from rag import cli
    from rag.index import milvus
    from rag.index.indexer import build_index
    from rag.index.store import open_store

    articles = tmp_path / "articles"
    shutil.copytree(SEED_DIR, articles)
    plain = replace(settings, articles_dir=articles, index_dir=tmp_path / "plain")
    on_ray = replace(plain, index_dir=tmp_path / "ray", store=str(tmp_path / "milvus.db"))
    try:
        build_index(plain, embedder=FakeEmbedder())
        report = build_index(on_ray, embedder=FakeEmbedder(), executor=executor)
        assert report.wrote and report.added == 5 and report.embedded > 0
        a, b = open_store(plain).open(), open_store(on_ray).open()
        assert a.articles == b.articles and a.sentences == b.sentences and a.chunks == b.chunks
        assert np.allclose(a.chunk_vectors, b.chunk_vectors) and np.allclose(
            a.sentence_vectors, b.sentence_vectors
        )
        assert a.sources == b.sources

        (articles / "ferry.txt").write_text(
            "Ferry line opens\n\nThe new ferry line between Mokpo and Jeju carries 1,240 passengers a day.\n",
            encoding="utf-8",
        )
        milvus.close_clients()  # the command below opens the Milvus Lite folder itself
        argv = ["index", str(articles), "--index", str(on_ray.index_dir), "--store", on_ray.store]
        assert cli.main([*argv, "--model", "fake", "--ray", "--no-progress"]) == 0
        out = capsys.readouterr().out
        assert "added 1, updated 0, removed 0, unchanged 5" in out
        assert len(open_store(on_ray).open().articles) == 6
        # Nothing new: no Ray is started and no cluster reached, even at an address where none answers.
        milvus.close_clients()
        assert cli.main([*argv, "--model", "fake", "--ray", "127.0.0.1:1", "--no-progress"]) == 0
        assert "index already up to date" in capsys.readouterr().out
    finally:
        milvus.close_clients()


def test_close_shuts_down_the_local_ray(executor):
    import ray

    assert ray.is_initialized()
    executor.close()
    assert not ray.is_initialized()
    executor.close()  # a second close does nothing
