"""Turn a scraped article into clean text: ``clean_text(raw) -> str``.

Scraped pages carry debris around the article: navigation ("Back To Top",
"Skip to content"), section teasers ("MOST POPULAR", "Also Read: <headline>"),
share/print/log-in buttons, bylines and time stamps, repeated photo captions,
interface strings in another script ("기사 이미지 확대 보기" in an English page).
Every later character offset refers to the text this module returns, so it
only ever drops whole lines and normalises whitespace; it never rewrites the
words of a line it keeps.

The rules work line by line and are meant for any outlet, not only the seed
articles; none of them lists a seed's own strings:

1. Whitespace: Unicode NFC; CR/LF and Unicode line separators become "\\n";
   non-breaking and other Unicode spaces become " "; zero-width characters,
   soft hyphens and control characters go; runs of spaces collapse; lines are
   stripped; runs of blank lines become one blank line (paragraph break),
   single newlines stay.
2. A metadata prefix glued to the first sentence ("date 2026-01-19 South
   Korean President ...") is cut off the line; ``rag.index.meta`` reads the date from
   the raw text.
3. A *real sentence* is never dropped by the debris rules: a line that ends
   with . ! ? … (or their CJK forms), or with a closing quote, possibly
   followed by closing quotes/brackets, and has at least 2 words (4 letters of
   Hangul/Han/kana) stays, however short ("He declined to comment.", "No
   comment."). Exceptions, because they are never article text: copyright
   lines ("All rights reserved"), pure bylines ("By Jane Doe (jane@example.com)"),
   "label: Title-Case teaser" lines and two-word lines made only of interface
   words ("Read more.").
4. Debris, for lines that are not real sentences:
   - navigation: at most 8 words, every word from a vocabulary of interface
     words (share, print, subscribe, top, latest, popular, advertisement,
     teilen, 닫기, 기사, ... in EN/DE/KO and a few other languages) or
     fillers (to, the, this, zum, ...), at least one of them an interface word;
   - short ALL-CAPS lines (at most 4 words): section labels, wire credits;
   - "label: teaser" where the label is made of interface words ("Also Read:",
     "Related Stories:", "Lesen Sie auch:") and the rest is a headline
     (no final punctuation, or mostly Title-Case); this rule applies even to
     a teaser that ends in "?" or "." when it is Title-Case;
   - lines after a list heading ("MOST POPULAR", "Related") that are headlines
     (not sentences, at most 20 words), until the next real sentence;
   - bylines, "Posted : ...", "Updated ...", "입력 ..." time-stamp lines, lines
     that are only a date and time, lone e-mail addresses or URLs;
   - breadcrumbs ("Home > World > Asia"), lines in brackets ("(Yonhap)"),
     lines that start with a teaser arrow (▶, ☞, ...);
   - a short line (at most 8 words) whose dominant script is not the article's
     ("지나쌤" or "닫기" in an English article, "Поделиться" in an English page).
     Han counts as the same family as kana (Japanese) and as Hangul (hanja in
     Korean text);
   - after the last real sentence, short lines (at most 12 words) that are not
     sentences (footer debris).
5. Repeats: a line of at least 4 words whose words (lower-cased, punctuation
   ignored) equal an earlier line's is dropped; the first occurrence stays.
   So a photo caption repeated with or without a final "." appears once.

Choices: the headline (first line, no final period) is kept; pure byline and
time-stamp lines are dropped (the metadata keeps byline and date); a
dateline glued to the first sentence ("SEOUL, January 19 (AJP) - South
Korean ...") stays, it is part of that sentence. Photo captions are kept
once: they are text about the event.
"""

from __future__ import annotations

import logging
import re
import unicodedata

from rag.index.language import dominant_script, script_counts

LOG = logging.getLogger(__name__)

NAV_MAX_WORDS = 8
CAPS_MAX_WORDS = 4
OTHER_SCRIPT_MAX_WORDS = 8
TEASER_MAX_WORDS = 20
TAIL_MAX_WORDS = 12
DEDUP_MIN_WORDS = 4
DEBRIS_MAX_CHARS = 500

