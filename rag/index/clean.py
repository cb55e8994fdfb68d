"""Turn a scraped article into clean text and its furniture: ``clean_article(raw) -> (text, furniture)``.

``clean_text(raw)`` is the text alone.

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
   "Reporting by ..." credits, cookie banners ("We use cookies ..."), "label:
   Title-Case teaser" lines and two-word lines made only of interface words
   ("Read more.").
4. Debris, for lines that are not real sentences:
   - navigation: at most 8 words, every word from a vocabulary of interface
     words (share, print, subscribe, top, latest, popular, advertisement,
     teilen, 닫기, 기사, ... in EN/DE/KO and a few other languages) or
     fillers (to, the, this, zum, ...), at least one of them an interface word;
   - short ALL-CAPS lines (at most 4 words): section labels (a photo credit such as "YONHAP" is
     kept as furniture, see below);
   - (kept as "related" furniture, see below:) "label: teaser" where the label is
     made of interface words ("Also Read:",
     "Related Stories:", "Lesen Sie auch:") and the rest is a headline
     (no final punctuation, or mostly Title-Case); this rule applies even to
     a teaser that ends in "?" or "." when it is Title-Case;
   - (kept as "related" furniture:) lines after a list heading ("MOST POPULAR", "Related") that are headlines
     (not sentences, at most 20 words), until the next real sentence;
   - "Posted : ...", "Updated ...", "입력 ..." time-stamp lines, lines
     that are only a date and time, lone e-mail addresses or URLs;
   - breadcrumbs ("Home > World > Asia"), short lines in brackets ("(Video)"),
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

Choices: the headline (first line, no final period) is kept; bylines are kept
as furniture and time-stamp lines dropped (the metadata keeps byline and date); a
dateline glued to the first sentence ("SEOUL, January 19 (AJP) - South
Korean ...") stays in the text. Photo captions are kept once: they are text
about the event.

Furniture: text that is kept but is not the article's prose, returned by
``clean_article`` as ``(start, end, role)`` ranges into the text, so the full
article can show it marked and the index can leave it out of sentences,
chunks and answers:

- "caption": a line that ends in a photo credit (below), or starts with a
  photo label ("Photo: ...", "Foto: ...", "[사진] ..."), or is the first of a
  pair of (near-)identical lines before the body (a caption the page shows
  twice); the credit at its end is its own "credit" range;
- "credit": a photo credit, at the end of a caption or on a line of its own:
  a wire or photo agency in capitals or in brackets after the caption's last
  sentence ("... on Monday. (Yonhap)", "... on January 19 YONHAP"), a photo
  label with a name ("Photo: Reuters", "Foto: dpa", "Bild: Keystone",
  "사진=연합뉴스", "[사진=대통령실 제공]", "[Photo by Jane Doe]"),
  "... AFP via Getty Images", "REUTERS/Kim Hong-Ji", "/ Reuters", "/연합뉴스";
- "dateline": the place, date and wire prefix of a line's first sentence
  ("SEOUL, January 19 (AJP) - ", "BERLIN (dpa) - ", "(서울=연합뉴스) ");
- "byline": a byline line with its time stamps ("By Jane Doe Posted : ..."), or
  the reporter in a Korean wire prefix;
- "related": a "related articles" teaser ("Also Read: ...", "Lesen Sie auch: ...")
  or a headline of the list after "MOST POPULAR" or "Related" (the heading itself
  is dropped). Such lines after the last sentence are footer debris and dropped.

Recognised and dropped: "Reporting by ...; Editing by ..." credits, copyright
lines, time-stamp lines on their own. Furniture is looked for before the debris
rules (a credit alone, "YONHAP", is also a short ALL-CAPS line); the first line
of the text is a caption only by a photo label (a headline may end in "AFP").
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
    manage preferences reject decline consent
    zurück oben inhalt hauptinhalt springen überspringen menü startseite suche suchen teilen drucken
    kopieren abonnieren abo anmelden abmelden registrieren konto kommentare kommentar anzeige werbung
    gesponsert meistgelesen meistgelesene beliebt neueste nachrichten aktuell lesen thema themen artikel
    weiter weiterlesen schließen öffnen vergrößern bild bilder foto fotos galerie anhören vorlesen folgen
    akzeptieren einstellungen datenschutz impressum kontakt schriftgröße merken empfehlen übersicht
    verwalten ablehnen
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
    r"[년월일시분]|[\s,.:/()\-–—|·+]",
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
# A cookie banner speaks to the reader about this site: "We use cookies ...", "By continuing you accept ...".
_COOKIE_RE = re.compile(
    r"\b(?:we|this (?:web)?site|our (?:web)?site)\b.{0,40}\bcookies\b"
    r"|\bcookies\b.{0,80}\b(?:you (?:accept|agree|consent)|by continuing)"
    r"|\bwir (?:verwenden|nutzen|setzen) cookies"
    r"|\b(?:diese|unsere) (?:webseite|website|seite) (?:verwendet|nutzt) cookies"
    r"|쿠키를 사용",
    re.IGNORECASE,
)
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

# ---- furniture: captions, photo credits, datelines (see the module docstring)

CAPTION_MAX_WORDS = 60
CREDIT_MAX_WORDS = 6
# Wire and photo agencies: a bracketed or bare credit naming one is a photo credit.
AGENCIES = frozenset(
    """
    yonhap yna reuters afp ap epa efe dpa ddp apa sda anp ansa xinhua kyodo jiji newsis news1 kcna tass ria
    pti ani upi bloomberg getty imago shutterstock pool nurphoto sipa zuma keystone 연합뉴스 뉴시스 뉴스1
    """.split()
)
_PHOTO_WORDS = (
    r"photo(?:graph)?s?|pictures?|images?|credits?|source|courtesy|fotos?|bild(?:er)?|quelle|"
    r"사진|그래픽|자료사진|영상"
)
_END = r"(?<=[.!?。！？\"”’'])"  # just after a sentence end (a closing quote counts)
_CREDIT_NAME = r"[^\s\[\]()<>][^\[\]()<>]{0,59}?"
# "Photo: Reuters", "[Photo by Jane Doe]", "(Foto: dpa)", "사진=연합뉴스", "[사진=대통령실 제공]",
# "Photo courtesy of X"
_LABEL_CREDIT_RE = re.compile(
    rf"(?:^|(?<=\s))[\[(<]?(?i:{_PHOTO_WORDS})(?:\s+(?i:courtesy\s+of|by|von)\s+|\s*(?:[:：=]|(?i:제공)\s*=)\s*)"
    rf"{_CREDIT_NAME}[\])>]?$"
)
# "[연합뉴스 자료사진]", "(대통령실 제공)"
_KO_CREDIT_RE = re.compile(r"(?:^|(?<=\s))[\[(<][^\[\]()<>]{1,20}\s?(?:자료사진|제공|사진)[\])>]$")
# "(Yonhap)", "(AP Photo/Ahn Young-joon)", "[AFP]" after the caption's last sentence
_BRACKET_CREDIT_RE = re.compile(rf"{_END}\s*(?P<credit>[\[(][^\[\]()]{{2,50}}[\])])$")
# "... on January 19. YONHAP", "... Seoul. KOREA HERALD"
_CAPS_CREDIT_RE = re.compile(rf"{_END}\s*(?P<credit>[A-Z][A-Z0-9&.-]+(?:\s[A-Z][A-Z0-9&.-]+){{0,2}})$")
# "... on January 19 YONHAP": a known agency in capitals, without a sentence end before it
_AGENCY_CAPS_RE = re.compile(r"\s(?P<credit>[A-Z][A-Z0-9-]+(?:\s(?:PHOTO|IMAGES))?)$")
# "Jung Yeon-je/AFP via Getty Images", "REUTERS/Kim Hong-Ji", "Kim Hong-Ji/Reuters"
_GETTY_RE = re.compile(
    r"(?:^|\s)(?P<credit>(?:[^\s/]+(?<![.!?])(?:\s[^\s/]+(?<![.!?])){0,2}/)?(?:\S+\s+via\s+)?Getty\s+Images)$"
)
_SLASH_NAME_RE = re.compile(r"(?:^|\s)(?P<a>[\w.'-]+)/(?P<b>[\w.'-]+(?:\s[\w.'-]+){0,2})$")
# "... on Monday. / Reuters", "... 악수하고 있다. /연합뉴스"
_SLASH_CREDIT_RE = re.compile(rf"{_END}\s*(?P<credit>/\s?[\w가-힣][\w가-힣.&'-]*(?:\s[\w.&'-]+){{0,2}})$")
_AGENCY_SPLIT_RE = re.compile(r"[\s/-]+")
# A line that starts with a photo label: "Photo: Leaders meet ...", "[Photo] ...", "사진설명: ..."
_PHOTO_LABEL_RE = re.compile(
    r"^[\[(<]?(?i:photo(?:graph)?|picture|image|caption|pictured|foto|bild|bildunterschrift|사진|사진설명)"
    r"(?:[\])>]\s*|\s*[:：=|]\s*)(?=\S)"
)
# A Reuters-style credit line: "Reporting by Jane Doe; Editing by John Roe" (dropped like a byline).
_REPORTING_RE = re.compile(
    r"^(?:additional\s+)?(?:reporting|writing|editing|compiled|produced)\s+by\s"
    r"|^(?:mit material von|mitarbeit:)",
    re.IGNORECASE,
)

_DATELINE_DATE = (
    rf"(?i:(?:{_MONTHS})\.?\s+\d{{1,2}}|\d{{1,2}}\.?\s+(?:{_MONTHS})\.?|\d{{1,2}}\.\s?\d{{1,2}}\.(?:\d{{2,4}})?)"
    r"(?:,?\s+\d{4})?"
)
_PLACE_CAPS = r"[A-ZÀ-Þ][A-ZÀ-Þ.'’-]+(?:[ /-][A-ZÀ-Þ][A-ZÀ-Þ.'’-]+){0,3}"
_PLACE = r"[A-ZÀ-Þ][\w.'’-]+(?:[ /-][A-ZÀ-Þ][\w.'’-]+){0,3}"
_WIRE = r"\((?P<wire>[^()]{2,30})\)"
# "SEOUL, January 19 (AJP) - ", "BERLIN, 3. März (Reuters) – ", "Berlin (dpa) - ", "WASHINGTON (AP) — "
DATELINE_RE = re.compile(
    rf"^(?:(?P<caps>{_PLACE_CAPS})|{_PLACE})(?:,\s*(?P<date>{_DATELINE_DATE}))?\s*(?:{_WIRE})?\s*"
    r"(?:-{1,2}|[–—])\s*(?=[A-ZÀ-Þ0-9\"“„'‘«])"
)
# "(서울=연합뉴스) 홍길동 기자 = ", "[서울=뉴시스]"
KO_DATELINE_RE = re.compile(
    r"^(?P<dateline>[(\[][가-힣A-Za-z ]{1,15}=[^()\[\]=]{1,15}[)\]])\s*"
    r"(?P<byline>(?:[가-힣]{2,4}\s?(?:기자|특파원)\s?[,·]?\s?)+=)?\s*(?=\S)"
)


Range = tuple[int, int, str]  # (start, end, role) in a line or in the text


def clean_text(raw: str) -> str:
    """The article text of ``raw`` without page debris, with normalised whitespace.

    >>> clean_text("Back To Top\\n\\nSeoul and Rome agree\\n\\n  The leaders met on Monday.\\nsubscribe\\n")
    'Seoul and Rome agree\\n\\nThe leaders met on Monday.'
    """
    return clean_article(raw)[0]


def clean_article(raw: str) -> tuple[str, tuple[Range, ...]]:
    """The article text of ``raw`` (as :func:`clean_text`) and its furniture: ``(start, end, role)``
    ranges into that text, in order, not overlapping (see the module docstring).

    >>> text, furniture = clean_article("Leaders meet in Seoul on Monday. (Yonhap)\\nThey agreed on trade.")
    >>> furniture, text[33:41]
    (((0, 32, 'caption'), (33, 41, 'credit')), '(Yonhap)')
    """
    if not isinstance(raw, str):
        raise TypeError(f"clean_text expects a str, got {type(raw).__name__}")
    lines = [_META_PREFIX_RE.sub("", line, count=1) for line in normalise_whitespace(raw).split("\n")]
    script = dominant_script(raw)
    kept: list[tuple[str, list[Range]]] = []
    seen: set[str] = set()
    in_teaser_list = False
    body = False  # a line of prose has been kept: the pair rule for captions no longer applies
    for i, line in enumerate(lines):
        if not line:
            kept.append(("", []))
            continue
        sentence = is_sentence(line)
        if sentence:
            in_teaser_list = False
        key = " ".join(_KEY_RE.findall(line.lower()))
        first = not any(text for text, _ in kept)
        roles = None if _never_furniture(line) else furniture_of_line(line, first=first)
        if roles is None and not body and len(key.split()) >= DEDUP_MIN_WORDS and i + 1 < len(lines):
            if " ".join(_KEY_RE.findall(lines[i + 1].lower())) == key:  # a caption shown twice
                roles = _caption(line)
        if roles is None and not sentence_of_prose(line, sentence):
            roles = page_furniture(line)
        if roles is None:
            if _is_debris(line, script, sentence):
                if _is_list_heading(line):
                    in_teaser_list = True
                continue
            if in_teaser_list and not sentence and len(line.split()) <= TEASER_MAX_WORDS:
                roles = [(0, len(line), "related")]  # a headline of the list
        if len(key.split()) >= DEDUP_MIN_WORDS:
            if key in seen:
                continue
            seen.add(key)
        if roles is None:
            roles = dateline_of(line)
            body = body or sentence
        kept.append((line, roles))
    return _join(_trim_tail(kept))


def furniture_of_line(line: str, *, first: bool = False) -> list[Range] | None:
    """The furniture ranges of one cleaned line when it is a caption or a credit line, else None;
    ``first``: the line is the text's first (a headline: only a photo label makes it a caption).

    >>> furniture_of_line("Leaders meet in Seoul on Monday. (Yonhap)")
    [(0, 32, 'caption'), (33, 41, 'credit')]
    >>> furniture_of_line("Foto: dpa"), furniture_of_line("The Seoul-based Yonhap News reported this.")
    ([(0, 9, 'credit')], None)
    """
    if len(line) > DEBRIS_MAX_CHARS or not any(c.isalpha() for c in line):
        return None
    bare = line.strip("()[]")
    if len(line) <= 40 and _is_agency(bare) and (bare.isupper() or bare != line) and len(bare.split()) <= 3:
        return [(0, len(line), "credit")]  # "YONHAP", "(Yonhap)", "[AFP]"
    label = _PHOTO_LABEL_RE.match(line)
    credit = credit_start(line, first=first)
    if credit is None and not label:
        return None
    if label and len(line[label.end() :].split()) <= 3 and not is_sentence(line):
        return [(0, len(line), "credit")]  # "Photo: Jane Doe", "Foto: dpa"
    if credit is not None and len(line[:credit].split()) < 2 and not label:
        return [(0, len(line), "credit")]  # "(Yonhap)", "YONHAP", "사진=연합뉴스"
    if len(line.split()) > CAPTION_MAX_WORDS:
        return None
    return _caption(line, credit)


def _caption(line: str, credit: int | None = -1) -> list[Range]:
    """A caption line as ranges: the caption, then its credit when it ends in one."""
    if credit == -1:
        credit = credit_start(line)
    if not credit:  # none, or the whole line after a photo label ("Photo: Leaders meet ...")
        return [(0, len(line), "caption")]
    return [(0, len(line[:credit].rstrip()), "caption"), (credit, len(line), "credit")]


def credit_start(line: str, *, first: bool = False) -> int | None:
    """Where the photo credit at the end of ``line`` starts, or None when it ends in none.

    >>> credit_start("Meloni in Seoul on January 19 YONHAP"), credit_start("Korea joins NATO")
    (30, None)
    """
    if line[-1] in _SENTENCE_END:  # a credit never ends in a full stop: prose, the common case
        return None
    for pattern in (_LABEL_CREDIT_RE, _KO_CREDIT_RE):
        if m := pattern.search(line):
            if len(line[m.start() :].split()) <= CREDIT_MAX_WORDS + 2 and not _ends_sentence(m.group()):
                return m.start()
    if (m := _BRACKET_CREDIT_RE.search(line)) and not _is_sign_off(m["credit"]):
        inner = m["credit"][1:-1]
        if _is_agency(inner) or _is_caps_words(inner) or re.search(rf"(?i:{_PHOTO_WORDS})", inner):
            return m.start("credit")
    if first:
        return None
    if (m := _CAPS_CREDIT_RE.search(line)) and not _is_sign_off(m["credit"]):
        return m.start("credit")
    m = _AGENCY_CAPS_RE.search(line)
    if m and _is_agency(m["credit"]) and m["credit"].isupper() and len(line.split()) >= 6:
        return m.start("credit")
    if "Getty" in line and (m := _GETTY_RE.search(line)):
        return m.start("credit")
    if (m := _SLASH_NAME_RE.search(line)) and not line.endswith(tuple(_SENTENCE_END)):
        if _is_agency(m["a"]):  # "REUTERS/Kim Hong-Ji"
            return m.start("a")
        if _is_agency(m["b"]):  # "Kim Hong-Ji/Reuters": the name's capitalised words before the slash
            start = m.start("a")
            for word in reversed(line[: m.start("a")].split()[-2:]):
                if not word[:1].isupper() or word[-1] in _SENTENCE_END:
                    break
                start = line.rindex(word, 0, start)
            return start
    if m := _SLASH_CREDIT_RE.search(line):
        return m.start("credit")
    return None


def _is_agency(text: str) -> bool:
    if len(text) > 80:
        return False
    words = _AGENCY_SPLIT_RE.split(text.strip().lower())
    return any(w in AGENCIES for w in words[:2]) and len(words) <= CREDIT_MAX_WORDS


def _is_caps_words(text: str) -> bool:
    words = text.split()
    return 0 < len(words) <= 3 and all(w.isupper() and sum(c.isalpha() for c in w) >= 2 for w in words)


def _is_sign_off(text: str) -> bool:
    """A wire story's closing mark, not a credit: "(END)", "MORE", "-30-"."""
    return text.strip("()[]- ").lower() in {"end", "ends", "ende", "more", "30", "끝"}


