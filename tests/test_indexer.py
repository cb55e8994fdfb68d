"""Incremental, safe index builds (rag.index.indexer), on the fake embedder."""

from __future__ import annotations

import json
import logging
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from rag.errors import IndexCorruptError, IndexWriteError, RagError
from rag.index import ingest, store
from rag.index.embed import FakeEmbedder
from rag.index.indexer import build_index, pending_changes
from rag.index.store import Index, current_build

from .conftest import SEED_DIR

NEW_ARTICLE = """Venice opens new lagoon barrier museum

VENICE, March 3 (Example Wire) - Venice opened a museum about its MOSE flood barrier on Tuesday.
The museum shows how 78 mobile gates protect the lagoon from high tides.
Officials expect 200,000 visitors in the first year.
"""


def _texts(index: Index, article_id: str) -> set[str]:
    chunks = {c.text for c in index.chunks if c.article_id == article_id}
    sentences = {index.sentences[i].text for i in index.sentence_ids(article_id)}
    return chunks | sentences


def test_build_indexes_seed_articles_with_exact_offsets(settings, fake_embedder):
    report = build_index(settings, embedder=fake_embedder)
    assert report.wrote and report.added == 5 and not report.errors
    index = Index.open(settings.index_dir, model_id=fake_embedder.model_id)
    assert len(index.articles) == 5
    assert sorted(a.language for a in index.articles.values()) == ["de", "en", "en", "en", "en"]
    for chunk in index.chunks:
        assert index.articles[chunk.article_id].text[chunk.start : chunk.end] == chunk.text
    for s in index.sentences:
        assert index.articles[s.article_id].text[s.start : s.end] == s.text
    assert index.chunk_vectors.shape == (len(index.chunks), fake_embedder.dim)
    assert index.sentence_vectors.shape == (len(index.sentences), fake_embedder.dim)
    manifest = index.manifest
    assert manifest["model"] == {"id": "fake-64", "dim": 64, "max_tokens": fake_embedder.max_tokens}
    assert manifest["chunking"]["max_tokens"] == settings.chunk_tokens
    assert manifest["counts"]["articles"] == 5


def test_rebuild_without_changes_embeds_and_writes_nothing(settings):
    build_index(settings, embedder=FakeEmbedder())
    before = current_build(settings.index_dir)
    again = FakeEmbedder()
    report = build_index(settings, embedder=again)
    assert not report.wrote and report.unchanged == 5 and report.embedded == 0
    assert again.texts_embedded == 0
    assert current_build(settings.index_dir) == before


def test_adding_one_article_embeds_only_that_article(settings):
    build_index(settings, embedder=FakeEmbedder())
    (settings.articles_dir / "venice.txt").write_text(NEW_ARTICLE, encoding="utf-8")
    emb = FakeEmbedder()
    report = build_index(settings, embedder=emb)
    assert (report.added, report.updated, report.removed, report.unchanged) == (1, 0, 0, 5)
    index = Index.open(settings.index_dir)
    new = next(a for a in index.articles.values() if a.location == "venice.txt")
    assert emb.texts_embedded == len(_texts(index, new.id)) == report.embedded
    assert len(index.articles) == 6


def test_editing_one_article_reembeds_only_its_changed_text(settings):
    build_index(settings, embedder=FakeEmbedder())
    path = settings.articles_dir / "2026-01-19-yonhap-lee-meloni-trade.txt"
    text = path.read_text(encoding="utf-8")
    path.write_text(
        text.replace(
            "The two nations established formal diplomatic ties in 1956.",
            "The two nations established formal diplomatic ties in 1884.",
        ),
        encoding="utf-8",
    )
    old = Index.open(settings.index_dir)
    emb = FakeEmbedder()
    report = build_index(settings, embedder=emb)
    assert (report.added, report.updated, report.removed, report.unchanged) == (0, 1, 0, 4)
    new = Index.open(settings.index_dir)
    edited = next(a for a in new.articles.values() if a.location == path.name)
    old_texts = set().union(*(_texts(old, a) for a in old.articles))
    changed = _texts(new, edited.id) - old_texts
    assert changed, "the edit must change at least one sentence and one chunk"
    assert emb.texts_embedded == len(changed)
    assert "1884" in edited.text and "1956" not in edited.text


def test_deleting_one_article_removes_it_and_embeds_nothing(settings):
    build_index(settings, embedder=FakeEmbedder())
    (settings.articles_dir / "korea-herald-2023-yoon-mattarella-summit.txt").unlink()
    emb = FakeEmbedder()
    report = build_index(settings, embedder=emb)
    assert (report.added, report.updated, report.removed, report.unchanged) == (0, 0, 1, 4)
    assert emb.texts_embedded == 0
    index = Index.open(settings.index_dir)
    assert len(index.articles) == 4
    assert not any("Mattarella" in c.text and "Yoon" in c.text for c in index.chunks)


