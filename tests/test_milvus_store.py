"""The index on Milvus (rag.index.milvus) against the default FAISS store, on the fake embedder:
the same builds, the same incremental updates, the same answers; a killed rebuild leaves the
previous build in use; two app replicas on one Milvus server follow one ``rag index``.

Milvus runs as Milvus Lite (from PyPI): embedded in the test process for a ``.db`` folder, and as
a server started by the tests (``milvus-lite server``) for the replicas.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from rag import cli
from rag.config import Settings
from rag.errors import ConfigError, IndexCorruptError, IndexMissingError, RagError
from rag.index import milvus
from rag.index.embed import FakeEmbedder
from rag.index.indexer import build_index, pending_changes
from rag.index.store import open_store
from rag.query.pipeline import Pipeline

from .conftest import PROJECT_DIR
from .test_indexer import NEW_ARTICLE

pytest.importorskip("pymilvus", reason="the Milvus store needs pip install -e '.[scale]'")


@pytest.fixture(autouse=True)
def _close_milvus():
    yield
    milvus.close_clients()


@pytest.fixture(params=["faiss", "milvus"])
def stored(request, settings: Settings, tmp_path: Path) -> Settings:
    """The seed settings on each store."""
    if request.param == "milvus":
        return settings.with_(store=str(tmp_path / "milvus.db"))
    return settings


def _same_index(a, b) -> None:
    assert a.articles == b.articles
    assert a.sentences == b.sentences and a.chunks == b.chunks
    assert np.array_equal(a.chunk_vectors, b.chunk_vectors)
    assert np.array_equal(a.sentence_vectors, b.sentence_vectors)
    assert a.sources == b.sources and a.source_articles == b.source_articles


def test_both_stores_hold_the_same_build(settings, tmp_path):
    on_milvus = settings.with_(store=str(tmp_path / "milvus.db"))
    build_index(settings, embedder=FakeEmbedder())
    build_index(on_milvus, embedder=FakeEmbedder())
    faiss_index = open_store(settings).open(model_id="fake-64")
    milvus_index = open_store(on_milvus).open(model_id="fake-64")
    _same_index(faiss_index, milvus_index)
    assert milvus_index.build_id.startswith("b") and milvus_index.manifest["store"]["kind"] == "milvus"
    assert milvus_index.manifest["counts"] == faiss_index.manifest["counts"]
    names = milvus.MilvusStore(on_milvus.store, on_milvus.index_dir).client.list_collections()
    assert {n.rsplit("__", 1)[-1] for n in names if n.startswith("rag_index__b2")} == set(milvus.PARTS)


def test_long_article_text_is_stored_in_parts_and_read_back_whole(settings, tmp_path):
    words = " ".join(
        f"Sentence {i} of a very long report says the port moved {i} containers." for i in range(900)
    )
    (settings.articles_dir / "long.txt").write_text("A long report\n\n" + words, encoding="utf-8")
    on_milvus = settings.with_(store=str(tmp_path / "milvus.db"))
    build_index(on_milvus, embedder=FakeEmbedder())
    index = open_store(on_milvus).open()
    article = next(a for a in index.articles.values() if a.location == "long.txt")
    assert len(article.text) > 3 * milvus.TEXT_PART and article.text.endswith("899 containers.")
    assert index.manifest["rows"]["texts"] > len(index.articles)


def test_incremental_updates_keep_their_meaning_on_both_stores(stored):
    build_index(stored, embedder=FakeEmbedder())
    store = open_store(stored)
    first = store.current()
    again = FakeEmbedder()
    report = build_index(stored, embedder=again)
    assert not report.wrote and again.texts_embedded == 0 and store.current() == first

    (stored.articles_dir / "venice.txt").write_text(NEW_ARTICLE, encoding="utf-8")
    assert pending_changes(stored)[0]["added"] == ["venice.txt"]
    emb = FakeEmbedder()
    report = build_index(stored, embedder=emb)
    assert (report.added, report.removed, report.unchanged) == (1, 0, 5)
    index = store.open()
    assert len(index.articles) == 6 and 0 < emb.texts_embedded < 20

    (stored.articles_dir / "korea-herald-2023-yoon-mattarella-summit.txt").unlink()
    emb = FakeEmbedder()
    report = build_index(stored, embedder=emb)
    assert report.removed == 1 and emb.texts_embedded == 0
    index = store.open()
    assert len(index.articles) == 5 and "venice.txt" in index.sources
    assert "korea-herald-2023-yoon-mattarella-summit.txt" not in index.sources


def test_old_builds_are_dropped_and_two_kept(settings, tmp_path):
    on_milvus = settings.with_(store=str(tmp_path / "milvus.db"))
    for i in range(4):
        (settings.articles_dir / f"extra-{i}.txt").write_text(
            NEW_ARTICLE.replace("78", str(i)), encoding="utf-8"
        )
        build_index(on_milvus, embedder=FakeEmbedder())
    store = open_store(on_milvus)
    complete, by_build = store._builds()
    assert len(complete) == 2 and set(by_build) == set(complete) and store.current() == complete[-1]


def test_answers_are_the_same_on_both_stores(settings, tmp_path, fake_reader):
    on_milvus = settings.with_(store=str(tmp_path / "milvus.db"))
    build_index(settings, embedder=FakeEmbedder())
    build_index(on_milvus, embedder=FakeEmbedder())
    pipelines = [
        Pipeline.from_settings(s, embedder=FakeEmbedder(), reader=fake_reader) for s in (settings, on_milvus)
    ]
    for question in ("How many MOUs were signed?", "Wann trafen sich Lee und Meloni?", "Who visited Seoul?"):
        hits = [[(h.chunk.text, round(h.score, 6)) for h in p.retrieve(question)] for p in pipelines]
        assert hits[0] == hits[1]
        answers = [p.ask(question) for p in pipelines]
        assert [s.citation for s in answers[0].sentences] == [s.citation for s in answers[1].sentences]


def test_status_names_the_store_and_notices_a_missing_collection(settings, tmp_path, capsys):
    on_milvus = settings.with_(store=str(tmp_path / "milvus.db"))
    argv = [str(settings.articles_dir), "--index", str(settings.index_dir), "--model", "fake"]
    argv += ["--store", on_milvus.store]
    assert cli.main(["status", *argv]) == 0
    assert "no index in Milvus" in capsys.readouterr().out
    build_index(on_milvus, embedder=FakeEmbedder())
    assert cli.main(["status", "--json", *argv]) == 0
    out = json.loads(capsys.readouterr().out)
    assert (
        out["index"].startswith("Milvus ")
        and out["indexed"]["articles"] == 5
        and out["pending"]["added"] == []
    )
    store = open_store(on_milvus)
    store.client.drop_collection(store.collection(store.current(), "sentences"))
    with pytest.raises(IndexCorruptError, match="sentences is missing"):
        store.manifest()
    assert cli.main(["status", *argv]) == 0
    assert "rag index --full" in capsys.readouterr().out
    report = build_index(on_milvus, embedder=FakeEmbedder())
    assert report.wrote and report.embedded == 0  # vectors from the embedding cache
    assert len(store.open().sentences) > 0


def test_store_setting_is_checked(tmp_path, monkeypatch):
    assert Settings(store="FAISS").store == "faiss"
    assert Settings(store="http://milvus.example:19530/").store == "http://milvus.example:19530"
    assert Settings(store=str(tmp_path / "x.db")).store == str(tmp_path / "x.db")
    for bad in ("", "milvus", "ftp://host", "http://", "index/milvus", ".db"):
        with pytest.raises(ConfigError, match="Milvus URI"):
            Settings(store=bad)
    monkeypatch.setenv("RAG_STORE", "nonsense")
    with pytest.raises(ConfigError, match="got 'nonsense'"):
        Settings.from_env()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_milvus_and_a_folder_in_use_are_clear_errors(settings, tmp_path):
    gone = settings.with_(store=f"http://127.0.0.1:{free_port()}")
    t0 = time.monotonic()
    with pytest.raises(RagError, match="cannot reach Milvus at http://127.0.0.1"):
        open_store(gone).current()
    assert time.monotonic() - t0 < 40
    folder = tmp_path / "busy.db"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"from pymilvus import MilvusClient; MilvusClient(uri={str(folder)!r}); "
            "print('open', flush=True); import time; time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "open"
        busy = settings.with_(store=str(folder))
        with pytest.raises(RagError, match="open in another process.*milvus-lite server"):
            open_store(busy).current()
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "rag.cli",
                "status",
                "--index",
                str(settings.index_dir),
                "--store",
                str(folder),
            ],
            capture_output=True,
            text=True,
            cwd=settings.articles_dir.parent,
            timeout=120,
        )
        assert "Traceback" not in proc.stderr and "open in another process" in proc.stdout + proc.stderr
    finally:
        holder.kill()
        holder.wait()


KILL_SCRIPT = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from rag.config import Settings
    from rag.index import milvus
    from rag.index.embed import FakeEmbedder
    from rag.index.indexer import build_index

    articles, index, store, marker, stage = sys.argv[1:6]
    marker = Path(marker)

    def pause():
        marker.touch()
        time.sleep(60)

    class SlowFake(FakeEmbedder):
        def _embed(self, texts, kind):
            if stage == "embedding":
                pause()
            return super()._embed(texts, kind)

    if stage == "writing":  # half the new build's collections written
        real_insert = milvus.MilvusStore._insert
        def insert(self, collection, rows):
            if collection.endswith("__articles"):
                pause()
            return real_insert(self, collection, rows)
        milvus.MilvusStore._insert = insert
    elif stage == "swapping":  # the new build complete, CURRENT not yet replaced
        real_set = milvus.MilvusStore._set_current
        def set_current(self, name):
            pause()
            return real_set(self, name)
        milvus.MilvusStore._set_current = set_current
    s = Settings(articles_dir=articles, index_dir=index, model="fake", store=store)
    build_index(s, embedder=SlowFake(), full=True)
    print("finished")
    """
)


