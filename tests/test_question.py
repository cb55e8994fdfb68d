"""Tests for rag.query.question: cleaning and checking a question, follow-ups and their context, and the
``Query`` the pipeline reads once per question."""

from __future__ import annotations

import dataclasses

import pytest

from rag.errors import QuestionError
from rag.query.question import (
    HISTORY_TURNS,
    MAX_HISTORY,
    MAX_QUESTION_CHARS,
    Query,
    clean_question,
    followup_context,
    followup_reason,
    is_followup,
)

# --- clean_question ----------------------------------------------------------------------------------


def test_control_characters_are_stripped():
    assert clean_question("Who\x00 visited\u200b Seoul?\x1b[31m") == "Who visited Seoul?[31m"
    assert clean_question("  When\n\tdid she\r\narrive? ") == "When did she arrive?"


def test_unicode_spaces_collapse_and_letters_of_any_script_stay():
    assert clean_question("Wer\u00a0kam\u3000nach   Seoul?") == "Wer kam nach Seoul?"
    assert clean_question("몇 건의 양해각서가 체결되었나요?") == "몇 건의 양해각서가 체결되었나요?"
    assert clean_question("من زار سيول؟") == "من زار سيول؟"
    assert clean_question("🙂 ?") == "🙂 ?"


@pytest.mark.parametrize("question", ["", "   ", "\n\t ", "\x00\x01", "\u200b\u200e"])
def test_empty_question_is_refused(question):
    with pytest.raises(QuestionError, match="the question is empty"):
        clean_question(question)


@pytest.mark.parametrize("question", [None, 42, b"Who visited Seoul?", ["Who?"]])
def test_non_text_question_is_refused(question):
    with pytest.raises(QuestionError, match="must be text"):
        clean_question(question)


def test_the_length_limit_counts_the_cleaned_question():
    assert clean_question("a" * MAX_QUESTION_CHARS) == "a" * MAX_QUESTION_CHARS
    assert clean_question(" " * 100 + "a" * MAX_QUESTION_CHARS + "\x00" * 100) == "a" * MAX_QUESTION_CHARS
    with pytest.raises(QuestionError, match=f"too long \\({MAX_QUESTION_CHARS + 1:,} characters\\)"):
        clean_question("a" * (MAX_QUESTION_CHARS + 1))


def test_a_huge_paste_is_refused_before_it_is_cleaned():
    with pytest.raises(QuestionError, match="too long \\(100,000 characters\\); the limit is 2,000"):
        clean_question("\x00" * 100_000)  # would clean to nothing: never looked at


# --- follow-ups --------------------------------------------------------------------------------------

# Questions that name their own subject, however short: never blended with the conversation.
SELF_CONTAINED = {
    "en": [
        "What is the population of Seoul?",  # two content words: a follow-up before issue 24
        "Who is Giorgia Meloni?",
        "Is there a plan for AI?",  # existential "there"
        "How many MOUs were there?",
        "Is it true that Korea and Italy signed three MOUs?",  # "it" before "that"
        "Did Meloni say that she would return to Rome?",  # "she" is Meloni
        "When did Meloni start her visit?",  # "her" is Meloni's
        "What happened this year in Seoul?",  # "this year" is now, not back
        "Which companies signed agreements that include AI?",  # relative "that"
        "Did Lee say that Korea is an important partner?",  # conjunction "that"
    ],
    "de": [
        "Wie hoch ist die Einwohnerzahl von Seoul?",
        "Wer ist Giorgia Meloni?",
        "Gibt es einen Plan für KI?",  # "es gibt"
        "Wie viele Absichtserklärungen gab es?",
        "Können Sie mir sagen, wer Seoul besucht hat?",  # formal "Sie": the reader
        "Hat Meloni gesagt, dass sie zurückkehrt?",  # "sie" is Meloni
        "Was wurde über das Abkommen gesagt?",  # "das" is an article
        "Was passiert dieses Jahr in Seoul?",
    ],
    "ko": [
        "서울의 인구는 얼마인가요?",
        "이재명 대통령은 누구를 만났나요?",
        "AI에 대한 계획이 있나요?",
        "몇 건의 양해각서가 체결되었나요?",
        "멜로니 총리는 언제 서울에 도착했나요?",
        "반도체 협력은 언제 시작되나요?",
    ],
}

