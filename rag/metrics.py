"""Evaluation metrics: pure functions over strings, booleans and numbers.

No model, no index: ``rag eval`` computes predictions and hits, then calls these.

Answer metrics follow the official SQuAD v1.1/v2.0 evaluation script so that
figures stay comparable with published numbers:

    normalize_answer("The  Blue House!")  -> "blue house"
    exact_match("Blue House", ["the Blue House"])  -> 1.0
    token_f1("the 308 points", ["308"])  -> 0.6666...

Shortcuts and choices, on purpose:

- Only the *English* articles a/an/the are dropped, exactly as SQuAD does. German
  der/die/das/ein/eine are kept (dropping them would also drop the pronoun "die"
  and make our numbers incomparable with XQuAD/MLQA ones).
- Punctuation is every character of ``string.punctuation`` (what SQuAD removes)
  plus every Unicode punctuation character (category ``P*``: curly quotes,
  dashes, "·", "。"), so "d’Ampezzo" and "d'Ampezzo" normalise alike. Like SQuAD,
  punctuation is deleted, not replaced by a space: "K-pop" -> "kpop".
- Tokens are whitespace-separated words, except that every CJK or Hangul
  character is a token of its own (MLQA's "mixed segmentation"). Korean writes
  particles onto words ("서울에서" = Seoul + "in"), so whole-word tokens would
  almost never overlap; character tokens give partial credit. For text with no
  CJK/Hangul characters this is exactly SQuAD's whitespace tokenisation.
- An empty gold list means "the articles do not answer this" (SQuAD v2): an
  empty or ``None`` prediction (an abstention) scores 1, anything else 0.
- Abstention: the system answers when ``confidence >= threshold`` and abstains
  when ``confidence < threshold``.

Errors: a bad setting (``k < 1``, a percentile outside 0..100, a share outside
0..1) raises ``rag.errors.ConfigError``; inputs of mismatched length or empty
inputs where a value needs data raise ``ValueError`` (a caller's bug).
"""

from __future__ import annotations

import logging
import math
import re
import string
import unicodedata
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from rag.errors import ConfigError

LOG = logging.getLogger(__name__)

_ASCII_PUNCT = frozenset(string.punctuation)
_ARTICLES = re.compile(r"\b(a|an|the)\b")
# Han, Hiragana, Katakana, Hangul (syllables, jamo, compatibility jamo), CJK punctuation/fullwidth forms.
_CJK = re.compile(
    r"[\u1100-\u11ff\u2e80-\u2fdf\u3000-\u303f\u3040-\u30ff\u3130-\u318f\u3400-\u4dbf"
    r"\u4e00-\u9fff\ua960-\ua97f\uac00-\ud7af\ud7b0-\ud7ff\uf900-\ufaff\uff00-\uffef]"
)


# --- answers -----------------------------------------------------------------------------------------


def _is_punct(ch: str) -> bool:
    return ch in _ASCII_PUNCT or unicodedata.category(ch).startswith("P")


def normalize_answer(s: str) -> str:
    """Lowercase, delete punctuation, drop English articles, collapse whitespace (SQuAD).

    >>> normalize_answer("The 2026 Olympic and Paralympic Winter Games, in Milan!")
    '2026 olympic and paralympic winter games in milan'
    >>> normalize_answer("“Cortina d’Ampezzo”")
    'cortina dampezzo'
    """
    s = s.lower()
    s = "".join(ch for ch in s if not _is_punct(ch))
    s = _ARTICLES.sub(" ", s)
    return " ".join(s.split())


def tokens(s: str) -> list[str]:
    """Normalised tokens: words, with each CJK/Hangul character a token of its own.

    >>> tokens("The K-pop fans")
    ['kpop', 'fans']
    >>> tokens("2024년 서울")
    ['2024', '년', '서', '울']
    """
    out: list[str] = []
    for word in normalize_answer(s).split():
        if not _CJK.search(word):
            out.append(word)
            continue
        run = ""
        for ch in word:
            if _CJK.match(ch):
                if run:
                    out.append(run)
                    run = ""
                out.append(ch)
            else:
                run += ch
        if run:
            out.append(run)
    return out


def _golds(golds: Sequence[str] | str) -> list[str]:
    # A bare string is one gold answer, not a list of characters.
    return [golds] if isinstance(golds, str) else list(golds)


def exact_match(pred: str | None, golds: Sequence[str]) -> float:
    """1.0 if the normalised prediction equals any normalised gold answer, else 0.0.

    With no golds (an unanswerable question) an empty or None prediction scores 1.0.
    """
    gold_list = _golds(golds) or [""]
    p = normalize_answer(pred or "")
    return float(any(p == normalize_answer(g) for g in gold_list))


def _f1(pred_toks: list[str], gold_toks: list[str]) -> float:
    if not pred_toks or not gold_toks:
        return float(pred_toks == gold_toks)
    common = sum((Counter(pred_toks) & Counter(gold_toks)).values())
    if common == 0:
        return 0.0
    precision = common / len(pred_toks)
    recall = common / len(gold_toks)
    return 2 * precision * recall / (precision + recall)


