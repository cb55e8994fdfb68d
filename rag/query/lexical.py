"""Lexical evidence: per-language terms and a BM25 index over the chunks (``bm25s``).

    terms_of("Wann besuchte Meloni das Blaue Haus?", "de")   -> ['besuch', 'meloni', 'blau', 'haus']
    terms_of("방문했나요 서울", "ko")                          -> ['방문', '서울']
    lex = LexicalIndex.build(index)       # built in memory when an index is loaded
    lex.coverage(lex.query_terms("Who visited Seoul?", "en"))   # float array, one value per chunk

Terms, per language (the language of the article, or of the question):

* Words are ``\\w+`` runs, case-folded (NFKC), minus a stop-word list (NLTK's English
  and German lists as shipped by bm25s, plus question words; "won" stays a word except in
  "won't", and so do "US", "WHO" and "IT" in capitals), then stemmed with
  Snowball (``PyStemmer``) in the text's language. Before stemming, a word becomes its lemma
  (``simplemma``'s dictionaries, English, German and seven more), so irregular forms meet:
  "flew" / "fly", "met" / "meet", "trafen" / "treffen", "gebaut" / "bauten". Measured: eval/NOTES.md,
  "Snowball stemming" (2026-11-25) and "Lemmas before stemming" (2026-11-26).
* German compounds: a long word (8+ letters) is also split into two parts that
  occur as words elsewhere in the corpus ("Energiesicherheit" -> "energie" +
  "sicherheit", with the linking letters s/es/n/en/e), choosing the split whose
  parts are most frequent (Koehn & Knight 2003), recursively on the tail. The
  parts are added as terms next to the whole word. Measured (character n-grams left out):
  eval/NOTES.md, "German decompounding and character n-grams" (2026-11-25).
* Korean: ``kiwipiepy`` morphemes, keeping nouns, verb and adjective stems, roots,
  numbers and foreign words ("방문했나요" -> "방문"); plain ``\\w+`` would keep
  whole eojeol with their particles, which never match. The Kiwi model (a few
  seconds to load) is shared with ``rag.index.sentences`` and only loaded when Hangul
  is seen.
* Han and kana runs (Chinese, Japanese) become character bigrams.
* Acronyms: a plural acronym is the acronym ("MOUs" -> "mou"), and a text that spells
  out an acronym written somewhere in the corpus also has the acronym as a term, so
  "How many MOUs were signed?" finds "three memoranda of understanding" (``Acronyms``).
  It is for news, where an article often writes out what a question abbreviates; measured:
  eval/NOTES.md, "Acronyms as terms" (2026-11-26).

``coverage`` is BM25 divided by the largest score the query could get (the sum
of its terms' idf; bm25s's Lucene variant scores each term at most its idf), so
it is in [0, 1] and means the same for every query: the idf-weighted share of
the question's terms the chunk contains. A question term the corpus never uses
counts with the idf of an unseen term, which is what makes "What is the
population of Milan?" look weak when no article mentions a population.

Shortcuts: without PyStemmer installed, words are left unstemmed (a warning is
logged once); the decompounding vocabulary is the corpus itself, so a compound
whose parts never occur alone is not split.
"""

from __future__ import annotations

import bisect
import functools
import logging
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from rag.index.store import Index
from rag.types import Chunk

LOG = logging.getLogger(__name__)

K1, B = 1.5, 0.75  # bm25s defaults (Lucene variant)

_WORD = re.compile(r"\w+")
_LETTERS = re.compile(r"[^\W\d_]+")
_HANGUL = re.compile(r"[\uac00-\ud7a3\u1100-\u11ff\u3130-\u318f]")
# Acronyms that are stop words in lower case: "the US", "the WHO", "IT companies" are content words.
_STOP_ACRONYMS = frozenset({"US", "WHO", "IT"})
_HAN_KANA = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")

_QUESTION_WORDS = {
    "en": {"many", "much", "whose", "also", "would", "could", "may", "might", "must", "shall", "us"},
    "de": {
        "wann",
        "wer",
        "warum",
        "wieso",
        "weshalb",
        "wem",
        "wen",
        "wessen",
        "viele",
        "wieviel",
        "wieviele",
    },
}

