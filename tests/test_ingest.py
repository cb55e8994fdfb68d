"""rag.index.ingest: scanning the articles folder and loading each file into Articles."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import pytest

import rag.index.ingest as ingest
from rag.config import PROJECT_DIR
from rag.errors import IngestError, RagError
from rag.index.clean import clean_text
from rag.index.ingest import SUPPORTED, SourceFile, article_id, load_source, markdown_to_text, scan_folder

ARTICLES = PROJECT_DIR / "articles"
SENTENCE = "The foreign ministers met in Rome on Tuesday to discuss trade and security."


def write(folder: Path, rel: str, content: str | bytes) -> Path:
    path = folder / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def source(folder: Path, rel: str, content: str | bytes) -> SourceFile:
    path = write(folder, rel, content)
    data = path.read_bytes()
    return SourceFile(rel, path, hashlib.sha256(data).hexdigest(), len(data))


def one_error(errors: list[IngestError]) -> str:
    assert len(errors) == 1, errors
    assert isinstance(errors[0], RagError)
    return str(errors[0])


# ------------------------------------------------------------------ scan_folder


def test_scan_lists_the_seed_articles_sorted_with_their_hashes():
    sources, errors = scan_folder(ARTICLES)
    assert errors == []
    assert [s.relpath for s in sources] == sorted(p.name for p in ARTICLES.iterdir() if p.suffix == ".txt")
    assert len(sources) == 5
    for s in sources:
        data = (ARTICLES / s.relpath).read_bytes()
        assert s.sha256 == hashlib.sha256(data).hexdigest()
        assert s.size == len(data)
        assert s.path.is_absolute()


def test_scan_recurses_and_skips_hidden_files_and_root_readme(tmp_path):
    write(tmp_path, "README.md", "# About this folder")
    write(tmp_path, "b.txt", SENTENCE)
    write(tmp_path, "a/deeper/c.md", SENTENCE)
    write(tmp_path, "a/README.md", SENTENCE)  # not at the root: an article like any other
    write(tmp_path, ".hidden.txt", SENTENCE)
    write(tmp_path, ".git/config.txt", SENTENCE)
    write(tmp_path, "feed.JSONL", "")
    sources, errors = scan_folder(tmp_path)
    assert errors == []
    assert [s.relpath for s in sources] == ["a/README.md", "a/deeper/c.md", "b.txt", "feed.JSONL"]


def test_scan_reports_unsupported_file_types(tmp_path):
    write(tmp_path, "ok.txt", SENTENCE)
    write(tmp_path, "report.pdf", b"%PDF-1.4")
    write(tmp_path, "notes", SENTENCE)
    sources, errors = scan_folder(tmp_path)
    assert [s.relpath for s in sources] == ["ok.txt"]
    messages = sorted(str(e) for e in errors)
    supported = ", ".join(SUPPORTED)
    assert messages == [
        f"notes: unsupported file type (no extension); supported: {supported}",
        f"report.pdf: unsupported file type .pdf; supported: {supported}",
    ]


def test_scan_reports_an_unreadable_file(tmp_path, monkeypatch):
    # chmod 000 does not stop root from reading, so make opening this one file fail instead.
    write(tmp_path, "ok.txt", SENTENCE)
    locked = write(tmp_path, "locked.txt", SENTENCE)
    real_open = open

    def fake_open(path, *args, **kwargs):
        if Path(path) == locked:
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(ingest, "open", fake_open, raising=False)
    sources, errors = scan_folder(tmp_path)
    assert [s.relpath for s in sources] == ["ok.txt"]
    assert one_error(errors) == "locked.txt: cannot read file: permission denied"


def test_scan_of_missing_folder_raises_one_clear_error(tmp_path):
    with pytest.raises(IngestError, match="articles folder does not exist"):
        scan_folder(tmp_path / "nope")
    write(tmp_path, "file.txt", SENTENCE)
    with pytest.raises(IngestError, match="articles folder is not a directory"):
        scan_folder(tmp_path / "file.txt")


def test_scan_of_fifty_files_finds_them_all(tmp_path):
    text = (ARTICLES / "2026-01-19-ajp-lee-meloni-mous.txt").read_text(encoding="utf-8")
    for i in range(50):
        write(tmp_path, f"{i:02d}.txt", f"{text}\nThis is copy number {i}.\n" * 10)
    sources, errors = scan_folder(tmp_path)
    assert len(sources) == 50 and errors == []


def test_scan_of_an_empty_folder(tmp_path):
    assert scan_folder(tmp_path) == ([], [])


def test_scan_skips_links_that_point_outside_the_folder(tmp_path):
    outside = write(tmp_path, "outside/passwd.txt", "root:x:0:0:root:/root:/bin/bash " + SENTENCE)
    articles = tmp_path / "articles"
    write(articles, "ok.txt", SENTENCE)
    (articles / "passwd.txt").symlink_to(outside)
    (articles / "etc").symlink_to(outside.parent, target_is_directory=True)
    sources, errors = scan_folder(articles)
    assert [s.relpath for s in sources] == ["ok.txt"]
    assert sorted(str(e) for e in errors) == [
        "etc: symbolic link to a folder outside the articles folder; skipped",
        "passwd.txt: symbolic link to a file outside the articles folder; skipped",
    ]


def test_scan_reads_a_link_inside_the_folder_once(tmp_path):
    write(tmp_path, "news/a.txt", SENTENCE)
    (tmp_path / "same.txt").symlink_to(tmp_path / "news" / "a.txt")
    (tmp_path / "again").symlink_to(tmp_path / "news", target_is_directory=True)
    (tmp_path / "loop").symlink_to(tmp_path / "loop")
    sources, errors = scan_folder(tmp_path)
    assert [s.relpath for s in sources] == ["news/a.txt"]
    assert [str(e) for e in errors] == [
        "loop: symbolic link that cannot be followed (a loop or unreadable); skipped"
    ]


def test_scan_reports_a_name_that_is_not_utf8(tmp_path):
    write(tmp_path, "ok.txt", SENTENCE)
    bad = os.fsdecode(b"caf\xe9.txt")
    (tmp_path / bad).write_text(SENTENCE, encoding="utf-8")
    os.makedirs(tmp_path / os.fsdecode(b"dir\xff") / "x")
    (tmp_path / os.fsdecode(b"dir\xff") / "x" / "inner.txt").write_text(SENTENCE, encoding="utf-8")
    sources, errors = scan_folder(tmp_path)
    assert [s.relpath for s in sources] == ["ok.txt"]
    messages = sorted(str(e) for e in errors)
    assert messages == [
        "caf\\xe9.txt: the name is not valid UTF-8 text; rename it to index it",
        "dir\\xff: the name is not valid UTF-8 text; rename it to index it",
    ]
    for m in messages:
        m.encode("utf-8")  # printable, unlike the surrogate escapes of the raw name


def test_scan_of_a_thousand_nested_folders(tmp_path):
    deep = tmp_path
    for _ in range(1000):  # not os.makedirs: it recurses once per level too
        deep = deep / "d"
        deep.mkdir()
    write(deep, "a.txt", SENTENCE)
    try:
        sources, errors = scan_folder(tmp_path)
        assert errors == []
        assert [s.relpath for s in sources] == ["d/" * 1000 + "a.txt"]
    finally:  # shutil.rmtree (pytest's clean-up of old temp folders) recurses once per level too
        (deep / "a.txt").unlink()
        while deep != tmp_path:
            deep.rmdir()
            deep = deep.parent


# ------------------------------------------------------------------ load_source: text files


def test_each_seed_loads_as_one_cleaned_article():
    sources, _ = scan_folder(ARTICLES)
    for src in sources:
        articles, errors = load_source(src)
        assert errors == []
        assert len(articles) == 1
        a = articles[0]
        raw = (ARTICLES / src.relpath).read_text(encoding="utf-8")
        assert a.text == clean_text(raw)
        assert a.id == article_id(a.text)
        assert a.location == src.relpath
        assert a.url is None
        assert a.language == ("de" if src.relpath.endswith(".de.txt") else "en")
        assert a.title


def test_headline_is_the_title_and_part_of_the_text(tmp_path):
    src = source(tmp_path, "a.txt", f"Back To Top\n\nMinisters meet in Rome\n\n{SENTENCE}\nsubscribe\n")
    (a,), errors = load_source(src)
    assert errors == []
    assert a.title == "Ministers meet in Rome"
    assert a.text == f"Ministers meet in Rome\n\n{SENTENCE}"


def test_same_article_saved_twice_gets_one_id(tmp_path):
    (a,), _ = load_source(source(tmp_path, "a.txt", f"Headline here\n{SENTENCE}\n"))
    (b,), _ = load_source(
        source(tmp_path, "sub/b.txt", f"\ufeff  Headline  here \r\n{SENTENCE}\nMOST POPULAR")
    )
    assert a.id == b.id
    assert a.location != b.location


@pytest.mark.parametrize(
    "text, expected",
    [
        ("", "e3b0c44298fc1c14"),
        ("abc", "ba7816bf8f01cfea"),
        ("정상회담 ü 🇰🇷", hashlib.sha256("정상회담 ü 🇰🇷".encode()).hexdigest()[:16]),
        ("x" * 1_000_000, hashlib.sha256(b"x" * 1_000_000).hexdigest()[:16]),
    ],
)
def test_article_id_is_sixteen_hex_of_sha256(text, expected):
    assert article_id(text) == expected
    assert len(article_id(text)) == 16


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "a.txt: empty file (0 bytes)"),
        (b"  \n\n\t \r\n", "a.txt: contains only whitespace"),
        (b"Hello\x00\x01\x02 world", "a.txt: binary file (NUL byte at offset 5); expected UTF-8 text"),
        (
            "Caf\u00e9 au lait is served.".encode("latin-1"),
            "a.txt: not UTF-8 text: byte 0xe9 at offset 3 cannot be decoded; save the file as UTF-8",
        ),
        (
            b"Back To Top\nMOST POPULAR\nsubscribe\n",
            "a.txt: too little text after removing page debris (no text; an article needs at least 10)",
        ),
        (
            b"!!! ??? ...\n---\n",
            "a.txt: too little text after removing page debris (no text; an article needs at least 10)",
        ),
    ],
)
def test_unusable_file_gives_one_specific_error(tmp_path, content, message):
    articles, errors = load_source(source(tmp_path, "a.txt", content))
    assert articles == []
    assert one_error(errors) == message


def test_file_that_vanished_or_is_a_directory_is_reported(tmp_path):
    src = source(tmp_path, "gone.txt", SENTENCE)
    src.path.unlink()
    assert one_error(load_source(src)[1]) == "gone.txt: cannot read file: it no longer exists"
    folder = tmp_path / "x.txt"
    folder.mkdir()
    src = SourceFile("x.txt", folder, "0" * 64, 0)
    assert one_error(load_source(src)[1]) == "x.txt: cannot read file: it is a directory"


@pytest.mark.parametrize("content", [b"\xef\xbb\xbf" + SENTENCE.encode(), SENTENCE.encode("utf-16")])
def test_byte_order_marks_are_honoured(tmp_path, content):
    (a,), errors = load_source(source(tmp_path, "a.txt", content))
    assert errors == []
    assert a.text == SENTENCE


def test_markdown_is_reduced_to_text(tmp_path):
    md = (
        "# Ministers meet in Rome\n\n![photo](img.jpg)\n"
        "The **foreign ministers** met in [Rome](https://example.com/rome) on Tuesday to discuss trade.\n"
        "\n---\n\n> They agreed to meet again in the autumn.\n"
    )
    assert markdown_to_text(md).split("\n")[0] == "Ministers meet in Rome"
    (a,), errors = load_source(source(tmp_path, "a.md", md))
    assert errors == []
    assert a.title == "Ministers meet in Rome"
    assert a.text == (
        "Ministers meet in Rome\n\nThe foreign ministers met in Rome on Tuesday to discuss trade.\n\n"
        "They agreed to meet again in the autumn."
    )


@pytest.mark.parametrize(
    ("md", "text"),
    [
        ("**a **b** c", "**a b c"),  # bold text does not hold its own marker
        ("__a __b__ c", "__a b c"),
        ("x [a [b](https://x.org) y", "x [a b y"),  # link text holds no bracket
        ("x ![a [b](img.jpg) y", "x ![a b y"),
        ("[a](b [c](d) e", "[a](b c e"),  # a link target holds no "]("
        ("see [a](http://h/[1]) and [Foo](https://w.org/Foo_(bar))", "see a and Foo"),
        ("**bold**, __also__, ***both*** and a ** b ** c", "bold, also, *both* and a ** b ** c"),
    ],
)
def test_markdown_marks_end_before_their_own_next_opening(md, text):
    """Each mark's pattern stops where the next one could start, so unclosed marks on a long line
    are not read to the line's end once per mark; nested marks keep the outer one, as CommonMark does."""
    assert markdown_to_text(md) == text