def test_same_article_saved_twice_is_stored_once(settings):
    src = settings.articles_dir / "2026-01-19-ajp-lee-meloni-mous.txt"
    shutil.copy(src, settings.articles_dir / "copy-of-ajp.txt")
    build_index(settings, embedder=FakeEmbedder())
    index = Index.open(settings.index_dir)
    assert len(index.articles) == 5
    holders = {rel for rel, _aid, _loc in index.source_articles}
    assert {"copy-of-ajp.txt", src.name} <= holders


def test_chunking_change_reembeds_only_changed_chunks(settings):
    build_index(settings, embedder=FakeEmbedder())
    old = Index.open(settings.index_dir)
    smaller = settings.with_(chunk_tokens=60, chunk_overlap=0)
    emb = FakeEmbedder()
    build_index(smaller, embedder=emb)
    new = Index.open(smaller.index_dir)
    known = {c.text for c in old.chunks} | {s.text for s in old.sentences}
    new_texts = {c.text for c in new.chunks} - known
    assert emb.texts_embedded == len(new_texts) > 0
    assert new.manifest["chunking"]["max_tokens"] == 60
    assert all(c.n_tokens <= 60 for c in new.chunks if c.text.count(" ") > 1)


def test_full_rebuild_reads_everything_again(settings):
    build_index(settings, embedder=FakeEmbedder())
    report = build_index(settings, full=True, embedder=FakeEmbedder())
    assert report.wrote and report.added == 5 and report.embedded == 0  # vectors come from the cache


def test_bad_files_are_reported_and_the_rest_indexed(settings):
    d = settings.articles_dir
    (d / "empty.txt").write_text("", encoding="utf-8")
    (d / "binary.txt").write_bytes(b"\x00\x01\x02binary\x00")
    (d / "latin1.txt").write_bytes("Caf\xe9 au lait est une boisson.".encode("latin-1"))
    (d / "feed.jsonl").write_text(
        json.dumps({"title": "Good one", "text": "Rome hosted a conference on lagoon science on Monday."})
        + "\n"
        + "{not json\n"
        + json.dumps({"title": "No text"})
        + "\n",
        encoding="utf-8",
    )
    report = build_index(settings, embedder=FakeEmbedder())
    messages = "\n".join(str(e) for e in report.errors)
    assert "empty.txt" in messages and "binary.txt" in messages and "latin1.txt" in messages
    assert "feed.jsonl" in messages and "line 2" in messages and "line 3" in messages
    index = Index.open(settings.index_dir)
    assert len(index.articles) == 6  # five seeds + the good feed line
    assert any(a.title == "Good one" for a in index.articles.values())


def test_article_that_turns_bad_keeps_its_indexed_version(settings):
    build_index(settings, embedder=FakeEmbedder())
    path = settings.articles_dir / "2026-01-19-yonhap-lee-meloni-trade.txt"
    path.write_bytes(b"")
    report = build_index(settings, embedder=FakeEmbedder())
    assert any(path.name in str(e) for e in report.errors)
    index = Index.open(settings.index_dir)
    assert len(index.articles) == 5
    assert any("1956" in a.text for a in index.articles.values())


def test_missing_articles_folder_is_a_clear_error(settings, tmp_path):
    with pytest.raises(RagError, match="does not exist"):
        build_index(settings.with_(articles_dir=tmp_path / "nope"), embedder=FakeEmbedder())


def test_pending_changes_lists_new_changed_and_removed_files(settings):
    build_index(settings, embedder=FakeEmbedder())
    (settings.articles_dir / "venice.txt").write_text(NEW_ARTICLE, encoding="utf-8")
    (settings.articles_dir / "korea-herald-2023-yoon-mattarella-summit.txt").unlink()
    with open(settings.articles_dir / "2026-01-19-ajp-lee-meloni-mous.txt", "a", encoding="utf-8") as f:
        f.write("\nLee and Meloni also discussed tourism.\n")
    pending, errors = pending_changes(settings)
    assert not errors
    assert pending["added"] == ["venice.txt"]
    assert pending["removed"] == ["korea-herald-2023-yoon-mattarella-summit.txt"]
    assert pending["updated"] == ["2026-01-19-ajp-lee-meloni-mous.txt"]


def test_damaged_previous_index_is_rebuilt_from_scratch(settings):
    build_index(settings, embedder=FakeEmbedder())
    folder = Path(settings.index_dir) / "builds" / current_build(settings.index_dir)
    (folder / "chunks.faiss").write_bytes(b"garbage")
    (settings.articles_dir / "venice.txt").write_text(NEW_ARTICLE, encoding="utf-8")
    report = build_index(settings, embedder=FakeEmbedder())
    assert report.wrote and any("damaged" in n for n in report.notes)
    assert len(Index.open(settings.index_dir).articles) == 6