# Kiwi part-of-speech tags kept as terms: nouns, numerals, verb/adjective stems, roots,
# foreign words, numbers, hanja. Particles, endings, pronouns and adverbs (언제, 어디) are not.
_KIWI_KEEP = frozenset(
    {"NNG", "NNP", "NR", "VV", "VA", "XR", "SL", "SN", "SH", "VV-R", "VV-I", "VA-R", "VA-I"}
)

# Languages whose words are lemmatised before stemming (simplemma's dictionaries; the
# others are only stemmed).
_LEMMA_LANGUAGES = frozenset({"en", "de", "fr", "it", "es", "nl", "pt", "sv", "ru"})
_STEMMER_NAMES = {
    "en": "english", "de": "german", "fr": "french", "it": "italian", "es": "spanish", "ru": "russian",
    "pt": "portuguese", "nl": "dutch", "sv": "swedish", "da": "danish", "no": "norwegian", "fi": "finnish",
}  # fmt: skip

# Acronyms: "MOU" is also a term of every sentence that spells it out ("three memoranda of
# understanding"), for the acronyms written somewhere in the corpus (2-6 capitals, a plural "s").
_ACRONYM = re.compile(r"\b([A-Z]{2,6})s?\b")
_PLURAL_ACRONYM = re.compile(r"[A-Z]{2,6}s")
_SPELLED_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?")
_ACRONYM_JOINERS = frozenset({
    "of", "and", "for", "the", "on", "in", "und", "für", "der", "des", "von", "zur",
})  # fmt: skip

_LINKS = ("", "s", "es", "n", "en", "e")  # German linking elements between compound parts
COMPOUND_MIN_LEN = 8
COMPOUND_MIN_PART = 4


def _lang(language: str | None) -> str:
    return re.split(r"[-_]", (language or "und").strip().lower(), maxsplit=1)[0] or "und"


@functools.lru_cache(maxsize=1024)
def _question_language(text: str) -> str:
    from rag.index.language import detect_language

    return _lang(detect_language(text))


@functools.cache
def stopwords(language: str) -> frozenset[str]:
    """Stop words for a language code; the English list for languages without one."""
    from bm25s import stopwords as sw

    lists = {
        "en": sw.STOPWORDS_EN_PLUS, "de": sw.STOPWORDS_GERMAN, "fr": sw.STOPWORDS_FRENCH,
        "it": sw.STOPWORDS_ITALIAN, "es": sw.STOPWORDS_SPANISH, "ru": sw.STOPWORDS_RUSSIAN,
        "nl": sw.STOPWORDS_DUTCH, "pt": sw.STOPWORDS_PORTUGUESE, "sv": sw.STOPWORDS_SWEDISH,
    }  # fmt: skip
    code = _lang(language)
    words = set(lists.get(code, sw.STOPWORDS_EN_PLUS)) | _QUESTION_WORDS.get(code, set())
    words.discard("won")  # listed for "won't" (tokens_of drops it there); alone: "Who won?", 10 billion won
    return frozenset(w.casefold() for w in words)


@functools.cache
def _stemmer(language: str):  # -> Stemmer.Stemmer | None
    name = _STEMMER_NAMES.get(language)
    if name is None:
        return None
    try:
        import Stemmer
    except ImportError:
        LOG.warning("PyStemmer is not installed: words are not stemmed (pip install PyStemmer)")
        return None
    return Stemmer.Stemmer(name)


def _american_spelling(word: str) -> str | None:
    """The American spelling of a British English word, None when it has none ("colour" -> "color")."""
    from breame.data.spelling_constants import BRITISH_ENGLISH_SPELLINGS

    return BRITISH_ENGLISH_SPELLINGS.get(word)


@functools.cache
def _stem_word(language: str, word: str) -> str:
    stemmer = _stemmer(language)
    return stemmer.stemWord(word) if stemmer is not None else word


def _term(language: str, raw: str) -> str:
    """The term of one word (NFKC-normalised, original case): its lemma (``simplemma``, so
    "flew" and "fly", "trafen" and "treffen" meet), case-folded and stemmed. English words are
    first spelled the American way (``breame``'s list), so "naturalise" meets "naturalized" and
    "centre" meets "center"."""
    if language == "en":
        american = _american_spelling(raw.casefold())
        if american is not None:
            raw = american
    if language in _LEMMA_LANGUAGES:
        raw = _lemmatizer().lemmatize(raw, lang=language)
    return _stem_word(language, raw.casefold())