@pytest.mark.parametrize(
    ("md", "text"),
    [
        ("# Title", "Title"),
        ("## Title ##", "Title"),
        ("### Title#", "Title"),
        ("# C# in Seoul", "C# in Seoul"),
        ("# a# ##  ", "a#"),
        ("   # Title \t", "Title"),
        ("# # #", "#"),
        ("#\tTitle  \r\nBody", "Title  \r\nBody"),
        ("####### seven", "####### seven"),
        ("# Seoul" + " " * 300 + "summit ##", "Seoul" + " " * 300 + "summit"),
    ],
)
def test_markdown_heading_marks_are_removed(md, text):
    assert markdown_to_text(md) == text


def test_long_unicode_article_loads(tmp_path):
    text = "\n".join(f"{i}번째 문장: 두 정상은 반도체 협력을 강화하기로 합의했다." for i in range(2000))
    (a,), errors = load_source(source(tmp_path, "ko.txt", text))
    assert errors == [] and a.language == "ko"
    assert a.text.count("\n") == 1999


# ------------------------------------------------------------------ load_source: HTML

PAGE = """<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>Port strike ends after deal - The Coastal Times</title>
<meta property="article:published_time" content="2026-01-19T09:00:00+09:00">
<link rel="canonical" href="https://coastal.example/news/port-strike">
<script>function track(){console.log("SCRIPT TEXT SHOULD VANISH")}</script>
<style>body { color: red }</style></head>
<body><a href="#main">Skip to content</a>
<nav><ul><li><a href="/">Home</a></li><li><a href="/world">World news menu</a></li></ul></nav>
<div class="share">Share this article <a>Facebook</a> <a>Twitter</a></div>
<main id="main"><article><h1>Port strike ends after deal</h1>
<p class="byline">By Jane Doe</p>
<p>Dock workers in the city ended a two-week strike on Friday after union leaders accepted a wage offer.</p>
<p>The agreement raises wages by six percent over two years and adds new safety rules, the union said.</p>
<p>He declined to comment.</p>
<p>Shipping companies said it would take several days to clear the backlog of containers.</p></article></main>
<aside><h2>Related Stories</h2><ul><li><a href="/a">Mayor unveils budget</a></li></ul></aside>
<footer>© 2026 The Coastal Times. All rights reserved. <a href="/privacy">Privacy policy</a></footer>
</body></html>"""


