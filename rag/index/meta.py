"""Title, publication date, byline and outlet of an article, from its own text, its URL and its file name.

``extract_metadata(raw, cleaned, filename, *, title=, published=, source=, url=)
-> {"title", "title_kind", "published", "byline", "source"}``

The keyword arguments are what the page or feed states in its own metadata (an HTML
``<title>``/og:title, a feed's ``title``, ``published`` and ``source`` fields, the
canonical URL); they win over what is read from the text. The raw text is read
for what cleaning drops (byline and time-stamp lines); the cleaned text for the
title. Plain parsing of a few written forms in English, German and Korean, no
date library (``dateparser`` guesses too freely and is slow to import):

* dates: "2026-01-19", "2026.01.19", "January 19, 2026", "Jan. 19, 2026",
  "19 January 2026", "19. Januar 2026", "19.01.2026", "2026년 1월 19일";
* published, first rule that finds one wins:
  1. a labelled time stamp: "date 2026-01-19", "Posted : January 19, 2026",
     "Published ...", "Veröffentlicht am ...", "입력 2026.01.19"; "Updated ..."
     labels only when no other label has a date;
  2. a dateline "SEOUL, January 19 (AJP) -": a year-less date takes its year
     from a full date elsewhere in the text, else from the only year the
     text mentions; with no year it gives nothing;
  3. a full date in the lead (the first 250 characters of the cleaned text
     after the headline), "Am 19. Januar 2026 trafen sich ...": the event
     date, taken as a stand-in for the publication date.
  Nothing else from the text: no year alone, no file time.
* the date's source, first that gives one wins: the page's or feed's own date,
  the text (the rules above), the URL ("/2026/01/19/", "2026-01-19",
  "/20260119/" a day, "/2026/01/" a month), the file name ("2026-01-19-..." a
  day, "2026-01-..." a month, "korea-herald-2023-..." a year: a 4-digit year
  1990-2100 as a whole token between "-", "_" or "."). A later source only
  refines it (a "2026-01" of the URL and a "2026-01-19" of the file name give
  "2026-01-19"), it never replaces it, so a file name never overrides the
  text's day. The date keeps its precision: "2026-01-19", "2026-01" or "2026".
  Which source won is logged at debug level.
* byline: a "By Jane Doe (jane@example.com)" / "Von ..." line, or a Korean
  "홍길동 기자" line;
* source (the outlet), only from evidence of who published the text: the
  wire credit of a dateline ("(AJP)", "(서울=연합뉴스)"), the e-mail domain on
  the byline line looked up in :data:`NEWS_DOMAINS` (a small table of news
  domains), or a copyright line ("© 2026 Example News"). A source the article
  merely cites ("the Seoul-based Yonhap News reported") or a photo credit
  ("(Yonhap)") is not the outlet. Then the domain of the article's URL, looked
  up in :data:`NEWS_DOMAINS`. The file name is never evidence of the outlet
  ("2026-01-19-yonhap-....txt" says nothing of who published it). None when
  nothing supports one.
* title and ``title_kind``: the stated title ("headline"); else the headline
  when the cleaned text starts with one (a first line of at most 20 words that
  does not end with . , ; :; read over above it: the lines of a cookie notice
  and a one- or two-word section label), kept in the text so it can be cited
  ("headline"); else the first sentence (``pysbd``), cut to about 100
  characters ("lead": a stand-in, shown marked, never as a headline); else a
  title made from the file name ("file").
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from datetime import date
from functools import lru_cache
from pathlib import PurePath
from urllib.parse import urlsplit

from rag.index.clean import byline_names

LOG = logging.getLogger(__name__)

TITLE_MAX_CHARS = 100
HEADLINE_MAX_WORDS = 20
LABEL_MAX_WORDS = 2  # a section label above a headline ("Business", "World news")
HEAD_SCAN_LINES = 8  # cookie-notice lines read over at the top, at most
HEAD_SCAN_CHARS = 5000
LEAD_CHARS = 250

MONTHS = {
    "january": 1, "jan": 1, "januar": 1, "jänner": 1, "janvier": 1,
    "february": 2, "feb": 2, "februar": 2, "febr": 2,
    "march": 3, "mar": 3, "märz": 3, "maerz": 3, "mär": 3,
    "april": 4, "apr": 4,
    "may": 5, "mai": 5,
    "june": 6, "jun": 6, "juni": 6,
    "july": 7, "jul": 7, "juli": 7,
    "august": 8, "aug": 8,
    "september": 9, "sep": 9, "sept": 9,
    "october": 10, "oct": 10, "oktober": 10, "okt": 10,
    "november": 11, "nov": 11,
    "december": 12, "dec": 12, "dezember": 12, "dez": 12,
}  # fmt: skip

# E-mail / web domains of news outlets -> the outlet's name.
NEWS_DOMAINS = {
    "heraldcorp.com": "Korea Herald",
    "koreaherald.com": "Korea Herald",
    "koreatimes.co.kr": "Korea Times",
    "yna.co.kr": "Yonhap News Agency",
    "yonhapnews.co.kr": "Yonhap News Agency",
    "joongang.co.kr": "JoongAng Ilbo",
    "koreajoongangdaily.com": "Korea JoongAng Daily",
    "chosun.com": "Chosun Ilbo",
    "donga.com": "Dong-A Ilbo",
    "hani.co.kr": "Hankyoreh",
    "ajunews.com": "AJP",
    "ajupress.com": "AJP",
    "kbs.co.kr": "KBS",
    "arirang.com": "Arirang",
    "reuters.com": "Reuters",
    "thomsonreuters.com": "Reuters",
    "ap.org": "Associated Press",
    "apnews.com": "Associated Press",
    "afp.com": "AFP",
    "bbc.co.uk": "BBC",
    "bbc.com": "BBC",
    "nytimes.com": "The New York Times",
    "washpost.com": "The Washington Post",
    "washingtonpost.com": "The Washington Post",
    "theguardian.com": "The Guardian",
    "ft.com": "Financial Times",
    "bloomberg.net": "Bloomberg",
    "bloomberg.com": "Bloomberg",
    "dpa.com": "dpa",
    "spiegel.de": "Der Spiegel",
    "zeit.de": "Die Zeit",
    "faz.net": "Frankfurter Allgemeine Zeitung",
    "sueddeutsche.de": "Süddeutsche Zeitung",
    "tagesschau.de": "tagesschau.de",
    "ansa.it": "ANSA",
}
# Wire credits in datelines, written out.
WIRE_NAMES = {
    "ap": "Associated Press",
    "연합뉴스": "Yonhap News Agency",
    "yonhap": "Yonhap News Agency",
    "뉴시스": "Newsis",
    "뉴스1": "News1",
}

_MONTH_RE = "|".join(sorted(MONTHS, key=len, reverse=True))
_DATE_PATTERNS = [
    ("ymd", re.compile(
        r"(?<![\d.])(?P<y>\d{4})(?:-|/|\.\s?)(?P<m>\d{1,2})(?:-|/|\.\s?)(?P<d>\d{1,2})(?!\d)"
    )),
    ("ymd", re.compile(r"(?P<y>\d{4})\s*년\s*(?P<m>\d{1,2})\s*월\s*(?P<d>\d{1,2})\s*일")),
    # "(?:\s*,)?\s+" rather than "\s*,?\s+": two runs of blanks in a row are tried against each
    # other, quadratic in the length of a run of blank lines after "May 5".
    ("mdy", re.compile(
        rf"\b(?P<mon>{_MONTH_RE})\.?\s+(?P<d>\d{{1,2}})(?:st|nd|rd|th)?(?:\s*,)?\s+(?P<y>\d{{4}})(?!\d)",
        re.IGNORECASE,
    )),
    ("dmy", re.compile(
        rf"(?<![\d.])(?P<d>\d{{1,2}})(?:\.|st|nd|rd|th)?\s+(?:of\s+)?(?P<mon>{_MONTH_RE})\.?,?\s+(?P<y>\d{{4}})(?!\d)",
        re.IGNORECASE,
    )),
    ("dmy", re.compile(r"(?<![\d.])(?P<d>\d{1,2})\.(?P<m>\d{1,2})\.(?P<y>\d{4})(?!\d)")),
]  # fmt: skip
_YEARLESS_RE = re.compile(
    rf"\b(?P<mon>{_MONTH_RE})\.?\s+(?P<d>\d{{1,2}})(?:st|nd|rd|th)?\b(?!\s*,?\s*\d{{4}})", re.IGNORECASE
)
_PUBLISHED_LABELS = (
    r"date|dated|datum|posted|published|posted on|published on|veröffentlicht|veröffentlicht am|erschienen|"
    r"publié le|publié|pubblicato|publicado|입력|등록|기사입력|발행"
)
_UPDATED_LABELS = (
    r"updated|last updated|aktualisiert|aktualisiert am|stand|mis à jour|aggiornato|actualizado|수정|최종수정"
)
# A line's own leading blanks, never "\n": "^\s*" would read a run of blank lines to its end from
# each of its lines (quadratic in the run's length), to find what the next non-blank line gives.
_LINE_START = r"^[^\S\n]*"
_DATELINE_RE = re.compile(
    _LINE_START + r"(?P<city>[A-Z][A-Z.'’ -]{1,40}?)(?:,\s*(?P<date>[^()\n]{3,30}?))?\s*"
    r"\((?P<outlet>[^()\n]{2,40})\)\s*[-–—:]",
    re.MULTILINE,
)
_KO_DATELINE_RE = re.compile(
    _LINE_START + r"\((?P<city>[가-힣]{1,10})\s*=\s*(?P<outlet>[^()\n]{2,20})\)", re.MULTILINE
)
_KO_WIRE_BYLINE_RE = re.compile(
    _LINE_START + r"\([^()\n]{1,20}\)\s*(?P<name>[가-힣]{2,4})\s*(?:기자|특파원)\s*=", re.MULTILINE
)
_EMAIL_DOMAIN_RE = re.compile(r"[\w.+-]+@(?P<domain>[\w-]+(?:\.[\w-]+)+)")
_COPYRIGHT_RE = re.compile(
    _LINE_START + r"(?:copyright\s*)?(?:©|ⓒ|\(c\)|copyright)\s*(?P<rest>.{2,80})$",
    re.IGNORECASE | re.MULTILINE,
)
# A line of a cookie notice: one that speaks of cookies and of accepting, consent or settings, or
# one of its buttons. Read over when looking for the headline (an article about cookies keeps its
# title: "Cookie sales soar" names no consent). Two searches, not one pattern with ".*" between
# the words: that is quadratic in the length of a line full of "cookie".
_COOKIE_RE = re.compile(r"\bcookies?\b|쿠키", re.IGNORECASE)
_CONSENT_WORD_RE = re.compile(
    r"\b(?:accept|agree|consent|use of|experience|settings|preferences|privacy|browsing|"
    r"akzeptier|zustimm|stimmen sie|einverstanden|einstellungen|datenschutz)|동의|설정",
    re.IGNORECASE,
)
_CONSENT_BUTTON_RE = re.compile(
    r"(?:accept|reject|allow|deny|decline)(?: all)?(?: cookies)?|(?:manage|cookie|privacy) "
    r"(?:settings|preferences|options)|ok|got it|i agree|alle akzeptieren",
    re.IGNORECASE,
)
_YEAR_RE = re.compile(r"(?<!\d)(?:19|20)\d{2}(?!\d)")
YEAR_RANGE = (1990, 2100)  # years taken from a URL, a file name or a partial date


TITLE_KINDS = ("headline", "lead", "file")


def extract_metadata(
    raw: str,
    cleaned: str,
    filename: str,
    *,
    title: str | None = None,
    published: str | None = None,
    source: str | None = None,
    url: str | None = None,
    file_dates: bool = True,
    furniture: Sequence[tuple[int, int, str]] = (),
) -> dict[str, str | None]:
    """``{"title", "title_kind", "published", "byline", "source"}`` of an article.

    ``title``, ``published`` (any form :func:`parse_partial_date` reads) and ``source`` are
    what the page or feed states and win; ``url`` is the article's address (a date and an
    outlet domain can be read from it). ``file_dates=False``: the file name holds many
    articles (a feed), its date is not theirs. ``published`` is an ISO date of day, month
    or year precision, or None; ``title_kind`` one of :data:`TITLE_KINDS`; title never None.
    ``furniture``: the cleaned text's furniture (``rag.index.clean.clean_article``), never a title.
    """
    byline_line, byline = find_byline(raw)
    if title and title.strip():
        title, title_kind = " ".join(title.split()), "headline"
    else:
        title, title_kind = title_and_kind(cleaned, filename, furniture)
    return {
        "title": title,
        "title_kind": title_kind,
        "published": _published(raw, cleaned, filename, published, url, file_dates),
        "byline": byline,
        "source": (source and source.strip()) or find_outlet(raw, byline_line) or url_outlet(url),
    }


def _published(
    raw: str, cleaned: str, filename: str, stated: str | None, url: str | None, file_dates: bool
) -> str | None:
    """The first date of the page's own, the text's, the URL's, the file name's, refined by later
    ones that are more precise and agree with it."""
    candidates = [
        ("the page's metadata", parse_partial_date(stated) if stated else None),
        ("the text", find_published(raw, cleaned)),
        ("the URL", date_from_url(url)),
        ("the file name", date_from_filename(filename) if file_dates else None),
    ]
    found = [(where, iso) for where, iso in candidates if iso]
    if not found:
        LOG.debug("%s: no publication date found", filename)
        return None
    where, best = found[0]
    for other_where, iso in found[1:]:
        if len(iso) > len(best) and iso.startswith(best + "-"):
            where, best = f"{where}, refined by {other_where}", iso
    LOG.debug("%s: published %s, from %s", filename, best, where)
    return best


def parse_date(text: str) -> str | None:
    """The first full date (day, month and year) in ``text`` as "YYYY-MM-DD", else None.

    >>> parse_date("Posted : January 19, 2026, 14:00"), parse_date("Am 19. Januar 2026")
    ('2026-01-19', '2026-01-19')
    >>> parse_date("2026년 1월 19일"), parse_date("19.01.2026"), parse_date("January 2026")
    ('2026-01-19', '2026-01-19', None)
    """
    found = _find_dates(text)
    return found[0][1] if found else None


def parse_partial_date(text: str) -> str | None:
    """A date of day, month or year precision, as ISO: a full date in any form of
    :func:`parse_date`, else "2026-01" / "2026/01" or "2026" alone; else None.

    >>> parse_partial_date("2026-01-19T09:00:00Z"), parse_partial_date("2026-01"), parse_partial_date("2026")
    ('2026-01-19', '2026-01', '2026')
    >>> parse_partial_date("yesterday"), parse_partial_date("2026-13")
    (None, None)
    """
    if found := parse_date(text):
        return found
    m = re.fullmatch(r"\s*(?P<y>\d{4})(?:[-/.](?P<m>\d{1,2}))?\s*", text)
    if not m:
        return None
    return _partial_iso(int(m["y"]), int(m["m"]) if m["m"] else None)


def _partial_iso(y: int, m: int | None = None, d: int | None = None) -> str | None:
    """ISO "2026-01-19", "2026-01" or "2026" for a valid date of that precision in 1990-2100, else None."""
    if not YEAR_RANGE[0] <= y <= YEAR_RANGE[1]:
        return None
    if m is None:
        return f"{y:04d}"
    if d is None:
        return f"{y:04d}-{m:02d}" if 1 <= m <= 12 else None
    return _to_iso(y, m, d)


_URL_DATE_RES = (
    # "/2026/01/19/", "/2026/1/19", "-2026-01-19-", "/20260119/": a day
    re.compile(r"/(?P<y>\d{4})/(?P<m>\d{1,2})/(?P<d>\d{1,2})(?=[/._-]|$)"),
    re.compile(r"(?<![\d])(?P<y>\d{4})-(?P<m>\d{2})-(?P<d>\d{2})(?!\d)"),
    re.compile(r"/(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})(?=[/._-]|$)"),
    # "/2026/01/": a month
    re.compile(r"/(?P<y>\d{4})/(?P<m>\d{1,2})(?=/|$)"),
)


def date_from_url(url: str | None) -> str | None:
    """The date in the path of an article's URL, with its precision; None when it has none.

    >>> date_from_url("https://example.com/news/2026/01/19/summit"), date_from_url("https://x.org/2026/01/")
    ('2026-01-19', '2026-01')
    """
    if not url:
        return None
    try:
        path = urlsplit(url.strip()).path
    except ValueError:
        return None
    for pattern in _URL_DATE_RES:
        for m in pattern.finditer(path):
            day = m["d"] if "d" in m.groupdict() else None
            if iso := _partial_iso(int(m["y"]), int(m["m"]), int(day) if day else None):
                return iso
    return None


def date_from_filename(filename: str) -> str | None:
    """The date a file name gives, with its precision: "2026-01-19-x.txt" a day, "2026-01-x.txt"
    a month, "korea-herald-2023-x.txt" a year (a 4-digit year 1990-2100 as a whole token
    between "-", "_", "." or blanks; month and day of two digits each), "x-20260119.txt" a day.

    >>> date_from_filename("2026-01-lee-meloni.txt"), date_from_filename("korea-herald-2023-summit.txt")
    ('2026-01', '2023')
    """
    tokens = [t for t in re.split(r"[-_.\s]+", PurePath(filename).name) if t]
    for i, token in enumerate(tokens):
        if re.fullmatch(r"\d{8}", token):
            if iso := _partial_iso(int(token[:4]), int(token[4:6]), int(token[6:])):
                return iso
            continue
        if not re.fullmatch(r"\d{4}", token) or not (year := _partial_iso(int(token))):
            continue
        month = tokens[i + 1] if i + 1 < len(tokens) and re.fullmatch(r"\d{2}", tokens[i + 1]) else None
        if month is None or not (ym := _partial_iso(int(token), int(month))):
            return year
        day = tokens[i + 2] if i + 2 < len(tokens) and re.fullmatch(r"\d{2}", tokens[i + 2]) else None
        return (_partial_iso(int(token), int(month), int(day)) if day else None) or ym
    return None


def _to_iso(y: int, m: int, d: int) -> str | None:
    if not 1900 <= y <= 2100:
        return None
    try:
        return date(y, m, d).isoformat()
    except ValueError:
        return None


def _find_dates(text: str) -> list[tuple[int, str]]:
    """All full dates in ``text`` as (position, ISO date), in order of position."""
    out: dict[int, str] = {}
    for _kind, pattern in _DATE_PATTERNS:
        for m in pattern.finditer(text):
            month = int(m["m"]) if "m" in m.groupdict() and m["m"] else MONTHS[m["mon"].lower()]
            if iso := _to_iso(int(m["y"]), month, int(m["d"])):
                out.setdefault(m.start(), iso)
    return sorted(out.items())


def _labelled_date(raw: str, labels: str) -> str | None:
    pattern = re.compile(rf"(?<!\w)(?:{labels})(?!\w)\s*[:：]?\s*(?:(?:am|on|le|il|el)\s+)?", re.IGNORECASE)
    for m in pattern.finditer(raw):
        window = raw[m.end() : m.end() + 40]
        found = _find_dates(window)
        if found and found[0][0] == 0:
            return found[0][1]
    return None


def _yearless(raw: str, text: str) -> str | None:
    m = _YEARLESS_RE.search(text)
    if not m:
        return None
    month, day = MONTHS[m["mon"].lower()], int(m["d"])
    full = [iso for _pos, iso in _find_dates(raw)]
    same_day = [iso for iso in full if iso[5:] == f"{month:02d}-{day:02d}"]
    if same_day or full:
        return _to_iso(int((same_day or full)[0][:4]), month, day)
    years = set(_YEAR_RE.findall(raw))
    if len(years) == 1:
        return _to_iso(int(years.pop()), month, day)
    return None


def find_published(raw: str, cleaned: str) -> str | None:
    """The publication date as "YYYY-MM-DD" (see the module docstring for the rules), or None."""
    for labels in (_PUBLISHED_LABELS, _UPDATED_LABELS):
        if found := _labelled_date(raw, labels):
            return found
    if m := _DATELINE_RE.search(raw):
        if m["date"]:
            if found := parse_date(m["date"]):
                return found
            if found := _yearless(raw, m["date"]):
                return found
    body = cleaned[_opening(cleaned)[1] :]
    found = _find_dates(body.lstrip()[:LEAD_CHARS])
    return found[0][1] if found else None


def find_byline(raw: str) -> tuple[str | None, str | None]:
    """(the byline line, the author names) from ``raw``; (None, None) when there is none.
    ``"By Choi Si-young (siyoungchoi@heraldcorp.com)"`` -> author "Choi Si-young"."""
    for line in raw.splitlines():
        if line.strip() and (names := byline_names(line)):
            return line.strip(), names
    if m := _KO_WIRE_BYLINE_RE.search(raw):  # "(서울=연합뉴스) 홍길동 기자 = 본문 ..."
        return m[0], m["name"]
    return None, None


def _outlet_name(name: str) -> str | None:
    name = " ".join(name.split()).strip(" .,-")
    if not name or len(name.split()) > 5 or any(c.isdigit() for c in name):
        return None
    return WIRE_NAMES.get(name.lower(), name)


def find_outlet(raw: str, byline_line: str | None = None) -> str | None:
    """The outlet that published ``raw``, or None when the text does not say."""
    m = _DATELINE_RE.search(raw) or _KO_DATELINE_RE.search(raw)
    if m and (name := _outlet_name(m["outlet"])):
        return name
    if byline_line:
        for em in _EMAIL_DOMAIN_RE.finditer(byline_line):
            if outlet := _domain_outlet(em["domain"]):
                return outlet
    for cm in _COPYRIGHT_RE.finditer(raw):
        if not re.search(r"\d{4}|copyright|all rights|rechte|무단|재배포", cm[0], re.IGNORECASE):
            continue  # "© AFP" under a photo is a photo credit
        rest = re.sub(r"all rights reserved.*|alle rechte vorbehalten.*|무단.*", "", cm["rest"], flags=re.I)
        rest = re.sub(r"(?<!\d)(?:19|20)\d{2}(?:\s*[-–]\s*(?:19|20)\d{2})?(?!\d)", "", rest)
        if name := _outlet_name(rest.replace("©", "")):
            return name
    return None


def url_outlet(url: str | None) -> str | None:
    """The outlet of an article's URL when its domain is in :data:`NEWS_DOMAINS`, else None:
    ``"https://www.reuters.com/world/..."`` -> ``"Reuters"``."""
    if not url:
        return None
    try:
        host = urlsplit(url.strip()).hostname
    except ValueError:
        return None
    return _domain_outlet(host) if host else None


def site_outlet(site_name: str | None) -> str | None:
    """The outlet a page names as its site (og:site_name, publisher): the name itself, but a
    bare host name ("coastal.example", what a page without one is given) only when it is in
    :data:`NEWS_DOMAINS`."""
    name = " ".join((site_name or "").split())
    if not name:
        return None
    if re.fullmatch(r"(?:www\.)?[\w-]+(?:\.[\w-]+)+", name):
        return _domain_outlet(name)
    return name


def _domain_outlet(domain: str) -> str | None:
    parts = domain.lower().split(".")
    for i in range(len(parts) - 1):
        if (d := ".".join(parts[i:])) in NEWS_DOMAINS:
            return NEWS_DOMAINS[d]
    return None


def _is_consent(line: str) -> bool:
    """A line of a cookie notice: "We use cookies ... you accept ...", "Accept all"."""
    if _CONSENT_BUTTON_RE.fullmatch(line.strip(" .!")):
        return True
    return bool(_COOKIE_RE.search(line) and _CONSENT_WORD_RE.search(line))


def _headline_like(line: str) -> bool:
    """At most HEADLINE_MAX_WORDS words, not ending like a sentence or a clause (. , ; :)."""
    return (
        bool(line) and len(line.split()) <= HEADLINE_MAX_WORDS and line.rstrip("\"'”’»)]")[-1:] not in ".,;:"
    )


def _opening(cleaned: str, furniture: Sequence[tuple[int, int, str]] = ()) -> tuple[str | None, int]:
    """(the headline, where the text after it starts) when the text starts with one, else
    (None, where the article's own text starts).

    Read over at the top: the lines of a cookie notice that cleaning left (:func:`_is_consent`), bylines,
    and a section label of at most LABEL_MAX_WORDS words right above a longer headline-like
    line ("Business" / "Busan terminal swaps diesel cranes ..."). The headline needs text after it.
    """
    lines = [(m.start(), m.end(), m[0].strip()) for m in re.finditer(r"[^\n]+", cleaned[:HEAD_SCAN_CHARS])]
    covered = {i for start, end, _role in furniture if start < HEAD_SCAN_CHARS for i in range(start, end)}
    lines = [line for line in lines if line[2] and not _all_covered(cleaned, line[0], line[1], covered)]
    skip = 0
    while skip < min(len(lines), HEAD_SCAN_LINES) and (
        _is_consent(lines[skip][2]) or byline_names(lines[skip][2])
    ):
        skip += 1
    lines = lines[skip:]
    start = lines[0][0] if lines else 0
    while start in covered:  # a dateline: the lead starts after it
        start += 1
    if len(lines) < 2 or not _headline_like(lines[0][2]):
        return None, start
    head = lines[0]
    if len(head[2].split()) <= LABEL_MAX_WORDS and len(lines) > 2:
        below = lines[1][2]
        if _headline_like(below) and len(below.split()) > LABEL_MAX_WORDS:
            head = lines[1]
    return head[2], head[1]


def _all_covered(text: str, start: int, end: int, covered: set[int]) -> bool:
    """Whether every non-blank character of ``text[start:end]`` is furniture."""
    return bool(covered) and all(i in covered or text[i].isspace() for i in range(start, end))


@lru_cache(maxsize=16)
def _segmenter(language: str):  # -> pysbd.Segmenter
    import pysbd

    try:
        return pysbd.Segmenter(language=language, clean=False)
    except ValueError:
        return pysbd.Segmenter(language="en", clean=False)


def _first_sentence(text: str) -> str:
    from rag.index.language import detect_language

    sample = text.strip()[:600]
    lang = detect_language(sample)
    parts = [p.strip() for p in _segmenter(lang if lang != "und" else "en").segment(sample) if p.strip()]
    return parts[0].split("\n")[0] if parts else ""


def _shorten(text: str, limit: int = TITLE_MAX_CHARS) -> str:
    if len(text) <= limit + 20:
        return text
    cut = text[:limit].rsplit(" ", 1)[0].rstrip(" ,;:-–—")
    return cut + "…"


def title_from_filename(filename: str) -> str:
    """``"2026-01-19-ajp-lee-meloni.de.txt"`` -> ``"Ajp lee meloni"``."""
    stem = re.sub(r"\.[a-z]{2}$", "", PurePath(filename).stem)  # "article.de.txt": language tag
    stem = re.sub(r"^\d{4}(?:-\d{2}){0,2}[-_ ]*", "", stem)
    words = re.split(r"[-_\s]+", stem)
    text = " ".join(w for w in words if w)
    return (text[:1].upper() + text[1:]) if text else PurePath(filename).name or "Untitled"


def title_and_kind(
    cleaned: str, filename: str, furniture: Sequence[tuple[int, int, str]] = ()
) -> tuple[str, str]:
    """(the headline, "headline"), else (the first sentence shortened, "lead"), else (a title
    made from the file name, "file"). Furniture (a caption, a byline, a dateline) is read over."""
    head, start = _opening(cleaned, furniture)
    if head:
        return _shorten(head), "headline"
    if cleaned[start:].strip() and (first := _first_sentence(cleaned[start:])):
        return _shorten(first), "lead"
    return title_from_filename(filename), "file"