@functools.lru_cache(maxsize=1)
def _lemmatizer():  # -> simplemma.Lemmatizer
    """simplemma with its dictionaries as MARISA tries, written once per machine into the cache
    folder (``simplemma/``; about 4 s for English and German) and loaded from there in a tenth of a
    second: the same lemmas as its default dictionaries, which decode German's into 110 MB on every
    start (eval/NOTES.md, "Memory of a question", "Lemmas from stored tries")."""
    from simplemma import Lemmatizer
    from simplemma.strategies import DefaultStrategy, TrieDictionaryFactory

    from rag.config import default_cache_dir

    tries = TrieDictionaryFactory(disk_cache_dir=str(default_cache_dir() / "simplemma"))
    return Lemmatizer(lemmatization_strategy=DefaultStrategy(dictionary_factory=tries))


def _kiwi():  # -> kiwipiepy.Kiwi, the instance rag.index.sentences already uses
    from rag.index.sentences import _kiwi as shared_kiwi

    return shared_kiwi()


@dataclass(frozen=True)
class Token:
    """A word of a text: ``word`` as written (case-folded), ``term`` its stem, offsets in the text."""

    word: str
    term: str
    start: int
    end: int


def tokens_of(text: str, language: str | None, *, korean: bool = True) -> list[Token]:
    """The content words of ``text`` with their offsets (stop words left out). With
    ``korean=False`` words with Hangul are kept whole instead of being analysed by Kiwi.

    >>> [t.term for t in tokens_of("The leaders visited Seoul.", "en")]
    ['leader', 'visit', 'seoul']
    """
    code = _lang(language)
    stop = stopwords(code)
    out: list[Token] = []
    if korean and _HANGUL.search(text):
        pieces = _korean_pieces(text)
    else:
        pieces = [(m.group(), m.start(), m.end(), "") for m in _WORD.finditer(text)]
    for raw, start, end, tag in pieces:
        if _PLURAL_ACRONYM.fullmatch(raw):  # "MOUs" is the term of "MOU" in every language
            raw = raw[:-1]
        normal = unicodedata.normalize("NFKC", raw)
        word = normal.casefold()
        if tag:  # a Kiwi morpheme: already a content morpheme
            term = _term("en", normal) if tag == "SL" else word
            out.append(Token(word, term, start, end))
            continue
        if (word in stop and raw not in _STOP_ACRONYMS) or word == "_" or _contraction(text, word, end, stop):
            continue
        if _HAN_KANA.search(word):
            grams = [word[i : i + 2] for i in range(max(1, len(word) - 1))]
            out.extend(Token(g, g, start, end) for g in grams)
            continue
        stem_language = code if code in _STEMMER_NAMES or not word.isascii() else "en"
        out.append(Token(word, _term(stem_language, normal), start, end))
    return out


def _contraction(text: str, word: str, end: int, stop: frozenset[str]) -> bool:
    """Whether a word is the first part of a listed contraction: "won" in "won't"."""
    return text.startswith(("'t", "’t"), end) and f"{word}'t" in stop


def _korean_pieces(text: str) -> list[tuple[str, int, int, str]]:
    """Kiwi morphemes inside words with Hangul, plain words elsewhere: (text, start, end, kiwi tag or "")."""
    pieces: list[tuple[str, int, int, str]] = []
    hangul_words: list[tuple[int, int]] = []
    for m in _WORD.finditer(text):
        if _HANGUL.search(m.group()):
            hangul_words.append((m.start(), m.end()))
        else:
            pieces.append((m.group(), m.start(), m.end(), ""))
    if hangul_words:
        starts = [s for s, _ in hangul_words]
        for tok in _kiwi().tokenize(text):
            if tok.tag not in _KIWI_KEEP or tok.len <= 0:
                continue
            k = bisect.bisect_right(starts, tok.start) - 1
            if k >= 0 and tok.start < hangul_words[k][1]:  # inside a word with Hangul
                pieces.append((tok.form, tok.start, tok.start + tok.len, tok.tag))
    pieces.sort(key=lambda p: p[1])
    return pieces


