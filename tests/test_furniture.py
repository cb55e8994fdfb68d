"""Furniture (issue 24 point 2): captions, photo credits and datelines are recognised by
``rag.index.clean.clean_article``, kept in the text as ``Article.furniture`` ranges, and never become
sentences, chunks, answers or "Also reported by" citations; bylines and related-article teasers are
recognised and dropped."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from rag.index.chunking import chunk_sentences
from rag.index.clean import clean_article, clean_text, dateline_of, furniture_of_line
from rag.index.ingest import load_source, scan_folder
from rag.index.sentences import split_sentences
from rag.index.store import Index
from rag.types import Article
from tests.conftest import SEED_DIR

PAGES = Path(__file__).parent / "pages"


def roles(line: str, **kwargs) -> list[tuple[str, str]] | None:
    """``furniture_of_line`` as (role, text) pairs."""
    found = furniture_of_line(line, **kwargs)
    return None if found is None else [(role, line[start:end]) for start, end, role in found]


def marked(text: str, furniture) -> list[tuple[str, str]]:
    return [(role, text[start:end]) for start, end, role in furniture]


def overlaps(start: int, end: int, furniture) -> bool:
    return any(start < f_end and f_start < end for f_start, f_end, _role in furniture)


# ------------------------------------------------------------------ captions and credits


@pytest.mark.parametrize(
    "caption, credit",
    [
        # English
        ("President Lee and Meloni shake hands in Seoul on Monday.", "(Yonhap)"),
        ("President Lee and Meloni shake hands in Seoul on January 19", "YONHAP"),
        ("President Lee and Meloni shake hands in Seoul on January 19.", "YONHAP"),
        ("Lee and Meloni at the Blue House on Monday.", "Photo: Reuters"),
        ("Lee and Meloni at the Blue House on Monday.", "/ Reuters"),
        ("Lee and Meloni at the Blue House on Monday.", "AFP via Getty Images"),
        ("Lee and Meloni at the Blue House on Monday.", "Jung Yeon-je/AFP via Getty Images"),
        ("Lee and Meloni at the Blue House on Monday.", "REUTERS/Kim Hong-Ji"),
        ("Lee and Meloni at the Blue House on Monday.", "Kim Hong-Ji/Reuters"),
        ("Lee and Meloni at the Blue House on Monday.", "[Photo by Jane Doe]"),
        ("Lee and Meloni at the Blue House on Monday.", "(AP Photo/Ahn Young-joon)"),
        ("Flooded streets in Bologna on Monday.", "Photograph: Anna Rossi/The Daily Post"),
        # German
        ("Lee und Meloni im Blauen Haus am Montag.", "Foto: dpa"),
        ("Lee und Meloni im Blauen Haus in Seoul.", "(Foto: Kim/dpa)"),
        ("Die beiden Regierungschefs vor der Presse.", "Bild: Keystone"),
        # Korean
        ("이재명 대통령과 멜로니 총리가 19일 청와대에서 악수하고 있다.", "[사진=연합뉴스]"),
        ("이재명 대통령과 멜로니 총리가 19일 청와대에서 악수하고 있다.", "/연합뉴스"),
        ("이재명 대통령과 멜로니 총리가 19일 청와대에서 악수하고 있다.", "(사진=대통령실 제공)"),
        ("이재명 대통령과 멜로니 총리가 19일 청와대에서 악수하고 있다.", "사진=연합뉴스"),
    ],
)
def test_a_line_that_ends_in_a_photo_credit_is_a_caption_and_its_credit(caption, credit):
    line = f"{caption} {credit}"
    assert roles(line) == [("caption", caption), ("credit", credit)]


@pytest.mark.parametrize(
    "line",
    [
        "Photo: Lee and Meloni at the Blue House on Monday",
        "Bild: Lee und Meloni beim Treffen im Blauen Haus",
        "사진설명: 이재명 대통령과 멜로니 총리가 악수하고 있다",
        "[Photo] Leaders pose before their talks in Seoul",
    ],
)
def test_a_line_that_starts_with_a_photo_label_is_a_caption(line):
    assert roles(line) == [("caption", line)]


@pytest.mark.parametrize(
    "line",
    [
        "(Yonhap)",
        "YONHAP",
        "[AFP]",
        "Photo: Reuters",
        "Foto: dpa",
        "Bild: Keystone",
        "사진=연합뉴스",
        "[사진=대통령실 제공]",
    ],
)
def test_a_credit_on_its_own_line_is_a_credit(line):
    assert roles(line) == [("credit", line)]


@pytest.mark.parametrize(
    "line",
    [
        "In a joint press statement, the Seoul-based Yonhap News reported.",  # a sentence citing Yonhap
        "The talks were reported by Yonhap and Reuters on Monday.",
        "He works for AFP.",
        "The two leaders also met the heads of AP and Reuters",
        "“We share the same values”, Meloni says.",  # a quote ending in a name
        "“Peace is possible,” said Giorgia Meloni",
        "He declined to comment.",  # short real sentences
        "No comment.",
        "Korea joins NATO",  # a headline ending in an acronym
        "S. Korea, Italy agree to boost cooperation on AI and semiconductors",
        "The deal was welcomed by the EU. (END)",  # a wire story's sign-off
        "Die Zahlen meldete die Deutsche Presse-Agentur (dpa).",
        "Prices rose 3 percent in May, according to the statistics office (Destatis).",
        "Italy and Korea signed the deal in 2012/2013.",
        "The ministers met in Rome / Milan on Tuesday.",
        "연합뉴스에 따르면 두 정상은 19일 회담했다.",
        "Yonhap",
    ],
)
def test_prose_is_not_furniture(line):
    assert furniture_of_line(line) is None


def test_the_first_line_is_a_caption_only_by_its_photo_label():
    headline = "Korea and Italy sign deals with AFP"
    assert furniture_of_line(headline, first=True) is None
    assert roles("Photo: Leaders meet in Seoul", first=True) == [("caption", "Photo: Leaders meet in Seoul")]


# ------------------------------------------------------------------ datelines


@pytest.mark.parametrize(
    "dateline, rest",
    [
        ("SEOUL, January 19 (AJP) -", "South Korean President Lee Jae Myung and Meloni agreed on Monday."),
        ("BERLIN, March 3 (Reuters) -", "Germany's economy shrank again in the last quarter."),
        ("SEOUL, Jan. 19 (Yonhap) --", "South Korea and Italy agreed on Monday to deepen ties."),
        ("WASHINGTON (AP) —", "The Senate passed the bill late on Tuesday night."),
        ("Berlin (dpa) -", "Die Bundesregierung hat am Montag neue Hilfen beschlossen."),
        ("BERLIN, 3. März (Reuters) –", "Die deutsche Wirtschaft ist im letzten Quartal geschrumpft."),
        ("(서울=연합뉴스)", "이재명 대통령은 19일 청와대에서 멜로니 총리와 정상회담을 했다."),
    ],
)
def test_dateline_is_the_prefix_of_the_first_sentence(dateline, rest):
    line = f"{dateline} {rest}"
    assert marked(line, dateline_of(line)) == [("dateline", dateline)]


def test_korean_wire_prefix_is_a_dateline_and_a_byline():
    line = "(서울=연합뉴스) 홍길동 기자 = 이재명 대통령은 19일 청와대에서 멜로니 총리와 정상회담을 했다."
    assert marked(line, dateline_of(line)) == [("dateline", "(서울=연합뉴스)"), ("byline", "홍길동 기자 =")]


@pytest.mark.parametrize(
    "line",
    [
        "EU - China talks resumed on Monday in Brussels.",
        "AI (artificial intelligence) - the leaders said it matters a lot.",
        "Meloni - who arrived on Saturday - met Lee on Monday.",
        "NATO (North Atlantic Treaty Organization) - the alliance met on Monday.",
        "The EU (European Union) - a bloc of 27 - met again.",
        "SEOUL (Yonhap) - Talks.",  # nothing left to be a sentence
    ],
)
def test_no_dateline(line):
    assert dateline_of(line) == []


# ------------------------------------------------------------------ pages


WIRE_PAGE = """Storms hit northern Italy