@pytest.mark.parametrize("stage", ["embedding", "writing", "swapping"])
def test_killed_milvus_rebuild_leaves_the_previous_build_answering(settings, tmp_path, stage):
    on_milvus = settings.with_(store=str(tmp_path / "milvus.db"))
    build_index(on_milvus, embedder=FakeEmbedder())
    before = open_store(on_milvus).open()
    milvus.close_clients()  # Milvus Lite: one process at a time
    (settings.articles_dir / "venice.txt").write_text(NEW_ARTICLE, encoding="utf-8")
    script, marker = tmp_path / "slow_build.py", tmp_path / "stage-reached"
    script.write_text(KILL_SCRIPT)
    env = dict(os.environ, PYTHONPATH=str(PROJECT_DIR))
    args = [str(settings.articles_dir), str(settings.index_dir), on_milvus.store, str(marker), stage]
    proc = subprocess.Popen(
        [sys.executable, str(script), *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    deadline = time.time() + 90
    while not marker.exists() and proc.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    assert proc.poll() is None, "the rebuild ended before it could be killed: " + proc.stderr.read().decode()
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    assert b"finished" not in proc.stdout.read()

    ask = subprocess.run(
        [
            sys.executable,
            "-m",
            "rag.cli",
            "ask",
            "How many MOUs were signed?",
            "--json",
            "--threshold",
            "0",
            "--index",
            str(settings.index_dir),
            "--store",
            on_milvus.store,
            "--model",
            "fake",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert ask.returncode == 0, ask.stderr
    answer = json.loads(ask.stdout)
    quoted = [s["citation"]["location"] for s in answer["sentences"]]
    assert quoted and "venice.txt" not in quoted
    after = open_store(on_milvus).open()
    assert after.build_id == before.build_id and after.articles == before.articles

    report = build_index(on_milvus, embedder=FakeEmbedder())  # the next build succeeds
    assert report.wrote and report.added == 1 and len(open_store(on_milvus).open().articles) == 6


def test_missing_index_on_milvus_says_what_to_run(settings, tmp_path):
    with pytest.raises(IndexMissingError, match="rag index"):
        open_store(settings.with_(store=str(tmp_path / "milvus.db"))).open()


FERRY = """Ferry line opens between Mokpo and Jeju

Published: 2026-02-03

The new ferry line between Mokpo and Jeju, opened on Tuesday, carries 1,240 passengers a day, \
the operator said. Tickets are sold at both ports.
"""


def _wait_for_port(port: int, proc: subprocess.Popen, what: str, seconds: float = 120) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        assert proc.poll() is None, f"{what} exited: " + (proc.stderr.read() if proc.stderr else "")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise AssertionError(f"{what} did not listen on {port} within {seconds} s")


def start_milvus_server(data_dir: Path, port: int) -> subprocess.Popen:
    """A Milvus Lite server (``milvus-lite server``, from PyPI) on ``port``: Milvus over http, as a
    cluster would serve it. The caller waits for its port and stops it."""
    command = [
        sys.executable,
        "-m",
        "milvus_lite",
        "server",
        "--data-dir",
        str(data_dir),
        "--port",
        str(port),
    ]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def test_two_app_replicas_on_one_milvus_follow_one_rag_index(settings, tmp_path):
    from gradio_client import Client

    env = dict(os.environ, PYTHONPATH=str(PROJECT_DIR))
    milvus_port = free_port()
    server = start_milvus_server(tmp_path / "milvus-data", milvus_port)
    apps: list[subprocess.Popen] = []
    try:
        _wait_for_port(milvus_port, server, "milvus-lite server")
        uri = f"http://127.0.0.1:{milvus_port}"
        common = ["--index", str(settings.index_dir), "--store", uri, "--model", "fake"]
        index = [
            sys.executable,
            "-m",
            "rag.cli",
            "index",
            str(settings.articles_dir),
            "--no-progress",
            *common,
        ]
        first = subprocess.run(index, env=env, capture_output=True, text=True, timeout=300)
        assert first.returncode == 0 and "added 5" in first.stdout, first.stderr
        ports = [free_port(), free_port()]
        for port in ports:
            apps.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        str(PROJECT_DIR / "app.py"),
                        "--port",
                        str(port),
                        "--no-update",
                        "--articles",
                        str(settings.articles_dir),
                        *common,
                    ],
                    env=env,
                    cwd=tmp_path,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.PIPE,
                    text=True,
                )
            )
        for port, app in zip(ports, apps, strict=True):
            _wait_for_port(port, app, "app.py")
        clients = [Client(f"http://127.0.0.1:{port}", verbose=False) for port in ports]
        question = "How many passengers does the Mokpo Jeju ferry carry a day?"

        def cited(client) -> set[str]:
            answer = client.predict(question, api_name="/ask")
            assert "error" not in answer, answer
            parts = [s["citation"] for s in answer["sentences"]] + answer["closest"] + answer["also_reported"]
            return {c["location"] for c in parts}

        assert all("ferry.txt" not in cited(c) for c in clients)
        (settings.articles_dir / "ferry.txt").write_text(FERRY, encoding="utf-8")
        again = subprocess.run(index, env=env, capture_output=True, text=True, timeout=300)
        assert again.returncode == 0 and "added 1" in again.stdout, again.stderr
        deadline = time.time() + 60
        seen = [False, False]
        while not all(seen) and time.time() < deadline:
            seen = [seen[i] or "ferry.txt" in cited(c) for i, c in enumerate(clients)]
            time.sleep(0.5)
        assert seen == [True, True], "both replicas serve the new build without a restart"
        assert all(app.poll() is None for app in apps)
    finally:
        for proc in [*apps, server]:
            proc.terminate()
        for proc in [*apps, server]:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()


def test_a_replica_keeps_answering_when_milvus_goes_down(settings, tmp_path, fake_reader):
    milvus_port = free_port()
    server = start_milvus_server(tmp_path / "data", milvus_port)
    try:
        _wait_for_port(milvus_port, server, "milvus-lite server")
        remote = settings.with_(store=f"http://127.0.0.1:{milvus_port}")
        build_index(remote, embedder=FakeEmbedder())
        pipeline = Pipeline.from_settings(remote, embedder=FakeEmbedder(), reader=fake_reader)
        assert not pipeline.reload_if_changed()
    finally:
        server.kill()
        server.wait()
    time.sleep(milvus.POLL_SECONDS + 0.1)
    t0 = time.monotonic()
    assert not pipeline.reload_if_changed()  # Milvus is gone: the build held in memory stays
    answer = pipeline.ask("How many MOUs were signed?")
    assert answer.hits and time.monotonic() - t0 < milvus.ASK_TIMEOUT + 30
    t1 = time.monotonic()
    pipeline.reload_if_changed()  # not asked again for a while: no wait
    assert time.monotonic() - t1 < 1
    with pytest.raises(RagError, match="Milvus at http://127.0.0.1"):
        open_store(remote).manifest()  # rag status and rag index are told