def _ends_sentence(text: str) -> bool:
    body = text.rstrip(_CLOSERS + " ")
    return bool(body) and body[-1] in _SENTENCE_END and len(body.split()) > CREDIT_MAX_WORDS


def dateline_of(line: str) -> list[Range]:
    """The dateline (and a Korean wire prefix's byline) at the start of a line of prose, as ranges;
    empty when there is none.

    >>> dateline_of("SEOUL, January 19 (AJP) - South Korean President Lee Jae Myung met Meloni.")
    [(0, 25, 'dateline')]
    >>> dateline_of("EU - China talks resumed.")
    []
    """
    if m := KO_DATELINE_RE.match(line):
        rest = line[m.end() :]
        if not is_sentence(rest) or len(rest) < 10:
            return []
        if m["byline"]:
            return [(0, m.end("dateline"), "dateline"), (m.start("byline"), m.end("byline"), "byline")]
        return [(0, m.end("dateline"), "dateline")]
    m = DATELINE_RE.match(line)
    if not m or len(line[m.end() :].split()) < 4:
        return []
    wire = m["wire"]
    if not m["date"] and not (wire and (_is_agency(wire) or _is_caps_words(wire))):
        return []
    if not m["caps"] and not wire:
        return []
    return [(0, len(line[: m.end()].rstrip()), "dateline")]