class Decompounder:
    """Splits German compounds into parts that occur as words in a vocabulary (word -> count).

    >>> Decompounder({"energie": 3, "sicherheit": 2}).split("energiesicherheit")
    ['energie', 'sicherheit']
    """

    def __init__(self, counts: dict[str, int]) -> None:
        self.counts = counts
        self._cache: dict[str, list[str]] = {}

    def split(self, word: str) -> list[str]:
        """The parts of ``word`` (empty when it is not split)."""
        if word in self._cache:
            return self._cache[word]
        best: tuple[str, str] | None = None
        best_score = 0.0
        if len(word) >= COMPOUND_MIN_LEN:
            for i in range(COMPOUND_MIN_PART, len(word) - COMPOUND_MIN_PART + 1):
                tail = word[i:]
                tail_count = self.counts.get(tail, 0)
                if not tail_count and len(tail) >= COMPOUND_MIN_LEN:
                    tail_parts = self.split(tail)  # a tail that is itself a compound
                    tail_count = min((self.counts[p] for p in tail_parts), default=0)
                if not tail_count:
                    continue
                head = word[:i]
                for link in _LINKS:
                    if link and not head.endswith(link):
                        continue
                    part = head[: len(head) - len(link)] if link else head
                    count = self.counts.get(part, 0)
                    if len(part) < COMPOUND_MIN_PART or not count:
                        continue
                    score = math.sqrt(count * tail_count)
                    if score > best_score:
                        best, best_score = (part, tail), score
        parts: list[str] = []
        if best is not None:
            parts = [best[0], *(self.split(best[1]) or [best[1]])]
        self._cache[word] = parts
        return parts


def terms_of(text: str, language: str | None, decompounder: Decompounder | None = None) -> list[str]:
    """The BM25 terms of ``text``: stems of its content words, plus the stems of German compound parts."""
    toks = tokens_of(text, language)
    terms = [t.term for t in toks]
    if decompounder is not None and _lang(language) == "de":
        for t in toks:
            terms.extend(_stem_word("de", p) for p in decompounder.split(t.word))
    return terms


class Acronyms:
    """The acronyms written in a corpus, and the phrases that spell them out.

    >>> Acronyms(["Three MOUs were signed."]).spelled_in("They signed memoranda of understanding.")
    ['MOU']

    A phrase spells an acronym when its words' initials are the acronym's letters, in order, with
    "of", "and", "for", "the" (and German joiners) inside either counting as a letter or skipped, and
    only spaces or hyphens between the words (only spaces for two letters: "Korea-Italien" is not
    "KI"). Lower-case words are chance matches more often ("each unit", "tons of carbon per"), so a
    phrase with any needs three letters or more, words of four letters or more, and no joiner skipped.
    """

    # Stricter spelling was measured and left out: eval/NOTES.md, "Stricter acronym spelling" (2026-11-27).

    def __init__(self, texts: Iterable[str]) -> None:
        found = {m.group(1) for text in texts for m in _ACRONYM.finditer(text)}
        self.by_initials: dict[str, list[str]] = {}  # first two letters -> acronyms
        for a in sorted(found):
            self.by_initials.setdefault(a[:2].casefold(), []).append(a)

    def spelled_in(self, text: str) -> list[str]:
        """The corpus acronyms spelled out in ``text``, each once, in order of appearance."""
        if not self.by_initials:
            return []
        words = [(m.start(), m.end(), m.group()) for m in _SPELLED_WORD.finditer(text)]
        out: list[str] = []
        for i in range(len(words) - 1):
            first, second = words[i][2][0].casefold(), words[i + 1][2]
            pairs = {first + second[0].casefold()}
            if second.casefold() in _ACRONYM_JOINERS and i + 2 < len(words):
                pairs.add(first + words[i + 2][2][0].casefold())
            for pair in pairs:
                for acronym in self.by_initials.get(pair, ()):
                    if acronym not in out and self._spells(text, words, i, acronym):
                        out.append(acronym)
        return out

    @staticmethod
    def _spells(text: str, words: list[tuple[int, int, str]], i: int, acronym: str) -> bool:
        letters = acronym.casefold()
        k, j, last, skipped, lower = 0, i, "", False, False
        while k < len(letters) and j < len(words):
            gap = text[words[j - 1][1] : words[j][0]] if j > i else " "
            if gap != " " and (gap != "-" or len(acronym) == 2):  # "Korea-Italien" is not "KI"
                return False
            w = words[j][2]
            joiner = w.casefold() in _ACRONYM_JOINERS
            if w[0].casefold() == letters[k] and not (joiner and k == 0):  # not "in Victoria" for "IV"
                k, last = k + 1, w
                if not w[0].isupper() and not joiner:
                    lower = True
                    if len(acronym) == 2 or len(w) < 4:
                        return False
            elif k == 0 or not joiner:
                return False
            else:
                skipped = True
            j += 1
        if lower and skipped:  # "descendants of endosymbiotic cyanobacteria" is not "DEC"
            return False
        return k == len(letters) and j - i > 1 and last.casefold() not in _ACRONYM_JOINERS