def test_file_that_becomes_unreadable_keeps_its_indexed_version(settings, monkeypatch):
    # chmod 000 does not stop root, so make hashing this one file fail as it does for other users.
    build_index(settings, embedder=FakeEmbedder())
    locked = settings.articles_dir / "2026-01-19-yonhap-lee-meloni-trade.txt"
    real_hash = ingest._hash_file

    def hash_file(path):
        if Path(path) == locked:
            raise PermissionError(13, "Permission denied", str(path))
        return real_hash(path)

    monkeypatch.setattr(ingest, "_hash_file", hash_file)
    pending, errors = pending_changes(settings)
    assert pending["removed"] == [] and [e.location for e in errors] == [locked.name]
    report = build_index(settings, embedder=FakeEmbedder())
    assert report.removed == 0
    assert any("permission denied" in str(e) for e in report.errors)
    assert not report.wrote  # nothing else changed: the indexed version stays, nothing is rebuilt
    index = Index.open(settings.index_dir)
    assert len(index.articles) == 5 and locked.name in index.sources
    (settings.articles_dir / "venice.txt").write_text(NEW_ARTICLE, encoding="utf-8")
    report = build_index(settings, embedder=FakeEmbedder())
    assert report.wrote and report.removed == 0 and any("keeping the version" in n for n in report.notes)
    index = Index.open(settings.index_dir)
    assert len(index.articles) == 6 and any("1956" in a.text for a in index.articles.values())


def _overwrite_middle(path: Path) -> None:
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 8] = bytes(255 - b for b in data[middle : middle + 8])
    path.write_bytes(bytes(data))


def test_damaged_index_is_noticed_by_status_and_repaired_by_index(settings, capsys):
    from rag import cli

    build_index(settings, embedder=FakeEmbedder())
    folder = Path(settings.index_dir) / "builds" / current_build(settings.index_dir)
    _overwrite_middle(folder / "chunks.faiss")  # same size, readable, wrong
    argv = [str(settings.articles_dir), "--index", str(settings.index_dir), "--model", "fake"]
    assert cli.main(["status", *argv]) == 0
    out = capsys.readouterr().out
    assert "chunks.faiss is damaged" in out and "up to date" not in out and "rag index --full" in out
    report = build_index(settings, embedder=FakeEmbedder())
    assert report.wrote and any("damaged" in n for n in report.notes)
    assert report.embedded == 0  # every vector came back from the embedding cache
    assert len(Index.open(settings.index_dir).articles) == 5
    assert cli.main(["status", *argv]) == 0
    assert "up to date" in capsys.readouterr().out


def test_manifest_without_checksums_is_refused(settings):
    build_index(settings, embedder=FakeEmbedder())
    path = Path(settings.index_dir) / "builds" / current_build(settings.index_dir) / "manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    del manifest["files"]
    path.write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(IndexCorruptError, match="lists no checksums"):
        Index.open(settings.index_dir)
    report = build_index(settings, embedder=FakeEmbedder())
    assert report.wrote and Index.open(settings.index_dir).manifest["files"]


def test_damaged_vector_in_the_embedding_cache_is_embedded_again(settings):
    build_index(settings, embedder=FakeEmbedder())
    good = Index.open(settings.index_dir)
    cache = sqlite3.connect(settings.index_dir / "cache" / "embeddings.sqlite")
    key, blob = cache.execute("SELECT key, vector FROM vectors LIMIT 1").fetchone()
    damaged = bytearray(blob)
    damaged[0:4] = b"\xff\xff\x7f\x7f"  # one component becomes 3.4e38
    cache.execute("UPDATE vectors SET vector = ? WHERE key = ?", (bytes(damaged), key))
    cache.commit()
    cache.close()
    report = build_index(settings, full=True, embedder=FakeEmbedder())
    assert report.embedded == 1
    rebuilt = Index.open(settings.index_dir)
    assert np.allclose(rebuilt.chunk_vectors, good.chunk_vectors)
    assert np.allclose(rebuilt.sentence_vectors, good.sentence_vectors)