def test_html_is_reduced_to_its_main_text_with_metadata(tmp_path):
    (a,), errors = load_source(source(tmp_path, "page.html", PAGE))
    assert errors == []
    for gone in (
        "SCRIPT",
        "color: red",
        "Skip to content",
        "World news menu",
        "Share this article",
        "Related Stories",
        "Mayor unveils budget",
        "Privacy policy",
        "All rights reserved",
    ):
        assert gone not in a.text, gone
    assert a.text.startswith("Port strike ends after deal\n")
    assert "He declined to comment." in a.text
    assert "the union said." in a.text
    assert a.title == "Port strike ends after deal"
    assert a.published == "2026-01-19"
    assert a.url == "https://coastal.example/news/port-strike"
    assert a.byline == "Jane Doe"
    assert a.language == "en"


def test_html_title_is_put_back_in_front_when_missing_from_the_main_text(tmp_path):
    page = PAGE.replace("<h1>Port strike ends after deal</h1>", "")
    (a,), _ = load_source(source(tmp_path, "page.htm", page))
    assert a.text.startswith("Port strike ends after deal")


def test_html_without_article_text_is_an_error(tmp_path):
    _, errors = load_source(source(tmp_path, "empty.html", "<html><head><script>x()</script></head></html>"))
    assert one_error(errors).startswith("empty.html: ")