Rescue workers carry a resident out of a flooded house in Bologna on Monday. REUTERS/Anna Rossi
ROME, March 3 (Reuters) - Heavy rain caused rivers to burst their banks across northern Italy on Monday.
Firefighters rescued dozens of people near Bologna.
Reporting by Anna Rossi; Editing by John Roe.
The regional governor said emergency funds would be released this week.
"""


def test_wire_page_furniture_and_prose():
    text, furniture = clean_article(WIRE_PAGE)
    assert marked(text, furniture) == [
        ("caption", "Rescue workers carry a resident out of a flooded house in Bologna on Monday."),
        ("credit", "REUTERS/Anna Rossi"),
        ("dateline", "ROME, March 3 (Reuters) -"),
    ]
    assert "Reporting by" not in text  # a credit line: dropped like a byline, even with a final period
    sentences = [s.text for s in split_sentences("a", text, "en", furniture)]
    assert sentences == [
        "Storms hit northern Italy",
        "Heavy rain caused rivers to burst their banks across northern Italy on Monday.",
        "Firefighters rescued dozens of people near Bologna.",
        "The regional governor said emergency funds would be released this week.",
    ]


def test_a_caption_shown_twice_before_the_body_is_a_caption_kept_once():
    raw = (
        "Leaders agree on trade\n\n"
        "The two leaders shake hands before their talks in Seoul on Monday\n"
        "The two leaders shake hands before their talks in Seoul on Monday.\n\n"
        "Korea and Italy agreed on Monday to expand trade in chips.\n"
        "Both sides will meet again next month in Rome, officials said.\n"
        "Both sides will meet again next month in Rome, officials said.\n"
    )
    text, furniture = clean_article(raw)
    assert marked(text, furniture) == [
        ("caption", "The two leaders shake hands before their talks in Seoul on Monday")
    ]
    assert text.count("shake hands") == 1
    assert text.count("Both sides will meet again") == 1  # a repeat after the body starts: not a caption


def test_german_and_korean_pages():
    german = (
        "Kanzler trifft Präsidentin in Rom\n"
        "Von Max Mustermann\n"
        "Der Kanzler und die Präsidentin vor dem Palazzo Chigi. Foto: dpa\n"
        "Rom (dpa) - Der Kanzler ist am Montag zu Gesprächen in Rom eingetroffen.\n"
        "Beide Seiten wollen die Zusammenarbeit ausbauen.\n"
    )
    text, furniture = clean_article(german)
    assert marked(text, furniture) == [
        ("byline", "Von Max Mustermann"),
        ("caption", "Der Kanzler und die Präsidentin vor dem Palazzo Chigi."),
        ("credit", "Foto: dpa"),
        ("dateline", "Rom (dpa) -"),
    ]
    korean = (
        "이재명 대통령, 멜로니 총리와 정상회담\n\n"
        "이재명 대통령과 멜로니 총리가 19일 청와대에서 악수하고 있다. [사진=연합뉴스]\n"
        "(서울=연합뉴스) 홍길동 기자 = 이재명 대통령은 19일 청와대에서 멜로니 총리와 정상회담을 했다.\n"
        "두 정상은 반도체 협력을 강화하기로 합의했다.\n"
    )
    text, furniture = clean_article(korean)
    assert [role for role, _ in marked(text, furniture)] == ["caption", "credit", "dateline", "byline"]
    sentences = [s.text for s in split_sentences("k", text, "ko", furniture)]
    assert sentences[1:] == [
        "이재명 대통령은 19일 청와대에서 멜로니 총리와 정상회담을 했다.",
        "두 정상은 반도체 협력을 강화하기로 합의했다.",
    ]


def test_bylines_and_related_teasers_are_kept_marked_and_time_stamps_dropped():
    raw = (
        "Rivers rise in northern Italy\n"
        "By Anna Rossi\n"
        "Updated: 3 March 2026, 08:15 CET\n"
        "Heavy rain caused rivers to burst their banks on Monday.\n"
        "Also Read: Storm Damage Costs Farmers Millions\n"
        "Firefighters rescued dozens of people near Bologna.\n"
        "Related Stories\n"
        "Floods Close Schools In Venice\n"
        "Farmers Count The Cost Of Hail\n"
        "The governor promised help this week.\n"
    )
    text, furniture = clean_article(raw)
    assert marked(text, furniture) == [
        ("byline", "By Anna Rossi"),
        ("related", "Also Read: Storm Damage Costs Farmers Millions"),
        ("related", "Floods Close Schools In Venice"),
        ("related", "Farmers Count The Cost Of Hail"),
    ]
    assert "Updated" not in text and "Related Stories" not in text  # a time stamp, the list's heading
    sentences = [s.text for s in split_sentences("r", text, "en", furniture)]
    assert sentences == [
        "Rivers rise in northern Italy",
        "Heavy rain caused rivers to burst their banks on Monday.",
        "Firefighters rescued dozens of people near Bologna.",
        "The governor promised help this week.",
    ]


# ------------------------------------------------------------------ the seeds

SEED_FURNITURE = {
    "korea-herald-2023-yoon-mattarella-summit.txt": [
        (
            "caption",
            "President Yoon Suk Yeol (right) and Italian President Sergio Mattarella speak during a press "
            "conference following talks at the presidential office in Seoul on Wednesday.",
        ),
        ("credit", "(Yonhap)"),
    ],
    "2026-01-19-ajp-lee-meloni-mous.txt": [
        ("byline", "By Park Sae-jin Posted : January 19, 2026, 14:00 Updated : January 19, 2026, 14:00"),
        (
            "caption",
            "South Korean President Lee Jae-myung and Italian Prime Minister Giorgia Meloni hold an expanded "
            "meeting at the presidential Blue House in Seoul on January 19",
        ),
        ("credit", "YONHAP"),
        ("dateline", "SEOUL, January 19 (AJP) -"),
    ],
    "2026-01-19-yonhap-lee-meloni-trade.txt": [],  # "the Seoul-based Yonhap News reported." is prose
    "2026-01-lee-meloni-industrial-cooperation.txt": [
        ("related", "Also Read: PM Calls for Stronger Decentralization for Stalled Projects"),
        ("related", "Also Read: PM Urges Faster Progress on Key Infrastructure Projects"),
        ("related", "Also Read: Ministry Explores Skilled Worker Placement With IM Japan"),
    ],
    "2026-01-19-gipfeltreffen-lee-meloni.de.txt": [],
}


@pytest.mark.parametrize("name", sorted(SEED_FURNITURE))
def test_seed_furniture(name):
    raw = (SEED_DIR / name).read_text(encoding="utf-8")
    text, furniture = clean_article(raw)
    assert text == clean_text(raw)
    assert marked(text, furniture) == SEED_FURNITURE[name]
    assert clean_article(text) == (text, furniture)  # cleaning the cleaned text finds the same furniture


def test_seed_article_records_carry_their_furniture(seed_dir):
    sources, errors = scan_folder(seed_dir)
    assert not errors
    for src in sources:
        (article,), problems = load_source(src)
        assert not problems
        assert marked(article.text, article.furniture) == SEED_FURNITURE[src.relpath]


def test_feed_and_html_articles_carry_their_furniture(tmp_path):
    text = (
        "Heavy rain hit northern Italy on Monday.\n"
        "A flooded street in Bologna on Monday. Photo: Reuters\n"
        "Firefighters rescued dozens of people.\n"
    )
    (tmp_path / "feed.jsonl").write_text(json.dumps({"title": "Floods", "text": text}) + "\n", "utf-8")
    html = (
        "<html><head><title>Floods in Italy</title></head><body><article><h1>Floods in Italy</h1>"
        "<p>ROME, March 3 (Reuters) - Heavy rain caused rivers to burst their banks across northern Italy "
        "on Monday, forcing hundreds of families to leave their homes.</p>"
        "<p>Firefighters rescued dozens of people from cars trapped on flooded roads near Bologna.</p>"
        "</article></body></html>"
    )
    (tmp_path / "page.html").write_text(html, "utf-8")
    sources, _ = scan_folder(tmp_path)
    found = {}
    for src in sources:
        articles, problems = load_source(src)
        assert not problems
        found[src.relpath] = marked(articles[0].text, articles[0].furniture)
    assert found["feed.jsonl"] == [
        ("caption", "A flooded street in Bologna on Monday."),
        ("credit", "Photo: Reuters"),
    ]
    assert found["page.html"] == [("dateline", "ROME, March 3 (Reuters) -")]


# ------------------------------------------------------------------ sentences and chunks


def test_no_sentence_overlaps_furniture_and_a_dateline_starts_none():
    raw = (SEED_DIR / "2026-01-19-ajp-lee-meloni-mous.txt").read_text(encoding="utf-8")
    text, furniture = clean_article(raw)
    sentences = split_sentences("a", text, "en", furniture)
    assert all(text[s.start : s.end] == s.text for s in sentences)
    assert not any(overlaps(s.start, s.end, furniture) for s in sentences)
    assert sentences[1].text.startswith("South Korean President Lee Jae Myung and Italian Prime Minister")
    # without furniture, the old sentences: the caption is one, the dateline opens the first sentence
    plain = [s.text for s in split_sentences("a", text, "en")]
    assert any(s.startswith("SEOUL, January 19 (AJP)") for s in plain)


def test_chunks_break_at_furniture_and_overlap_never_crosses_it():
    text = "Zero one.\nOne two.\nThree four. (Yonhap)\nFive six.\nSeven eight.\n\nEnd here."
    caption_end = text.index(" (Yonhap)")
    furniture = ((text.index("Three"), caption_end, "caption"), (caption_end + 1, caption_end + 9, "credit"))
    sentences = split_sentences("a", text, "en", furniture)
    assert [s.text for s in sentences] == ["Zero one.", "One two.", "Five six.", "Seven eight.", "End here."]
    words = lambda t: len(t.split())  # noqa: E731
    params = {"max_tokens": 10, "overlap_tokens": 3, "count": words}
    chunks = chunk_sentences("a", text, sentences, **params, furniture=furniture)
    # "One two." fits the overlap of the second chunk, but the caption lies between
    assert [c.text for c in chunks] == ["Zero one.\nOne two.", "Five six.\nSeven eight.\n\nEnd here."]
    assert not any(overlaps(c.start, c.end, furniture) for c in chunks)
    without = chunk_sentences("a", text, sentences, **params)
    assert any("(Yonhap)" in c.text for c in without)


def test_a_sentence_over_furniture_is_refused_by_chunking():
    from rag.errors import IngestError

    text = "One two. Three four."
    sentences = split_sentences("a", text, "en")
    with pytest.raises(IngestError, match="overlaps the caption"):
        chunk_sentences(
            "a", text, sentences, max_tokens=10, overlap_tokens=0, count=len, furniture=((0, 8, "caption"),)
        )


def _check_index(index: Index) -> None:
    for article in index.articles.values():
        for i in index.sentence_ids(article.id):
            s = index.sentences[i]
            assert article.text[s.start : s.end] == s.text
            assert not overlaps(s.start, s.end, article.furniture), s.text
    for c in index.chunks:
        article = index.articles[c.article_id]
        assert article.text[c.start : c.end] == c.text
        assert not overlaps(c.start, c.end, article.furniture), c.text


def test_seed_index_stores_no_furniture_as_sentence_or_chunk(fake_seed_index):
    index = Index.open(fake_seed_index.index_dir)
    by_file = {a.location: a for a in index.articles.values()}
    assert (
        marked(
            by_file["2026-01-19-ajp-lee-meloni-mous.txt"].text,
            by_file["2026-01-19-ajp-lee-meloni-mous.txt"].furniture,
        )
        == SEED_FURNITURE["2026-01-19-ajp-lee-meloni-mous.txt"]
    )
    _check_index(index)
    texts = [s.text for s in index.sentences]
    assert not any("YONHAP" in t or "(Yonhap)" in t or t.startswith("SEOUL,") for t in texts)
    assert any(
        t.startswith("South Korean President Lee Jae Myung and Italian Prime Minister Giorgia Meloni agreed")
        for t in texts
    )


PAGE_FURNITURE = {
    "copied-page-harbor-cranes.txt": [
        ("byline", "By Kim Ha-neul (hanuel.kim@harborledger.example)"),
        ("caption", "Container cranes stand at a terminal in Busan on Tuesday."),
        ("credit", "(Yonhap)"),
    ],
    "wire-factory-orders.txt": [("byline", "By Anna Keller"), ("dateline", "BERLIN, March 3 (Reuters) -")],
    "ko-wire-semiconductor.txt": [("dateline", "(부산=연합뉴스)"), ("byline", "김하늘 기자 =")],
    "news-port-cranes.html": [],  # trafilatura leaves out the <figcaption> and the related links
    "blog-night-bus.md": [],
    "blog-library-hours.html": [],
}


@pytest.fixture(scope="module")
def page_articles() -> dict[str, Article]:
    if not PAGES.is_dir():
        pytest.skip("no tests/pages")
    sources, errors = scan_folder(PAGES)
    assert not errors
    return {a.location: a for src in sources for a in load_source(src)[0]}


@pytest.mark.parametrize("name", sorted(PAGE_FURNITURE))
def test_test_pages_furniture(page_articles, name):
    """The pages of ``tests/pages`` (tests/pages/README.md): wire story, blogs, pages with a cookie
    banner, a captioned photo and a related-links list."""
    a = page_articles[name]
    assert marked(a.text, a.furniture) == PAGE_FURNITURE[name]


def test_test_pages_lose_cookie_banner_footer_list_and_time_stamps(page_articles):
    """Bylines stay, marked (``PAGE_FURNITURE``); a related-links list after the last sentence is
    footer debris."""
    copied = page_articles["copied-page-harbor-cranes.txt"].text
    for gone in ("cookies", "Accept all", "Manage settings", "Related articles", "Shipping rates ease",
                 "Published :", "© 2026"):  # fmt: skip
        assert gone not in copied, gone
    assert "the Seoul-based Yonhap News Agency reported" in copied  # prose that cites Yonhap stays prose
    wire = page_articles["wire-factory-orders.txt"].text
    for gone in ("10:14 AM", "Reporting by"):
        assert gone not in wire, gone


def test_test_pages_furniture_never_reaches_the_index(tmp_path, fake_embedder):
    if not PAGES.is_dir():
        pytest.skip("no tests/pages")
    from rag.config import Settings
    from rag.index.indexer import build_index

    articles = tmp_path / "articles"
    shutil.copytree(PAGES, articles)
    settings = Settings(
        articles_dir=articles, index_dir=tmp_path / "index", cache_dir=tmp_path / "c", model="fake"
    )
    build_index(settings, embedder=fake_embedder)
    index = Index.open(settings.index_dir)
    assert sum(len(a.furniture) for a in index.articles.values()) >= 5
    _check_index(index)
    assert "김하늘" not in " ".join(s.text for s in index.sentences)


# ------------------------------------------------------------------ answers (real model)


@pytest.mark.model
def test_no_caption_or_credit_is_ever_an_answer_in_the_seed_question_set(model_pipeline):
    """Acceptance point 2 of issue 24: over every question of eval/questions.jsonl, no answer
    sentence, short answer, "Also reported by" or closest-passage citation overlaps furniture."""
    from rag.config import PROJECT_DIR

    index = model_pipeline.index
    articles: dict[str, Article] = index.articles
    assert any(a.furniture for a in articles.values())
    questions = [
        json.loads(line) for line in (PROJECT_DIR / "eval" / "questions.jsonl").read_text().splitlines()
    ]
    assert len(questions) == 100
    for q in questions:
        answer = model_pipeline.ask(q["question"])
        cites = [s.citation for s in answer.sentences] + list(answer.also_reported) + list(answer.closest)
        for c in cites:
            furniture = articles[c.article_id].furniture
            assert not overlaps(c.start, c.end, furniture), (q["id"], c.quote)
        for s in answer.sentences:
            if s.short_answer is not None:
                furniture = articles[s.citation.article_id].furniture
                assert not overlaps(s.short_answer.start, s.short_answer.end, furniture), q["id"]