def sentence_of_prose(line: str, sentence: bool) -> bool:
    """A real sentence that is not a byline or a teaser: never page furniture."""
    return sentence and not (byline_names(line) or _is_teaser(line))


def page_furniture(line: str) -> list[Range] | None:
    """A line of the page that is not the article's prose but is kept, marked, for the full
    article: a byline with its time stamps ("By Jane Doe Posted : ...") or a "related articles"
    teaser ("Also Read: ..."). (The headlines of a list after "MOST POPULAR" are marked in
    :func:`clean_article`, which knows the list.)

    >>> page_furniture("By Park Sae-jin Posted : January 19, 2026, 14:00")
    [(0, 49, 'byline')]
    >>> page_furniture("Also Read: PM Calls for Stronger Decentralization"), page_furniture("He left.")
    ([(0, 49, 'related')], None)
    """
    if len(line) > DEBRIS_MAX_CHARS:
        return None
    if byline_names(line):
        return [(0, len(line), "byline")]
    if _is_teaser(line):
        return [(0, len(line), "related")]
    return None


def _never_furniture(line: str) -> bool:
    """Copyright lines, bylines and "Reporting by" credits: never captions or credits (a byline is
    kept as "byline" furniture by :func:`page_furniture`; the others are dropped as debris)."""
    return bool(
        (_COPYRIGHT_RE.search(line) and len(line.split()) <= 25)
        or _REPORTING_RE.match(line)
        or byline_names(line)
    )


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
    if _COOKIE_RE.search(line) and len(line.split()) <= 60:
        return True
    if _is_teaser(line) or byline_names(line) or (_REPORTING_RE.match(line) and len(line.split()) <= 30):
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


def _trim_tail(lines: list[tuple[str, list[Range]]]) -> list[tuple[str, list[Range]]]:
    """Drop short non-sentence lines after the last real sentence (footer debris)."""
    last = max((i for i, (line, _) in enumerate(lines) if line and is_sentence(line)), default=None)
    if last is None:
        return lines
    tail = [item for item in lines[last + 1 :] if not item[0] or len(item[0].split()) > TAIL_MAX_WORDS]
    return lines[: last + 1] + tail


def _join(lines: list[tuple[str, list[Range]]]) -> tuple[str, tuple[Range, ...]]:
    out: list[tuple[str, list[Range]]] = []
    for line, roles in lines:
        if not line and (not out or not out[-1][0]):
            continue
        out.append((line, roles))
    while out and not out[-1][0]:
        out.pop()
    furniture: list[Range] = []
    pos = 0
    for line, roles in out:
        furniture.extend((pos + start, pos + end, role) for start, end, role in roles)
        pos += len(line) + 1
    return "\n".join(line for line, _ in out), tuple(furniture)
