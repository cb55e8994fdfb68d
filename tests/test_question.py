"""Tests for rag.query.question: cleaning and checking a question, follow-ups and their context, and the
``Query`` the pipeline reads once per question."""

from __future__ import annotations

import dataclasses

import pytest

from rag.errors import QuestionError
from rag.query.question import (
    FOLLOWUP_MAX_WORDS,
    HISTORY_TURNS,
    MAX_HISTORY,
    MAX_QUESTION_CHARS,
    Query,
    clean_question,
    followup_context,
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


def test_follow_up_questions_are_recognised():
    assert is_followup("When did she arrive?")
    assert is_followup("Und wann?")
    assert is_followup("그녀는 언제 도착했나요?")
    assert not is_followup("When did Giorgia Meloni arrive in Seoul?")
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


@pytest.mark.parametrize(
    "question",
    ["Was sagte er?", "Wo war sie damals?", "그들은 무엇에 서명했나요?", "What did they sign there?", "Why?"],
)
def test_pronouns_and_few_content_words_make_a_follow_up(question):
    assert is_followup(question)


@pytest.mark.parametrize(
    "question",
    [
        "How many memoranda of understanding were signed in Seoul?",
        "Wie viele Absichtserklärungen wurden unterzeichnet?",
        "Which companies signed agreements on semiconductors?",
    ],
)
def test_questions_that_name_their_subject_stand_alone(question):
    assert not is_followup(question)
    assert followup_context(question, ["Who visited Seoul?"]) is None


def test_a_follow_up_has_at_most_the_set_number_of_content_words():
    assert FOLLOWUP_MAX_WORDS >= 1
    words = ["summit", "memoranda", "semiconductors", "agreements", "ministers"]
    assert is_followup("What " + " ".join(words[:FOLLOWUP_MAX_WORDS]) + "?")
    assert not is_followup("What " + " ".join(words[: FOLLOWUP_MAX_WORDS + 1]) + "?")


def test_the_context_reaches_back_at_most_two_questions_and_skips_bad_ones():
    history = ["Who visited Seoul?", "When did she arrive?", "\x00", "And then?"]
    assert followup_context("Why?", history) == "When did she arrive? And then?"
    assert followup_context("Why?", ["x" * (MAX_QUESTION_CHARS + 1), "Who visited Seoul?"]) == (
        "Who visited Seoul?"
    )
    assert followup_context("Why?", ["", "  "]) is None


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