# Interface vocabulary: a line made only of these (and fillers) is navigation.
NAV_WORDS = frozenset(
    """
    back top skip jump main content contents menu navigation nav home homepage search sitemap
    share shares sharing shared print printer email e-mail mail tweet facebook twitter x linkedin whatsapp
    reddit pinterest telegram kakaotalk kakao copy copied link url subscribe subscribed subscription
    subscriptions unsubscribe newsletter newsletters sign signin signup log login logout register account
    profile comments comment advertisement advertisements advertising ad ads sponsored sponsor promoted
    popular most latest news headlines trending read related stories story articles article next previous
    prev close open expand enlarge zoom view image images photo photos gallery slideshow video videos
    watch listen audio podcast follow cookie cookies accept settings privacy policy terms contact rss font
    size text larger smaller reset scroll continue reading load show hide toggle click tap download app
    apps recommended picks editor's editors feedback report bookmark save tags tag topics section sections
    donate premium caption credit fullscreen see button icon logo play pause replay weather inbox
    zurück oben inhalt hauptinhalt springen überspringen menü startseite suche suchen teilen drucken
    kopieren abonnieren abo anmelden abmelden registrieren konto kommentare kommentar anzeige werbung
    gesponsert meistgelesen meistgelesene beliebt neueste nachrichten aktuell lesen thema themen artikel
    weiter weiterlesen schließen öffnen vergrößern bild bilder foto fotos galerie anhören vorlesen folgen
    akzeptieren einstellungen datenschutz impressum kontakt schriftgröße merken empfehlen übersicht
    partager imprimer publicité lire aussi condividi stampa pubblicità leggi compartir imprimir
    publicidad leer
    기사 이미지 확대 축소 보기 닫기 열기 공유 공유하기 인쇄 인쇄하기 구독 구독하기 로그인 로그아웃
    회원가입 많이 본 많이본 뉴스 최신 최신뉴스 관련 관련기사 관련뉴스 댓글 스크랩 글자 글씨 크기
    맨위로 위로 이전 다음 목록 메뉴 검색 전체 전체메뉴 기사보기 광고 페이스북 트위터 카카오톡
    카카오스토리 밴드 복사 주소 링크 바로가기 본문 인기 인기기사 추천 추천기사 홈 저장 좋아요
    제보 기사제보 프린트 이메일 더보기 펼치기 접기 영상 사진 동영상 듣기 기사듣기 번역 설정
    """.split()
)
FILLER_WORDS = frozenset(
    """
    to the a an this that these of on in for our us me my with and or your you now here it its up out
    off at by from via all more also page today
    und oder der die das den dem des zu zum zur im auf für mit von nach sie auch hier jetzt ihr ihre
    unser unsere alle
    la le les de du et à il al da di e y el en
    """.split()
)
# Headings that open a list of teasers ("MOST POPULAR" followed by headlines).
LIST_HEADING_WORDS = frozenset(
    "popular latest trending related recommended stories headlines picks meistgelesen meistgelesene "
    "neueste beliebt 관련기사 관련뉴스 인기 인기기사 추천기사 최신뉴스 많이본".split()
)
TIMESTAMP_LABELS = (
    "posted|published|updated|last updated|date|dated|datum|veröffentlicht|aktualisiert|stand|"
    "publié|mis à jour|pubblicato|aggiornato|publicado|actualizado|입력|수정|등록|업데이트|기사입력|최종수정"
)

_MONTHS = (
    "january|february|march|april|may|june|july|august|september|october|november|december|"
    "jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec|"
    "januar|jänner|februar|märz|mai|juni|juli|oktober|dezember|okt|dez"
)
_WEEKDAYS = (
    "monday|tuesday|wednesday|thursday|friday|saturday|sunday|mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun|"
    "montag|dienstag|mittwoch|donnerstag|freitag|samstag|sonntag"
)

