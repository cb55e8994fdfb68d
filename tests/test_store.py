"""The on-disk index (rag.index.store): refusal of mismatches, corruption reports, crash safety."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from rag.errors import IndexCorruptError, IndexMismatchError, IndexMissingError
from rag.index.embed import FakeEmbedder
from rag.index.indexer import build_index
from rag.index.store import BUILDS, Index, current_build

from .conftest import PROJECT_DIR


def _build_folder(index_dir: Path) -> Path:
    return Path(index_dir) / BUILDS / current_build(index_dir)


def test_missing_index_says_what_to_run(tmp_path):
    with pytest.raises(IndexMissingError, match="rag index"):
        Index.open(tmp_path / "index")


def test_index_of_another_model_is_refused(settings):
    build_index(settings, embedder=FakeEmbedder())
    with pytest.raises(IndexMismatchError) as err:
        Index.open(settings.index_dir, model_id="multilingual-e5-small@abc")
    message = str(err.value)
    assert "fake-64" in message and "multilingual-e5-small@abc" in message and "rag index" in message


def test_index_of_another_format_is_refused(settings):
    build_index(settings, embedder=FakeEmbedder())
    manifest_path = _build_folder(settings.index_dir) / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["format_version"] = 99
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(IndexMismatchError, match="format version 99.*rag index --full"):
        Index.open(settings.index_dir)


@pytest.mark.parametrize("damage", ["truncate_faiss", "garbage_sqlite", "delete_sentences", "bad_manifest"])
def test_damaged_index_is_reported_clearly(settings, damage):
    build_index(settings, embedder=FakeEmbedder())
    folder = _build_folder(settings.index_dir)
    if damage == "truncate_faiss":
        data = (folder / "chunks.faiss").read_bytes()
        (folder / "chunks.faiss").write_bytes(data[: len(data) // 2])
    elif damage == "garbage_sqlite":
        (folder / "index.sqlite").write_bytes(b"SQLite format 3\x00" + b"\xff" * 5000)
    elif damage == "delete_sentences":
        (folder / "sentences.faiss").unlink()
    else:
        (folder / "manifest.json").write_text("{ not json")
    with pytest.raises(IndexCorruptError, match="rag index --full"):
        Index.open(settings.index_dir)


def test_damaged_records_fail_the_checksum_even_if_readable(settings):
    build_index(settings, embedder=FakeEmbedder())
    db = sqlite3.connect(_build_folder(settings.index_dir) / "index.sqlite")
    db.execute("UPDATE chunks SET text = 'tampered' WHERE id = 0")
    db.commit()
    db.close()
    with pytest.raises(IndexCorruptError, match="checksum"):
        Index.open(settings.index_dir)


KILL_SCRIPT = textwrap.dedent(
    """
    import os, signal, sys, time
    from pathlib import Path
    import rag.index.store

    # A shell that starts a job in the background (`cmd &`) makes it ignore SIGINT, and children inherit
    # that: restore Ctrl-C's KeyboardInterrupt so the SIGINT case tests what a user's Ctrl-C does.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    from rag.config import Settings
    from rag.index.embed import FakeEmbedder
    from rag.index.indexer import build_index

    articles, index, marker, stage = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]), sys.argv[4]

    def pause_then(real):
        def wrapper(*args, **kwargs):
            marker.touch()
            time.sleep(30)
            return real(*args, **kwargs)
        return wrapper

    class SlowFake(FakeEmbedder):
        def _embed(self, texts, kind):
            if stage == "embedding":
                marker.touch()
                time.sleep(0.02 * len(texts))
            return super()._embed(texts, kind)

    if stage == "writing":  # files of the new build half written
        import faiss
        faiss.write_index = pause_then(faiss.write_index)
    elif stage == "swapping":  # new build complete, CURRENT not yet replaced
        os.replace = pause_then(os.replace)

    s = Settings(articles_dir=articles, index_dir=index, model="fake", chunk_tokens=40, chunk_overlap=0)
    build_index(s, embedder=SlowFake(), full=True)
    print("finished")
    """
)


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT])
@pytest.mark.parametrize("stage", ["embedding", "writing", "swapping"])
def test_killed_rebuild_leaves_previous_index_complete(settings, tmp_path, sig, stage):
    build_index(settings, embedder=FakeEmbedder())
    before = Index.open(settings.index_dir)
    before_build = before.build_id
    marker = tmp_path / "stage-reached"
    script = tmp_path / "slow_build.py"
    script.write_text(KILL_SCRIPT)
    # Give the rebuild new text to embed, so there is work in every stage.
    for i in range(3):
        (settings.articles_dir / f"extra-{i}.txt").write_text(
            f"Extra article {i}\n\n"
            + " ".join(f"Sentence {j} of extra article {i} says something new." for j in range(40)),
            encoding="utf-8",
        )
    env = dict(os.environ, PYTHONPATH=str(PROJECT_DIR))
    proc = subprocess.Popen(
        [
            sys.executable,
            str(script),
            str(settings.articles_dir),
            str(settings.index_dir),
            str(marker),
            stage,
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.time() + 60
    while not marker.exists() and proc.poll() is None and time.time() < deadline:
        time.sleep(0.01)
    time.sleep(0.2)
    assert proc.poll() is None, "the rebuild ended before it could be killed: " + proc.stderr.read().decode()
    proc.send_signal(sig)
    proc.wait(timeout=60)
    assert b"finished" not in proc.stdout.read()

    after = Index.open(settings.index_dir)  # complete and loadable
    assert after.build_id == before_build
    assert {a.id for a in after.articles.values()} == {a.id for a in before.articles.values()}
    assert len(after.chunks) == len(before.chunks)

    # The next build clears the leftovers and succeeds.
    report = build_index(settings, embedder=FakeEmbedder())
    assert report.wrote and report.added == 3
    assert not [p for p in (Path(settings.index_dir) / BUILDS).iterdir() if p.name.startswith(".tmp-")]
    assert len(Index.open(settings.index_dir).articles) == 8