def token_f1(pred: str | None, golds: Sequence[str]) -> float:
    """Token-overlap F1 between prediction and the best-matching gold answer (SQuAD).

    >>> round(token_f1("the 308 points", ["308"]), 4)
    0.6667
    """
    gold_list = _golds(golds) or [""]
    p = tokens(pred or "")
    return max(_f1(p, tokens(g)) for g in gold_list)


def contains_answer(text: str | None, golds: Sequence[str]) -> bool:
    """Whether the normalised text contains any normalised gold answer.

    The gold answer must start at a word start ("man" is not found in "Oman"),
    except at a CJK/Hangul edge, where particles attach ("서울" is found in
    "서울에서"). At its end a gold answer ending in a digit must end the number
    ("1956" is not found in "19567"), while one ending in a letter may take a
    suffix, so inflected German and English forms count ("Business Forum" is
    found in "Business Forums", "Oman" in "Omani"). Empty golds (unanswerable)
    or empty text give False.

    >>> contains_answer("Trade reached $12.6 billion in 2024.", ["12.6 billion"])
    True
    """
    if not text:
        return False
    hay = normalize_answer(text)
    for gold in _golds(golds):
        needle = normalize_answer(gold)
        if not needle:
            continue
        left = "" if _CJK.match(needle[0]) else r"(?<!\w)"
        right = r"(?!\d)" if needle[-1].isdigit() else ""
        if re.search(left + re.escape(needle) + right, hay):
            return True
    return False


# --- retrieval ---------------------------------------------------------------------------------------


def _check_k(k: int) -> None:
    if not isinstance(k, int) or isinstance(k, bool) or k < 1:
        raise ConfigError(f"k for recall@k must be a whole number of at least 1, got {k!r}")


def recall_at_k(ranked_hits: Sequence[bool], k: int) -> float:
    """1.0 if any of the first ``k`` results is a hit, else 0.0 (one gold per question:
    "answer in top k", DrQA-style). What counts as a hit is the caller's decision.

    >>> recall_at_k([False, False, True], 1), recall_at_k([False, False, True], 3)
    (0.0, 1.0)
    """
    _check_k(k)
    return float(any(ranked_hits[:k]))


def reciprocal_rank(ranked_hits: Sequence[bool]) -> float:
    """1 / rank of the first hit (ranks start at 1), 0.0 if there is none.

    >>> reciprocal_rank([False, False, True])
    0.3333333333333333
    """
    for i, hit in enumerate(ranked_hits, start=1):
        if hit:
            return 1.0 / i
    return 0.0


def mean_recall_at_k(runs: Sequence[Sequence[bool]], k: int) -> float:
    """Mean of ``recall_at_k`` over questions (each run: one question's ranked hits)."""
    _check_k(k)
    if not runs:
        raise ValueError("mean_recall_at_k needs at least one question")
    return sum(recall_at_k(r, k) for r in runs) / len(runs)


def mean_reciprocal_rank(runs: Sequence[Sequence[bool]]) -> float:
    """MRR: mean of ``reciprocal_rank`` over questions."""
    if not runs:
        raise ValueError("mean_reciprocal_rank needs at least one question")
    return sum(reciprocal_rank(r) for r in runs) / len(runs)


# --- abstention --------------------------------------------------------------------------------------


def _same_length(a: Sequence[object], b: Sequence[object], names: str) -> None:
    if len(a) != len(b):
        raise ValueError(f"{names} must have the same length, got {len(a)} and {len(b)}")


def abstention_rates(answerable: Sequence[bool], abstained: Sequence[bool]) -> dict[str, float | None]:
    """How well the system knows when to say "no answer".

    Returns ``unanswerable_abstained`` (share of unanswerable questions where it
    abstained: higher is better), ``answerable_abstained`` (share of answerable
    questions it wrongly refused: lower is better), ``decision_accuracy`` (share
    of all questions where the answer/abstain decision was right), and the counts
    ``n_answerable`` / ``n_unanswerable``. A share is None when its group is empty.
    """
    _same_length(answerable, abstained, "answerable and abstained")
    n_ans = sum(1 for a in answerable if a)
    n_unans = len(answerable) - n_ans
    unans_abst = sum(1 for a, x in zip(answerable, abstained, strict=True) if not a and x)
    ans_abst = sum(1 for a, x in zip(answerable, abstained, strict=True) if a and x)
    correct = unans_abst + (n_ans - ans_abst)
    return {
        "unanswerable_abstained": unans_abst / n_unans if n_unans else None,
        "answerable_abstained": ans_abst / n_ans if n_ans else None,
        "decision_accuracy": correct / len(answerable) if answerable else None,
        "n_answerable": float(n_ans),
        "n_unanswerable": float(n_unans),
    }