@pytest.mark.parametrize("where", ["vectors", "cache"])
def test_disk_full_is_a_clear_error_and_keeps_the_index(settings, monkeypatch, where):
    import faiss

    build_index(settings, embedder=FakeEmbedder())
    before = current_build(settings.index_dir)
    (settings.articles_dir / "venice.txt").write_text(NEW_ARTICLE, encoding="utf-8")
    if where == "vectors":

        def full(*args, **kwargs):
            raise RuntimeError("Error in faiss::FileIOWriter: 'ret == (n)' failed: write error")

        monkeypatch.setattr(faiss, "write_index", full)
    else:
        real_open = store.EmbeddingCache._open

        class FullDisk:  # an sqlite3 connection whose writes fail as on a full disk
            def __init__(self, con):
                self.con = con

            def __getattr__(self, name):
                return getattr(self.con, name)

            def executemany(self, *args):
                raise sqlite3.OperationalError("database or disk is full")

        monkeypatch.setattr(
            store.EmbeddingCache, "_open", classmethod(lambda cls, path: FullDisk(real_open(path)))
        )
    with pytest.raises(IndexWriteError, match="the index in use is unchanged") as err:
        build_index(settings, embedder=FakeEmbedder())
    assert "rag index" in str(err.value)
    assert current_build(settings.index_dir) == before
    assert not list((settings.index_dir / "builds").glob(".tmp-*"))
    assert len(Index.open(settings.index_dir).articles) == 5


@pytest.fixture(scope="module")
def real_seed_index(tmp_path_factory):
    from rag.config import Settings
    from rag.index.embed import load_embedder

    tmp = tmp_path_factory.mktemp("real-seed")
    s = Settings(articles_dir=SEED_DIR, index_dir=tmp / "index")  # the default multilingual model
    embedder = load_embedder(s)
    build_index(s, embedder=embedder)
    return Index.open(s.index_dir, model_id=embedder.model_id), embedder


@pytest.mark.model
@pytest.mark.parametrize(
    "question",
    [
        "Which tourist attractions will get Korean audio guides?",
        "Wo sollen koreanische Audioguides eingeführt werden?",
    ],
)
def test_english_and_german_questions_retrieve_the_german_article(real_seed_index, question):
    """Only the German seed article mentions Korean audio guides."""
    index, embedder = real_seed_index
    german = next(a for a in index.articles.values() if a.language == "de")
    assert "Audioguides" in german.text
    assert sum("audio" in a.text.lower() for a in index.articles.values()) == 1
    top = index.search(embedder.embed_queries([question])[0], k=1)
    assert index.chunks[top[0][0]].article_id == german.id
    assert "Audioguides" in index.chunks[top[0][0]].text


def test_default_folders_are_those_of_the_current_folder(tmp_path, monkeypatch, capsys):
    from rag import cli
    from rag.config import Settings

    monkeypatch.chdir(tmp_path)
    for var in ("RAG_ARTICLES_DIR", "RAG_INDEX_DIR"):
        monkeypatch.delenv(var, raising=False)
    assert Settings().articles_dir == tmp_path / "articles" and Settings().index_dir == tmp_path / "index"
    assert (
        "default: ./articles"
        in cli.build_parser()._subparsers._group_actions[0].choices["index"].format_help()
    )
    (tmp_path / "articles").mkdir()
    (tmp_path / "articles" / "venice.txt").write_text(NEW_ARTICLE, encoding="utf-8")
    assert cli.main(["status", "--model", "fake"]) == 0
    out = capsys.readouterr().out
    assert f"index: {tmp_path / 'index'}" in out and f"articles folder: {tmp_path / 'articles'}" in out
    assert "added    venice.txt" in out


def test_long_stages_report_progress_in_the_log_when_not_in_a_terminal(settings, caplog, monkeypatch):
    from rag.index import indexer

    monkeypatch.setattr(indexer, "LOG_EVERY", 0.0)
    big = "Venice lagoon report\n\n" + "".join(
        f"Gate {i} of the barrier rose {i % 7 + 1} times in week {i}. "
        f"Engineers logged {i * 3} litres of water at station {i}.\n"
        for i in range(12000)
    )
    (settings.articles_dir / "big.txt").write_text(big, encoding="utf-8")
    with caplog.at_level(logging.INFO, logger="rag.progress"):
        build_index(settings, embedder=FakeEmbedder(), progress=False)
    lines = [r.getMessage() for r in caplog.records if r.name == "rag.progress"]
    assert any(line.startswith("reading big.txt (1.") and line.endswith(" MB)") for line in lines)
    assert any(line.startswith("sentences and chunks: ") for line in lines)
    assert any(line.startswith("embedding: ") and "left" in line for line in lines)
    assert lines[-1].startswith("embedding: done in ")


@pytest.mark.parametrize("verbose", [False, True])
def test_the_cli_shows_progress_lines_without_verbose(verbose):
    script = (
        "import logging; from rag.cli import configure_logging; "
        f"configure_logging({verbose}); "
        "logging.getLogger('rag.progress').info('embedding: 10 of 20 texts'); "
        "logging.getLogger('rag.index.indexer').info('a detail')"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert "embedding: 10 of 20 texts" in done.stderr
    assert ("a detail" in done.stderr) == verbose