# Questions that lean back, with why.
FOLLOW_UPS = {
    "en": [
        ("When did she arrive?", "refers back: 'she'"),
        ("What did the countries agree on that day?", "refers back: 'that'"),
        ("What did they sign there?", "refers back: 'they'"),
        ("Who was there?", "refers back: 'there'"),
        ("Who attended that summit?", "refers back: 'that'"),
        ("Is this the first visit?", "refers back: 'this'"),
        ("Where did Lee meet her?", "refers back: 'her'"),
        ("And the date?", "elliptic: opens with 'and'"),
        ("What about Meloni?", "elliptic: opens with 'what about'"),
        ("Why?", "no content word of its own"),
        ("When?", "no content word of its own"),
    ],
    "de": [
        ("Wann ist sie angekommen?", "refers back: 'sie'"),
        ("Was hat er gesagt?", "refers back: 'er'"),
        ("Was wurde dort unterzeichnet?", "refers back: 'dort'"),
        ("Was wurde dabei vereinbart?", "refers back: 'dabei'"),
        ("Wer sagte das?", "refers back: 'das'"),
        ("Was bedeutet dieses Abkommen?", "refers back: 'dieses'"),
        ("Wo war sie damals?", "refers back: 'sie'"),
        ("Und wann?", "elliptic: opens with 'und'"),
        ("Was ist mit Meloni?", "elliptic: opens with 'was ist mit'"),
        ("Wann?", "no content word of its own"),
    ],
    "ko": [
        ("그녀는 언제 도착했나요?", "refers back: '그녀'"),
        ("그곳에서 무엇을 했나요?", "refers back: '그곳'"),
        ("그들은 무엇에 서명했나요?", "refers back: '그들'"),
        ("그 회담에서 무엇이 합의되었나요?", "refers back: '그 회담'"),
        ("그럼 날짜는?", "elliptic: opens with '그럼'"),
        ("멜로니는?", "elliptic: a topic without a predicate ('X는?')"),
        ("언제 도착했나요?", "no subject or object of its own"),  # Korean leaves the pronoun out
        ("왜?", "no subject or object of its own"),
    ],
}


@pytest.mark.parametrize(
    ("language", "question"), [(lang, q) for lang, qs in SELF_CONTAINED.items() for q in qs]
)
def test_a_question_that_names_its_own_subject_stands_alone(language, question):
    assert followup_reason(question) is None
    assert not is_followup(question)
    assert followup_context(question, ["Who visited Seoul?", "Wann?", "그녀는 언제 도착했나요?"]) is None
    assert Query.build(question, ["When did she arrive?"]).context is None


@pytest.mark.parametrize(
    ("language", "question", "reason"),
    [(lang, q, reason) for lang, qs in FOLLOW_UPS.items() for q, reason in qs],
)
def test_a_question_that_leans_back_is_a_follow_up_and_says_why(language, question, reason):
    assert followup_reason(question) == reason
    assert is_followup(question)
    assert Query.build(question, ["Who visited Seoul in January 2026?"]).context == (
        "Who visited Seoul in January 2026?"
    )


def test_each_language_has_enough_examples_both_ways():
    for language in ("en", "de", "ko"):
        assert len(SELF_CONTAINED[language]) >= 6 and len(FOLLOW_UPS[language]) >= 6


def test_follow_up_context_reaches_back_to_the_question_that_named_the_subject():
    assert followup_context("Who visited Seoul in January 2026?", ["When did she arrive?"]) is None
    assert followup_context("When did she arrive?", []) is None
    assert followup_context("When did she arrive?", ["Who visited Seoul in January 2026?"]) == (
        "Who visited Seoul in January 2026?"
    )
    # A chain of follow-ups reaches back to the question that named the subject.
    assert followup_context("And why?", ["Who visited Seoul?", "When did she arrive?"]) == (
        "Who visited Seoul? When did she arrive?"
    )
    assert followup_context("When did she arrive?", ["", "Who visited Seoul?"]) == "Who visited Seoul?"


def test_the_context_reaches_back_at_most_two_questions_and_skips_bad_ones():
    history = ["Who visited Seoul?", "When did she arrive?", "\x00", "And then?"]
    assert followup_context("Why?", history) == "When did she arrive? And then?"
    assert followup_context("Why?", ["x" * (MAX_QUESTION_CHARS + 1), "Who visited Seoul?"]) == (
        "Who visited Seoul?"
    )
    assert followup_context("Why?", ["", "  "]) is None


def test_a_self_contained_question_gets_the_same_answer_after_unrelated_questions(fake_seed_index):
    """Pipeline level (fake embedder and reader): the history of three unrelated questions changes
    nothing for a question that names its subject, and a true follow-up reads its context."""
    from rag.index.embed import FakeEmbedder
    from rag.query.pipeline import Pipeline
    from rag.query.reader import FakeReader

    pipeline = Pipeline.from_settings(
        fake_seed_index, embedder=FakeEmbedder(), reader=FakeReader(), threshold=0
    )
    unrelated = [
        "Who won the election in Berlin?",
        "Wie hoch ist die Inflation?",
        "반도체 수출은 얼마인가요?",
    ]
    for question in (
        "What is the population of Seoul?",
        "Wer ist Giorgia Meloni?",
        "몇 건의 양해각서가 체결되었나요?",
    ):
        fresh, after = pipeline.ask(question), pipeline.ask(question, history=unrelated)
        assert [s.citation for s in after.sentences] == [s.citation for s in fresh.sentences]
        assert after.confidence == fresh.confidence and after.hits == fresh.hits
    question, history = "What did they sign there?", ["Which leaders met in Seoul in January 2026?"]
    assert Query.build(question, history).context == history[0]
    fresh, after = pipeline.ask(question), pipeline.ask(question, history=history)
    assert [h.chunk.id for h in after.hits] != [h.chunk.id for h in fresh.hits]  # the context moved them