def calibrate_threshold(
    confidences: Sequence[float],
    answerable: Sequence[bool],
    *,
    min_unanswerable_abstained: float | None = None,
) -> float:
    """Pick the confidence threshold (answer iff ``confidence >= threshold``).

    Default: maximise balanced accuracy, the mean of "answerable kept" and
    "unanswerable abstained", so the larger class does not dominate. With
    ``min_unanswerable_abstained=s`` instead: keep as many answerable questions
    as possible while abstaining on at least a share ``s`` of unanswerable ones.
    Candidates are the midpoints between consecutive distinct confidences plus
    one below all (never abstain) and one above all (always abstain); ties go to
    the lowest threshold, which answers most.

    >>> calibrate_threshold([0.1, 0.2, 0.6, 0.9], [False, False, True, True])
    0.4
    """
    _same_length(confidences, answerable, "confidences and answerable")
    if min_unanswerable_abstained is not None and not 0.0 <= min_unanswerable_abstained <= 1.0:
        raise ConfigError(
            f"the share of unanswerable questions to abstain on must be between 0 and 1, "
            f"got {min_unanswerable_abstained!r}"
        )
    conf = np.asarray(confidences, dtype=float)
    ans = np.asarray(answerable, dtype=bool)
    if not np.all(np.isfinite(conf)):
        raise ValueError("confidences must be finite numbers")
    if ans.all() or not ans.any():
        raise ValueError("calibration needs both answerable and unanswerable questions")

    distinct = np.unique(conf)
    candidates = [float(distinct[0])]
    candidates += [float(x) for x in (distinct[:-1] + distinct[1:]) / 2]
    candidates.append(math.nextafter(float(distinct[-1]), math.inf))

    best: tuple[float, float] | None = None  # (score, threshold)
    for t in candidates:
        answered = conf >= t
        kept = float(answered[ans].mean())
        refused = float((~answered[~ans]).mean())
        if min_unanswerable_abstained is None:
            score = (kept + refused) / 2
        elif refused + 1e-12 >= min_unanswerable_abstained:
            score = kept
        else:
            continue
        if best is None or score > best[0] + 1e-12:
            best = (score, t)
    assert best is not None  # the "always abstain" candidate satisfies any share <= 1
    LOG.debug("calibrated threshold %.4f (score %.4f)", best[1], best[0])
    return best[1]


# --- latency and aggregation -------------------------------------------------------------------------


def percentile(values: Sequence[float], p: float) -> float:
    """The ``p``-th percentile (0..100, linear interpolation, as numpy): p50, p95 latencies.

    >>> percentile([1.0, 2.0, 3.0, 4.0], 50)
    2.5
    """
    if not 0 <= p <= 100:
        raise ConfigError(f"percentile must be between 0 and 100, got {p!r}")
    if len(values) == 0:
        raise ValueError("percentile of no values")
    return float(np.percentile(np.asarray(values, dtype=float), p))


@dataclass(frozen=True)
class GroupSummary:
    """Mean metrics for one group of per-question records.

    ``group`` holds the grouping keys and their values, e.g.
    ``(("language", "de"), ("corpus", "en"))``; ``()`` for the overall summary.
    ``means[m]`` is None when no record of the group had a value for ``m``.
    """

    group: tuple[tuple[str, object], ...]
    n: int
    means: dict[str, float | None]

    def label(self) -> str:
        """``"language=de corpus=en"``, or ``"all"`` for the overall group."""
        return " ".join(f"{k}={v}" for k, v in self.group) or "all"


def summarize(
    records: Sequence[Mapping[str, object]],
    by: Sequence[str] = (),
    metrics: Sequence[str] = (),
) -> list[GroupSummary]:
    """Group per-question records by the keys ``by`` and average the ``metrics``.

    A metric value of None (or a missing key) is left out of that mean, so, for
    example, exact match can be None on unanswerable questions. Booleans count as
    0/1. Groups come back sorted by their key values; ``by=()`` gives one overall
    group.

    >>> recs = [{"lang": "en", "em": 1.0}, {"lang": "de", "em": 0.0}, {"lang": "en", "em": 0.0}]
    >>> [(g.label(), g.n, g.means["em"]) for g in summarize(recs, by=["lang"], metrics=["em"])]
    [('lang=de', 1, 0.0), ('lang=en', 2, 0.5)]
    """
    groups: dict[tuple[object, ...], list[Mapping[str, object]]] = {}
    for rec in records:
        groups.setdefault(tuple(rec.get(k) for k in by), []).append(rec)
    out = []
    for values in sorted(groups, key=lambda vs: tuple(str(v) for v in vs)):
        members = groups[values]
        means: dict[str, float | None] = {}
        for m in metrics:
            xs = [float(r[m]) for r in members if r.get(m) is not None]  # type: ignore[arg-type]
            means[m] = sum(xs) / len(xs) if xs else None
        out.append(GroupSummary(group=tuple(zip(by, values, strict=True)), n=len(members), means=means))
    return out