class LexicalIndex:
    """BM25 over an index's chunks plus the idf of every term; built in memory from a loaded ``Index``.

    ``sentence_terms[i]`` are the terms of sentence ``i`` (for answer extraction), ``idf`` the
    Lucene idf over chunks, ``build_id`` the build it was made from.
    """

    def __init__(self, index: Index) -> None:
        import bm25s

        self.build_id = index.build_id
        self.n_chunks = len(index.chunks)
        languages = {aid: a.language for aid, a in index.articles.items()}
        sentence_tokens = [tokens_of(s.text, languages.get(s.article_id)) for s in index.sentences]
        counts: Counter[str] = Counter()
        for s, toks in zip(index.sentences, sentence_tokens, strict=True):
            if _lang(languages.get(s.article_id)) == "de":
                counts.update(t.word for t in toks)
        self.decompounder = Decompounder(dict(counts))
        self.acronyms = Acronyms(a.text for a in index.articles.values())
        self.sentence_tokens = sentence_tokens
        self.sentence_terms = [
            self._with_parts(toks, languages.get(s.article_id), s.text)
            for s, toks in zip(index.sentences, sentence_tokens, strict=True)
        ]
        chunk_terms = [self._chunk_terms(index, c, languages.get(c.article_id)) for c in index.chunks]
        df: Counter[str] = Counter()
        for terms in chunk_terms:
            df.update(set(terms))
        n = max(1, len(chunk_terms))
        self.idf = {t: math.log(1 + (n - d + 0.5) / (d + 0.5)) for t, d in df.items()}
        self.unseen_idf = math.log(1 + (n + 0.5) / 0.5)
        # Words written in lower case somewhere: a capitalised one of these is an ordinary word, not a name.
        self.lowercase_words = frozenset(
            w for a in index.articles.values() for w in _LETTERS.findall(a.text) if w[0].islower()
        )
        self.has_hangul = any(_HANGUL.search(s.text) for s in index.sentences)
        by_language: dict[str, list[int]] = {}
        for row, c in enumerate(index.chunks):
            by_language.setdefault(_lang(languages.get(c.article_id)), []).append(row)
        self.chunks_by_language = {k: np.asarray(v, dtype=np.int64) for k, v in by_language.items()}
        self._bm25 = None
        if any(chunk_terms):
            self._bm25 = bm25s.BM25(k1=K1, b=B)
            self._bm25.index([t or [""] for t in chunk_terms], show_progress=False)

    @classmethod
    def build(cls, index: Index) -> LexicalIndex:
        return cls(index)

    def _with_parts(self, toks: Sequence[Token], language: str | None, text: str) -> list[str]:
        """The terms of ``toks`` (tokens of ``text``), the parts of German compounds and the
        acronyms ``text`` spells out."""
        terms = [t.term for t in toks]
        if _lang(language) == "de":
            for t in toks:
                terms.extend(_stem_word("de", p) for p in self.decompounder.split(t.word))
        terms.extend(t.term for a in self.acronyms.spelled_in(text) for t in tokens_of(a, language))
        return terms

    def _chunk_terms(self, index: Index, chunk: Chunk, language: str | None) -> list[str]:
        """A chunk's terms: those of its sentences when they cover it, else its text tokenised anew
        (a chunk made of the pieces of an over-long sentence)."""
        ids = index.sentence_ids_in(chunk)
        text = index.articles[chunk.article_id].text
        covered = (
            bool(ids)
            and index.sentences[ids[0]].start == chunk.start
            and index.sentences[ids[-1]].end == chunk.end
            and all(
                not text[index.sentences[a].end : index.sentences[b].start].strip()
                for a, b in zip(ids, ids[1:], strict=False)
            )
        )
        if covered:
            return [t for i in ids for t in self.sentence_terms[i]]
        return self._with_parts(tokens_of(chunk.text, language), language, chunk.text)

    # Left out: eval/NOTES.md, "Take place and fand statt dropped from questions" (2026-11-27).
    def query_terms(self, text: str, language: str | None, *, drop_own_stopwords: bool = True) -> list[str]:
        """The terms of a question read as ``language``, decompounded with the corpus vocabulary
        when German. Hangul is only analysed when the corpus has Korean text: otherwise it cannot match.
        The stop words of the question's own language are left out too ("which", "did" of an
        English question read as German): they are never evidence, and as unseen terms they would
        make every sentence of the other language look as if it lacked most of the question."""
        toks = tokens_of(text, language, korean=self.has_hangul)
        own = _question_language(text)
        if drop_own_stopwords and own != "und" and own != _lang(language):
            stop = stopwords(own)
            toks = [t for t in toks if t.word not in stop]
        return self._with_parts(toks, language, text)

    def is_common(self, word: str) -> bool:
        """Whether a (capitalised) word is an ordinary word of the corpus or a stop word: "The", "Despite"."""
        w = word.casefold()
        return w in self.lowercase_words or w in stopwords("en") or w in stopwords("de")

    def question_weights(
        self, question: str, language: str, context: str | None = None, context_weight: float = 0.5
    ) -> dict[str, float]:
        """Term -> weight (its idf) for a question read in ``language``; the terms of ``context``
        that the question lacks count ``context_weight`` times their idf."""
        weights = {t: self.idf_of(t) for t in self.query_terms(question, language)}
        if context:
            for t in self.query_terms(context, language):
                weights.setdefault(t, context_weight * self.idf_of(t))
        return weights

    def idf_of(self, term: str) -> float:
        return self.idf.get(term, self.unseen_idf)

    def scores(self, terms: Iterable[str]) -> np.ndarray:
        """Raw BM25 score of every chunk (zeros when no term is in the corpus)."""
        if self._bm25 is None:
            return np.zeros(self.n_chunks, dtype=np.float32)
        known = [t for t in dict.fromkeys(terms) if t in self.idf]
        if not known:
            return np.zeros(self.n_chunks, dtype=np.float32)
        return np.asarray(self._bm25.get_scores(known), dtype=np.float32)

    def max_score(self, terms: Iterable[str]) -> float:
        """The largest BM25 score a chunk could reach for these terms: the sum of their idf."""
        return float(sum(self.idf_of(t) for t in dict.fromkeys(terms)))

    def coverage(self, question: str, extra: str | None = None, extra_weight: float = 0.5) -> np.ndarray:
        """Per chunk, BM25 / max_score in [0, 1], the question read in the chunk's own language.

        Reading the question in each chunk's language (rather than in the language detected
        for a short question, which is often wrong) gives a German question German stems
        against German chunks; against English chunks its German words are unseen terms that
        only lower the coverage, which is right: there is little lexical evidence across
        languages. ``extra`` (the context of a follow-up question) adds its own coverage
        times ``extra_weight``.
        """
        out = np.zeros(self.n_chunks, dtype=np.float32)
        for language, rows in self.chunks_by_language.items():
            out[rows] = self._coverage(question, language)[rows]
            if extra:
                out[rows] += extra_weight * self._coverage(extra, language)[rows]
        return out

    def _coverage(self, text: str, language: str) -> np.ndarray:
        # Keeps the question's own stop words: eval/NOTES.md, "The question's own stop words" (2026-11-26).
        terms = self.query_terms(text, language, drop_own_stopwords=False)
        top = self.max_score(terms)
        if top <= 0:
            return np.zeros(self.n_chunks, dtype=np.float32)
        return self.scores(terms) / np.float32(top)
