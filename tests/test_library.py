"""Adding and removing articles from the browser, without a browser: uploads checked by the code
``rag index`` reads files with (same messages), saved only inside the articles folder and never
over a file; removal into the index's trash; the list of indexed articles; the upload token; and
the panel's handlers (a wrong token changes nothing, a bad upload leaves the index build as it was).

Runs on the fake embedder and the fake reader over a temporary copy of the seed articles.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from rag.index.indexer import build_index
from rag.index.store import current_build, read_manifest
from rag.present import library, manage
from rag.present.library import MAX_UPLOAD_BYTES, MAX_UPLOAD_FILES, save_uploads
from rag.present.render import nice_date

FERRY = "Ferry line opens\n\nThe new ferry between Mokpo and Jeju carries 1,240 passengers a day.\n"
GOOD_FEED = json.dumps({"title": "Bridge opens", "text": "The new bridge carries 9,000 cars a day."})


def upload(tmp_path: Path, name: str, data: bytes | str) -> tuple[str, str]:
    """An upload as Gradio hands it over: the original name and a temporary file."""
    folder = (
        tmp_path
        / "uploads"
        / str(len(list((tmp_path / "uploads").glob("*"))) if (tmp_path / "uploads").exists() else 0)
    )
    folder.mkdir(parents=True)
    path = folder / "upload.bin"
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return name, str(path)


def tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def articles(tmp_path: Path) -> Path:
    folder = tmp_path / "box" / "articles"
    folder.mkdir(parents=True)
    (folder / "old.txt").write_text(FERRY, encoding="utf-8")
    return folder


# ---------------------------------------------------------------------------
# save_uploads


def test_good_files_of_every_type_are_saved_as_they_were_sent(tmp_path, articles):
    html = (
        "<html><head><title>Harbour opens</title></head><body><p>"
        + "The harbour opened. " * 5
        + "</p></body></html>"
    )
    files = [
        upload(tmp_path, "ferry-2.txt", FERRY.replace("1,240", "1,300")),
        upload(tmp_path, "notes.md", "# Market day\n\nThe **market** sold 400 melons on Sunday."),
        upload(tmp_path, "page.html", html),
        upload(tmp_path, "feed.jsonl", GOOD_FEED + "\n"),
    ]
    result = save_uploads(files, articles)
    assert result.refused == []
    assert result.added == ["ferry-2.txt", "notes.md", "page.html", "feed.jsonl"]
    assert result.articles == 4
    for name, temp in files:
        assert (articles / name).read_bytes() == Path(temp).read_bytes()
    assert not [p for p in articles.iterdir() if p.name.startswith(".")]  # no temporary file left
    assert result.summary() == "Added 4 file(s) (4 article(s))."


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        (
            "photo.txt",
            b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
            "binary file (NUL byte at offset 8); expected UTF-8 text",
        ),
        ("empty.txt", b"", "empty file (0 bytes)"),
        ("blank.md", b"  \n\n ", "contains only whitespace"),
        (
            "latin1.txt",
            "Café au lait".encode("latin-1"),
            "not UTF-8 text: byte 0xe9 at offset 3 cannot be decoded",
        ),
        (
            "bad.jsonl",
            b'{"title": "A", "text": "Some text about the harbour."}\n{"title": "B", "text": \n',
            "line 2: not valid JSON (Expecting value at column 24) (the other 1 line(s) are fine",
        ),
        ("notitle.jsonl", b'{"text": "Some text about the harbour and more."}\n', "line 1: missing 'title'"),
        ("image.png", b"\x89PNG", "unsupported file type .png; supported: .txt, .md, .html, .htm, .jsonl"),
        ("noext", b"text", "unsupported file type (no extension)"),
        ("tiny.txt", b"Hi.", "too little text after removing page debris (only 2 letters"),
        ("README.md", b"# About\n\nThese are the articles of the harbour.", "describes the folder"),
    ],
)
def test_a_bad_file_is_refused_with_the_message_of_rag_index(tmp_path, articles, name, data, reason):
    before = tree(articles)
    result = save_uploads([upload(tmp_path, name, data)], articles)
    assert result.added == [] and len(result.refused) == 1
    refused = result.refused[0]
    assert refused.name == name and reason in refused.reason, refused
    assert tree(articles) == before


def test_the_messages_are_those_rag_index_prints(tmp_path, articles, settings, seed_dir, fake_embedder):
    """The same bad files put in the folder by hand: ``rag index`` skips them with the same words."""
    bad = {"empty.txt": b"", "photo.txt": b"ab\x00cd", "bad.jsonl": b'{"title": "A", "text": "x\n'}
    result = save_uploads([upload(tmp_path, n, d) for n, d in bad.items()], articles)
    for name, data in bad.items():
        (seed_dir / name).write_bytes(data)
    report = build_index(settings, embedder=fake_embedder)
    assert sorted(f"skipped {r}" for r in result.refused) == sorted(report.problems())


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("../../x.txt", "folder part"),
        ("../x.txt", "folder part"),
        ("a/b.txt", "folder part"),
        ("/etc/x.txt", "folder part"),
        ("a\\b.txt", "folder part"),
        ("..", "folder part"),
        ("x\x00.txt", "control characters"),
        ("x\n.txt", "control characters"),
        ("x\u202e.txt", "control characters"),
        (".hidden.txt", "hidden file name"),
        (" x.txt", "starts or ends with a space"),
        ("x" * 250 + ".txt", "the name is too long (254 bytes; at most 200)"),
        ("", "has no name"),
        ("\udcff.txt", "not valid UTF-8"),
    ],
)
def test_a_name_that_is_not_a_plain_file_name_is_refused(tmp_path, articles, name, reason):
    outside = tree(tmp_path)
    result = save_uploads([upload(tmp_path, name, FERRY)], articles)
    assert result.added == [] and reason in result.refused[0].reason
    written = set(tree(tmp_path)) - set(outside)
    assert all(p.startswith("uploads/") for p in written)  # only the upload itself


def test_an_existing_file_is_never_overwritten(tmp_path, articles):
    before = (articles / "old.txt").read_bytes()
    result = save_uploads([upload(tmp_path, "old.txt", FERRY.replace("1,240", "9"))], articles)
    assert str(result.refused[0]) == (
        "old.txt: old.txt already exists in the articles folder; remove it first or rename the file"
    )
    assert (articles / "old.txt").read_bytes() == before
    # Twice the same name in one upload: the first is saved, the second refused.
    result = save_uploads(
        [upload(tmp_path, "n.txt", FERRY), upload(tmp_path, "n.txt", "Other " + FERRY)], articles
    )
    assert result.added == ["n.txt"] and "already exists" in result.refused[0].reason
    assert (articles / "n.txt").read_text(encoding="utf-8") == FERRY


def test_a_link_with_the_name_is_not_followed(tmp_path, articles):
    target = tmp_path / "outside.txt"
    (articles / "link.txt").symlink_to(target)  # dangling: writing through it would create outside.txt
    result = save_uploads([upload(tmp_path, "link.txt", FERRY)], articles)
    assert "already exists" in result.refused[0].reason and not target.exists()


def test_limits_on_size_and_count(tmp_path, articles):
    big = upload(tmp_path, "big.txt", b"a" * (MAX_UPLOAD_BYTES + 1))
    result = save_uploads([big, upload(tmp_path, "ok.txt", FERRY)], articles)
    assert result.added == ["ok.txt"]
    assert result.refused[0].reason == (
        f"file too large ({MAX_UPLOAD_BYTES + 1:,} bytes; at most {MAX_UPLOAD_BYTES:,} per upload)"
    )
    many = [upload(tmp_path, f"n{i}.txt", FERRY) for i in range(MAX_UPLOAD_FILES + 1)]
    before = tree(articles)
    result = save_uploads(many, articles)
    assert result.added == [] and len(result.refused) == MAX_UPLOAD_FILES + 1
    assert (
        f"too many files at once ({MAX_UPLOAD_FILES + 1}; at most {MAX_UPLOAD_FILES})"
        in result.refused[0].reason
    )
    assert tree(articles) == before


def test_limits_are_stated():
    text = library.limits_text()
    assert f"{MAX_UPLOAD_FILES} files" in text and "10 MB" in text and ".jsonl" in text


# ---------------------------------------------------------------------------
# The token


@pytest.mark.parametrize(
    ("host", "flag", "env", "share", "expected"),
    [
        ("127.0.0.1", None, {}, False, None),
        ("localhost", None, {}, False, None),
        ("::1", None, {}, False, None),
        ("127.0.0.1", "given", {}, False, "given"),
        ("0.0.0.0", "given", {"RAG_TOKEN": "env"}, False, "given"),
        ("0.0.0.0", None, {"RAG_TOKEN": "env"}, False, "env"),
        ("192.168.1.5", None, {"RAG_TOKEN": "  "}, False, "random"),
        ("127.0.0.1", None, {}, True, "random"),
    ],
)
def test_the_token_is_needed_off_the_loopback_address(host, flag, env, share, expected):
    token, made_up = library.resolve_token(host, flag, env, share=share)
    if expected == "random":
        assert made_up and token and len(token) >= 20
        assert library.resolve_token(host, flag, env, share=share)[0] != token
    else:
        assert token == expected and not made_up


def test_token_check():
    assert library.token_ok(None, None) and library.token_ok(None, "anything")
    assert library.token_ok("s3cret", "s3cret") and library.token_ok("s3cret", " s3cret ")
    assert not any(library.token_ok("s3cret", g) for g in (None, "", "s3cre", "s3cret!", 1, ["s3cret"]))


# ---------------------------------------------------------------------------
# The index: list, panel handlers, removal


@pytest.fixture
def pipeline(settings, fake_embedder, fake_reader):
    from rag.query.pipeline import Pipeline

    build_index(settings, embedder=fake_embedder)
    return Pipeline.from_settings(settings, embedder=fake_embedder, reader=fake_reader)


def test_indexed_articles_lists_title_outlet_date_language_and_file(pipeline):
    rows = library.indexed_articles(pipeline)
    assert len(rows) == 5 and [r.relpath for r in rows] == sorted(pipeline.index.sources)
    for r in rows:
        a = pipeline.index.articles[r.article_id]
        assert r.outlet == (a.source or "unknown") and r.language == a.language
        assert (a.title_kind == "headline") == (not r.title.endswith(("(no headline)", "(file name)")))
        if a.published:  # as precise as known: "19 January 2026", "January 2026", "2023"
            assert r.date == nice_date(a.published) and r.date.endswith(a.published[:4])
        else:
            assert r.date == "unknown"
    shown = manage.table_rows(pipeline)
    assert {row[3] for row in shown} <= {"English", "German", "Korean", "unknown"}


def test_add_files_saves_indexes_and_serves_the_new_article(pipeline, settings, tmp_path):
    build = pipeline.index.build_id
    files = [upload(tmp_path, "ferry.txt", FERRY), upload(tmp_path, "empty.txt", b"")]
    outcome = manage.add_files(pipeline, settings, files, None, token=None)
    assert outcome.changed and outcome.level == "warning"  # one file refused
    assert "Added 1 file(s) (1 article(s)); refused 1. The index is updated." == outcome.notice
    assert "empty.txt: empty file (0 bytes)" in outcome.html and "ferry.txt" in outcome.html
    assert pipeline.index.build_id != build and "ferry.txt" in pipeline.index.sources
    assert any("1,240 passengers" in a.text for a in pipeline.index.articles.values())


def test_a_wrong_token_changes_nothing(pipeline, settings, tmp_path):
    before, build = tree(settings.articles_dir), current_build(settings.index_dir)
    for given in (None, "", "nope"):
        outcome = manage.add_files(
            pipeline, settings, [upload(tmp_path, "ferry.txt", FERRY)], given, token="s3cret"
        )
        assert outcome.level == "warning" and outcome.notice == library.TOKEN_REFUSED and not outcome.changed
        outcome = manage.remove_file(
            pipeline, settings, "korea-herald-2023-yoon-mattarella-summit.txt", given, token="s3cret"
        )
        assert outcome.notice == library.TOKEN_REFUSED
    assert tree(settings.articles_dir) == before and current_build(settings.index_dir) == build
    ok = manage.add_files(
        pipeline, settings, [upload(tmp_path, "ferry.txt", FERRY)], "s3cret", token="s3cret"
    )
    assert ok.changed and "ferry.txt" in pipeline.index.sources


def test_bad_uploads_leave_the_folder_and_the_index_build_unchanged(pipeline, settings, tmp_path):
    folder, manifest = read_manifest(settings.index_dir)
    before, outside = tree(settings.articles_dir), tree(tmp_path)
    bad = [
        upload(tmp_path, "photo.txt", b"\x89PNG\r\n\x1a\n\x00\x00"),
        upload(tmp_path, "empty.txt", b""),
        upload(tmp_path, "big.txt", b"word " * (50 * 1024 * 1024 // 5)),
        upload(tmp_path, "feed.jsonl", b'{"title": "A", "text": "unterminated\n'),
        upload(tmp_path, "../../x.txt", FERRY),
    ]
    outcome = manage.add_files(pipeline, settings, bad, None, token=None)
    assert outcome.level == "warning" and not outcome.changed
    assert outcome.notice == "No file added; refused 5."
    for words in (
        "binary file",
        "empty file (0 bytes)",
        "file too large",
        "line 1: not valid JSON",
        "folder part",
    ):
        assert words in outcome.html
    assert tree(settings.articles_dir) == before
    assert set(tree(tmp_path)) - set(outside) <= {p for p in tree(tmp_path) if p.startswith("uploads/")}
    assert not (tmp_path.parent / "x.txt").exists() and not (settings.articles_dir.parent / "x.txt").exists()
    assert read_manifest(settings.index_dir) == (folder, manifest)


def test_remove_moves_the_file_to_the_trash_and_updates_the_index(pipeline, settings):
    rel = "korea-herald-2023-yoon-mattarella-summit.txt"
    data = (settings.articles_dir / rel).read_bytes()
    outcome = manage.remove_file(pipeline, settings, rel, None, token=None)
    assert outcome.changed and outcome.level == "info", outcome
    assert not (settings.articles_dir / rel).exists() and rel not in pipeline.index.sources
    moved = list((settings.index_dir / "removed").rglob(rel))
    assert len(moved) == 1 and moved[0].read_bytes() == data and str(moved[0]) in outcome.notice
    assert len(pipeline.index.articles) == 4


@pytest.mark.parametrize("rel", ["../outside.txt", "nothere.txt", "/etc/passwd", "", None])
def test_remove_only_files_the_index_lists(pipeline, settings, rel):
    (settings.articles_dir.parent / "outside.txt").write_text(FERRY, encoding="utf-8")
    before, build = tree(settings.articles_dir.parent), current_build(settings.index_dir)
    outcome = manage.remove_file(pipeline, settings, rel, None, token=None)
    assert outcome.level == "warning" and not outcome.changed
    assert tree(settings.articles_dir.parent) == before and current_build(settings.index_dir) == build


def test_remove_article_refuses_a_link_and_a_path_out_of_the_folder(tmp_path, articles):
    (tmp_path / "secret.txt").write_text("secret", encoding="utf-8")
    (articles / "link.txt").symlink_to(tmp_path / "secret.txt")
    trash = tmp_path / "trash"
    for rel in ("link.txt", "../secret.txt"):
        with pytest.raises(Exception, match="nothing was removed"):
            library.remove_article(rel, articles, trash, {rel})
    assert (tmp_path / "secret.txt").exists() and os.path.islink(articles / "link.txt")
    dest = library.remove_article("old.txt#L1", articles, trash, {"old.txt"})
    assert dest.read_text(encoding="utf-8") == FERRY and dest.is_relative_to(trash)


def test_update_index_is_gated_by_the_token(pipeline, settings):
    from rag.present import chat

    calls: list[int] = []
    app = chat.build_app(pipeline, settings, token="s3cret")
    assert app is not None
    panel = manage.ArticlesPanel(token=None, expected="s3cret")  # the check build_app wires to "Update index"
    gated = panel.gate(lambda: calls.append(1) or "ran")
    with pytest.warns(UserWarning, match="Wrong or missing upload token"):
        skipped = gated("wrong")
    assert calls == [] and skipped == manage.gr.skip()
    assert gated("s3cret") == "ran" and calls == [1]
    assert manage.ArticlesPanel(token=None, expected=None).gate(lambda: "open")("") == "open"


@pytest.mark.parametrize(
    ("flags", "env", "printed"),
    [
        ((), None, None),
        (("--host", "0.0.0.0"), None, "random"),
        (("--host", "0.0.0.0", "--token", "given-token"), None, "given-token"),
        (("--host", "0.0.0.0"), "env-token", "env-token"),
        (("--share",), None, "random"),
    ],
)
def test_app_prints_and_passes_the_token(
    monkeypatch, settings, tmp_path, capsys, no_real_reader, flags, env, printed
):
    import socket

    import app
    from rag.present import chat

    monkeypatch.setenv("RAG_CACHE_DIR", str(tmp_path / "cache"))
    if env:
        monkeypatch.setenv("RAG_TOKEN", env)
    else:
        monkeypatch.delenv("RAG_TOKEN", raising=False)
    monkeypatch.setattr(app, "configure_logging", lambda verbose: None)
    seen: dict = {}
    monkeypatch.setattr(chat, "build_app", lambda pipeline, settings_, **kw: seen.update(kw) or object())
    monkeypatch.setattr(chat, "launch", lambda served, **kw: served)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    argv = ["--articles", str(settings.articles_dir), "--index", str(settings.index_dir), "--model", "fake"]
    assert app.main([*argv, "--port", str(port), "--no-update", *flags]) == 0
    out = capsys.readouterr().out
    if printed is None:
        assert seen["token"] is None and "upload token" not in out
    elif printed == "random":
        assert len(seen["token"]) >= 20 and f"upload token: {seen['token']}" in out
    else:
        assert seen["token"] == printed and printed not in out and "upload token: the one set by" in out


def test_the_drop_zone_hands_over_the_names_the_browser_gave():
    from gradio.data_classes import FileData, ListFiles

    one = FileData(path="/tmp/gradio/abc/x.txt", orig_name="../../x.txt")
    assert manage.named_files(one) == [("../../x.txt", "/tmp/gradio/abc/x.txt")]
    two = ListFiles(root=[one, FileData(path="/tmp/gradio/def/y.md")])
    assert manage.named_files(two) == [
        ("../../x.txt", "/tmp/gradio/abc/x.txt"),
        ("y.md", "/tmp/gradio/def/y.md"),
    ]
    assert manage.named_files(None) == []