def test_html_in_a_declared_legacy_charset_is_decoded(tmp_path):
    page = PAGE.replace('<meta charset="utf-8">', '<meta charset="iso-8859-1">').replace(
        "He declined to comment.", "Der Bürgermeister lehnte jeden Kommentar ab."
    )
    (a,), errors = load_source(source(tmp_path, "page.html", page.encode("latin-1")))
    assert errors == []
    assert "Der Bürgermeister lehnte jeden Kommentar ab." in a.text


# ------------------------------------------------------------------ load_source: JSONL feeds


def feed_line(**fields) -> str:
    return json.dumps(fields, ensure_ascii=False)


def test_jsonl_keeps_good_lines_and_reports_bad_ones_with_line_numbers(tmp_path):
    lines = [
        feed_line(
            title="Ministers meet",
            text=SENTENCE,
            url="https://example.com/a",
            published="2026-01-19T10:00:00Z",
            source="Example News",
            language="en",
        ),
        '{"title": "Broken" "text": "no comma"}',
        feed_line(title="No text here"),
        "",
        "[1, 2, 3]",
        feed_line(title="Gipfel", text="Die Minister trafen sich am Dienstag in Rom zu Gesprächen."),
        feed_line(title="Only debris", text="Back To Top\nsubscribe"),
        feed_line(title=5, text=SENTENCE),
        feed_line(title="Empty", text="   "),
    ]
    articles, errors = load_source(source(tmp_path, "feed.jsonl", "\n".join(lines) + "\n"))
    assert [a.location for a in articles] == ["feed.jsonl#L1", "feed.jsonl#L6"]
    first, second = articles
    assert first.title == "Ministers meet" and first.text == SENTENCE
    assert first.url == "https://example.com/a"
    assert first.published == "2026-01-19"
    assert first.source == "Example News" and first.language == "en"
    assert second.language == "de" and second.url is None
    messages = [str(e) for e in errors]
    assert messages[0].startswith("feed.jsonl line 2: not valid JSON (Expecting ',' delimiter at column")
    assert messages[1:] == [
        "feed.jsonl line 3: missing 'text'",
        'feed.jsonl line 5: not a JSON object (got list); expected {"title": ..., "text": ...}',
        "feed.jsonl line 7: too little text after removing page debris "
        "(no text; an article needs at least 10)",
        "feed.jsonl line 8: 'title' must be a string, got int",
        "feed.jsonl line 9: 'text' is empty",
    ]