_SENTENCE_END = ".!?…。！？"
_CLOSERS = "\"'”’»«)]）」』›"
_QUOTE_CLOSERS = '”’»"」』'
_WORD_RE = re.compile(r"[\w'’&-]+")
_KEY_RE = re.compile(r"\w+")
_EMAIL_RE = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_URL_RE = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_ISO_DATE = r"\d{4}[-./]\d{1,2}[-./]\d{1,2}\.?"
_META_PREFIX_RE = re.compile(
    rf"^(?:{TIMESTAMP_LABELS})\s*[:：]?\s*{_ISO_DATE}(?:\s+\d{{1,2}}:\d{{2}}(?::\d{{2}})?)?\s+(?=\S)",
    re.IGNORECASE,
)
_TIMESTAMP_LINE_RE = re.compile(rf"^(?:{TIMESTAMP_LABELS})\b\s*[:：]?", re.IGNORECASE)
_DATE_TOKEN_RE = re.compile(
    rf"\b(?:{_MONTHS}|{_WEEKDAYS}|am|pm|kst|gmt|utc|cet|cest|est|edt|pst|jst|uhr)\b\.?|\d+|"
    r"[년월일시분]|[\s,.:/()\-–—|·]",
    re.IGNORECASE,
)
_LABEL_RE = re.compile(r"^(?P<label>[^:：|]{2,40}?)\s*[:：|]\s*(?P<rest>\S.*)$")
_NAME = r"[A-ZÀ-ÞĀ-Ž][\w'’.-]*"
BYLINE_RE = re.compile(
    rf"^(?i:by|von|par|por|di|door|av|da)\s+(?P<names>{_NAME}(?:\s+(?:{_NAME}|and|und|et|y|e|&|,))*?)"
    r"\s*(?P<rest>$|[(\[|,–—-].*|(?i:posted|updated|published|veröffentlicht|aktualisiert)\b.*|[\w.+-]+@.*)$"
)
KO_BYLINE_RE = re.compile(
    r"^(?:[(\[].{1,20}[)\]]\s*)?(?P<name>[가-힣]{2,4})\s*(?:기자|특파원|논설위원|객원기자)\b"
)
_BREADCRUMB_SEP_RE = re.compile(r"\s+(?:>|›|»|/|\||::)\s+")
_ARROWS = "▶►▷☞→»·•◆■□●◇▲△▸"
_COPYRIGHT_RE = re.compile(
    r"(?:^\s*(?:©|ⓒ|\(c\)|copyright\b))|all rights reserved|alle rechte vorbehalten|"
    r"무단\s*전재|재배포\s*금지",
    re.IGNORECASE,
)
_ZERO_WIDTH_RE = re.compile("[\u200b\u2060\ufeff\u00ad\u180e]")
_LINE_END_RE = re.compile(r"\r\n?|[\u2028\u2029\x0b\x0c\x85]")
# Unicode's control characters (category Cc, a fixed set) other than "\t" and "\n".
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# Runs of "\t" and Unicode spaces (Zs): all the whitespace str.isspace() knows besides line ends
# and control characters.
_BLANKS_RE = re.compile(r"[^\S\n]+")
_SCRIPT_FAMILIES = ({"Han", "Hiragana", "Katakana"}, {"Hangul", "Han"})


def clean_text(raw: str) -> str:
    """The article text of ``raw`` without page debris, with normalised whitespace.

    >>> clean_text("Back To Top\\n\\nSeoul and Rome agree\\n\\n  The leaders met on Monday.\\nsubscribe\\n")
    'Seoul and Rome agree\\n\\nThe leaders met on Monday.'
    """
    if not isinstance(raw, str):
        raise TypeError(f"clean_text expects a str, got {type(raw).__name__}")
    lines = normalise_whitespace(raw).split("\n")
    script = dominant_script(raw)
    kept: list[str] = []
    seen: set[str] = set()
    in_teaser_list = False
    for line in lines:
        if not line:
            kept.append("")
            continue
        line = _META_PREFIX_RE.sub("", line, count=1)
        sentence = is_sentence(line)
        if sentence:
            in_teaser_list = False
        if _is_debris(line, script, sentence):
            if _is_list_heading(line):
                in_teaser_list = True
            continue
        if in_teaser_list and not sentence and len(line.split()) <= TEASER_MAX_WORDS:
            continue
        key = " ".join(_KEY_RE.findall(line.lower()))
        if len(key.split()) >= DEDUP_MIN_WORDS:
            if key in seen:
                continue
            seen.add(key)
        kept.append(line)
    kept = _trim_tail(kept)
    return _join(kept)


def normalise_whitespace(raw: str) -> str:
    """NFC, "\\n" line ends, plain spaces, no zero-width or control characters, stripped lines."""
    text = _ZERO_WIDTH_RE.sub("", unicodedata.normalize("NFC", raw))
    text = _LINE_END_RE.sub("\n", text)
    text = _BLANKS_RE.sub(" ", _CONTROL_RE.sub("", text))
    return "\n".join(line.strip() for line in text.split("\n"))


def is_sentence(line: str) -> bool:
    """True for a line that ends like a sentence and is long enough to be one:
    ``is_sentence("He declined to comment.") is True``, ``is_sentence("Read more") is False``."""
    body = line.rstrip(_CLOSERS + " ")
    if not body:
        return False
    ends = body[-1] in _SENTENCE_END or (line[-1] in _QUOTE_CLOSERS and len(line) > 1)
    if not ends:
        return False
    if len(line.split()) >= 2:
        return True
    counts = script_counts(line)
    return counts["Hangul"] + counts["Han"] + counts["Hiragana"] + counts["Katakana"] >= 4


def _words(line: str) -> list[str]:
    return [w.strip("'’-") for w in _WORD_RE.findall(line.lower()) if w.strip("'’-")]