# --- Query -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "language"),
    [
        ("Who visited Seoul in January 2026?", "en"),
        ("Wie viele Absichtserklärungen wurden unterzeichnet?", "de"),
        ("몇 건의 양해각서가 체결되었나요?", "ko"),
        ("1956", "und"),
    ],
)
def test_query_build_cleans_the_question_and_detects_its_language(question, language):
    query = Query.build("  " + question + "\x00 ")
    assert query == Query(question, language, None)


def test_query_build_reads_a_follow_up_s_context_from_the_history():
    query = Query.build("When did she arrive?", history=["Who visited Seoul in January 2026?"])
    assert query.text == "When did she arrive?" and query.language == "en"
    assert query.context == "Who visited Seoul in January 2026?"
    alone = Query.build("Who visited Seoul in January 2026?", history=["When did she arrive?"])
    assert alone.context is None
    assert Query.build("When did she arrive?").context is None  # no history, no context


@pytest.mark.parametrize(
    ("history", "message"),
    [
        ([None, "Who visited Seoul?"], r"history\[0\] \(an earlier question\) must be text, got NoneType"),
        (["Who visited Seoul?", 3], r"history\[1\] \(an earlier question\) must be text, got int"),
        ([b"Who visited Seoul?"], r"history\[0\] .* must be text, got bytes"),
        ([["Who visited Seoul?"]], r"history\[0\] .* must be text, got list"),
    ],
)
def test_query_build_refuses_history_items_that_are_not_text(history, message):
    with pytest.raises(QuestionError, match=message):
        Query.build("When did she arrive?", history=history)


@pytest.mark.parametrize("question", ["", "   ", None, "x" * (MAX_QUESTION_CHARS + 1)])
def test_query_build_refuses_bad_questions(question):
    with pytest.raises(QuestionError):
        Query.build(question, history=["Who visited Seoul?"])


def test_a_query_is_frozen():
    query = Query.build("Who visited Seoul?")
    with pytest.raises(dataclasses.FrozenInstanceError):
        query.text = "changed"  # type: ignore[misc]


def test_the_pipeline_still_offers_the_names_that_moved_here():
    from rag.query import pipeline, question

    for name in ("clean_question", "followup_context", "MAX_QUESTION_CHARS"):
        assert getattr(pipeline, name) is getattr(question, name)


@pytest.mark.parametrize("history", [123, "Who visited Seoul?", b"x", {"a": 1}, None])
def test_history_that_is_not_a_list_is_refused_with_a_message(history):
    with pytest.raises(QuestionError, match="history must be a list"):
        Query.build("When did she arrive?", history)


def test_only_the_recent_history_is_read():
    history = ["Who visited Seoul in January 2026?"] + [""] * HISTORY_TURNS  # blank ones are skipped
    assert Query.build("When did she arrive?", history).context is None  # too far back
    assert Query.build("When did she arrive?", history[:3]).context == "Who visited Seoul in January 2026?"


def test_a_history_longer_than_the_limit_is_refused_with_what_is_allowed():
    assert Query.build("When did she arrive?", ["Who visited Seoul?"] * MAX_HISTORY).context
    with pytest.raises(
        QuestionError,
        match=f"history has 5,000 questions; at most {MAX_HISTORY} are accepted and only the last",
    ):
        Query.build("When did she arrive?", ["Who visited Seoul?"] * 5000)


def test_a_history_item_longer_than_a_question_is_refused():
    fine = " " * 10 + "a" * MAX_QUESTION_CHARS  # the limit counts the cleaned text, as for a question
    assert Query.build("Who visited Seoul?", [fine]).text == "Who visited Seoul?"
    with pytest.raises(QuestionError, match=r"history\[1\] \(an earlier question\) is too long \(2,001 c"):
        Query.build("Who visited Seoul?", ["Who?", "a" * (MAX_QUESTION_CHARS + 1)])
    with pytest.raises(QuestionError, match=r"history\[0\] .* is too long \(1,000,000 characters\)"):
        Query.build("Who visited Seoul?", ["\x00" * 1_000_000])  # never cleaned


@pytest.mark.parametrize("question", ["🙂🙂🙂", "???", "🙂 ?!", "…", "— · —", "\u0301\u0301"])
def test_a_question_without_letters_or_digits_is_refused(question):
    with pytest.raises(QuestionError, match=r"the question .* has no words \(no letter or digit\)"):
        Query.build(question)


@pytest.mark.parametrize("question", ["1956?", "몇 건?", "Wer?", "🙂 Who?", "ＡＢＣ?"])
def test_one_letter_or_digit_of_any_script_is_a_question(question):
    assert Query.build(question).text == question