def test_jsonl_line_that_is_not_utf8_is_reported_and_others_kept(tmp_path):
    good = feed_line(title="Ministers meet", text=SENTENCE).encode()
    bad = b'{"title": "Caf\xe9", "text": "x"}'
    articles, errors = load_source(source(tmp_path, "feed.jsonl", good + b"\n" + bad + b"\n"))
    assert len(articles) == 1
    assert one_error(errors) == (
        f"feed.jsonl line 2: not UTF-8 text: byte 0xe9 at offset {len(good) + 1 + 14} cannot be decoded"
    )


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "feed.jsonl: empty file (0 bytes)"),
        (b"\n\n  \n", "feed.jsonl: contains only whitespace"),
        (b'{"a": 1}\x00', "feed.jsonl: binary file (NUL byte at offset 8); expected UTF-8 JSON lines"),
    ],
)
def test_unusable_jsonl_file_gives_one_error(tmp_path, content, message):
    articles, errors = load_source(source(tmp_path, "feed.jsonl", content))
    assert articles == []
    assert one_error(errors) == message


def test_identical_feed_lines_share_an_id(tmp_path):
    line = feed_line(title="Ministers meet", text=SENTENCE)
    articles, _ = load_source(source(tmp_path, "feed.jsonl", f"{line}\n{line}\n"))
    assert articles[0].id == articles[1].id
    assert [a.location for a in articles] == ["feed.jsonl#L1", "feed.jsonl#L2"]


def test_whole_seed_folder_copy_round_trips(tmp_path):
    shutil.copytree(ARTICLES, tmp_path / "articles")
    sources, errors = scan_folder(tmp_path / "articles")
    assert errors == []
    ids = {a.id for s in sources for a in load_source(s)[0]}
    assert len(ids) == 5


def test_a_feed_line_with_an_unterminated_string_says_where_it_starts(tmp_path):
    src = source(tmp_path, "feed.jsonl", '{"title": "Rome", "text": "The ministers met\n')
    articles, errors = load_source(src)
    assert articles == []
    expected = "feed.jsonl line 1: not valid JSON (Unterminated string starting at column 27)"
    assert one_error(errors) == expected


def test_markdown_link_targets_with_parentheses_are_removed_whole():
    text = markdown_to_text(
        "See [Seoul](https://en.wikipedia.org/wiki/Seoul_(city)) and ![map](maps/seoul_(2026).png) today. "
        '[Rome](https://x.org/rome "Rome (city)") and [broken](https://x.org/a_(b'
    )
    assert text == "See Seoul and  today. Rome and [broken](https://x.org/a_(b"