def _is_nav(words: list[str], max_words: int = NAV_MAX_WORDS) -> bool:
    if not words or len(words) > max_words:
        return False
    return any(w in NAV_WORDS for w in words) and all(
        w in NAV_WORDS or w in FILLER_WORDS or w.isdigit() for w in words
    )


def _is_list_heading(line: str) -> bool:
    words = _words(line)
    return _is_nav(words) and any(w in LIST_HEADING_WORDS for w in words)


def _is_caps(line: str) -> bool:
    letters = [c for c in line if c.isalpha()]
    return (
        len(letters) >= 2
        and all(c.isupper() for c in letters if c.isupper() or c.islower())
        and any(c.isupper() for c in letters)
        and len(line.split()) <= CAPS_MAX_WORDS
    )


def _is_teaser(line: str) -> bool:
    m = _LABEL_RE.match(line)
    if not m or not _is_nav(_words(m["label"]), max_words=5):
        return False
    rest = m["rest"]
    words = rest.split()
    if len(words) > TEASER_MAX_WORDS:
        return False
    if not is_sentence(rest):
        return True
    cased = [w for w in words if w[:1].isalpha() and (w[:1].isupper() or w[:1].islower())]
    return bool(cased) and sum(w[:1].isupper() for w in cased) >= 0.6 * len(cased)


def byline_names(line: str) -> str | None:
    """The author names of a byline line, else None:
    ``byline_names("By Choi Si-young (siyoungchoi@heraldcorp.com)") == "Choi Si-young"``,
    ``byline_names("By Monday, officials had left.") is None``,
    ``byline_names("홍길동 기자") == "홍길동"``."""
    line = " ".join(line.split())
    m = BYLINE_RE.match(line)
    if m:
        names = m["names"].strip(" ,")
        if re.fullmatch(rf"(?:{_MONTHS}|{_WEEKDAYS})", names.split()[0].lower().strip(",.")):
            return None
        if is_sentence(line) and not _EMAIL_RE.search(m["rest"]):
            return None
        return names
    m = KO_BYLINE_RE.match(line)
    if m and len(line.split()) <= 8 and not is_sentence(line):
        return m["name"]
    return None


def _is_date_only(line: str) -> bool:
    return bool(re.search(r"\d", line)) and not _DATE_TOKEN_RE.sub("", line).strip()


def _is_breadcrumb(line: str) -> bool:
    parts = _BREADCRUMB_SEP_RE.split(line)
    return len(parts) >= 3 and all(0 < len(p.split()) <= 4 for p in parts)


def _other_script(line: str, script: str) -> bool:
    mine = dominant_script(line)
    if not mine or not script or mine == script or len(line.split()) > OTHER_SCRIPT_MAX_WORDS:
        return False
    return not any(mine in fam and script in fam for fam in _SCRIPT_FAMILIES)


def _is_debris(line: str, script: str, sentence: bool) -> bool:
    """Whether a (non-empty, stripped) line is page debris; see the module docstring."""
    if not any(c.isalpha() for c in line):
        return True
    if len(line) > DEBRIS_MAX_CHARS:  # every debris rule is about short lines; keeps the regexes linear
        return False
    if _COPYRIGHT_RE.search(line) and len(line.split()) <= 25:
        return True
    if _is_teaser(line) or byline_names(line):
        return True
    words = _words(line)
    if sentence:  # a two-word "sentence" made of interface words ("Read more.") is still debris
        return len(line.split()) < 3 and _is_nav(words)
    if _is_nav(words) or _is_caps(line):
        return True
    if _TIMESTAMP_LINE_RE.match(line) and len(words) <= 15 and any(c.isdigit() for c in line):
        return True
    if _is_date_only(line):
        return True
    without_links = _URL_RE.sub("", _EMAIL_RE.sub("", line) if "@" in line else line)
    if not any(c.isalpha() for c in without_links):
        return True
    if line[0] in _ARROWS or _is_breadcrumb(line):
        return True
    if line[0] in "([（【" and line[-1] in ")]）】" and len(words) <= 5:
        return True
    return _other_script(line, script)


def _trim_tail(lines: list[str]) -> list[str]:
    """Drop short non-sentence lines after the last real sentence (footer debris)."""
    last = max((i for i, line in enumerate(lines) if line and is_sentence(line)), default=None)
    if last is None:
        return lines
    tail = [line for line in lines[last + 1 :] if not line or len(line.split()) > TAIL_MAX_WORDS]
    return lines[: last + 1] + tail


def _join(lines: list[str]) -> str:
    out: list[str] = []
    for line in lines:
        if not line and (not out or not out[-1]):
            continue
        out.append(line)
    while out and not out[-1]:
        out.pop()
    return "\n".join(out)
