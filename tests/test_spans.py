"""Tests for rag.spans: question types, typed phrases, and the short answer of any question."""

from __future__ import annotations

import numpy as np
import pytest

from rag import spans
from rag.spans import (
    DATE,
    ENGLISH_SPAN_WEIGHTS,
    ENTITY,
    MAX_SPAN_WORDS,
    NUMBER,
    OTHER,
    PERSON,
    PLACE,
    SPAN_FEATURES,
    SPAN_WEIGHTS,
    SYNTAX_FEATURES,
    best_span,
    choose_span,
    korean_places,
    pick_short_answer,
    question_type,
    span_candidates,
    span_in_article,
    typed_spans,
)


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("How many memoranda were signed?", NUMBER),
        ("How much did trade grow?", NUMBER),
        ("How old was Manning when he played?", NUMBER),  # the first question word decides
        ("What is the population of Milan?", NUMBER),
        ("When did Meloni arrive?", DATE),
        ("In which year will they mark 140 years?", DATE),
        ("Who visited Seoul?", PERSON),
        ("Whose offer did Meloni pass on?", PERSON),
        ("Where did they meet in June?", PLACE),
        ("Which country was the first stop?", PLACE),  # "which" + a place noun
        ("Which Italian president held a summit?", PERSON),
        ("What German poet was descended from Huguenots?", PERSON),  # a person noun after "what"
        ("What did the Italian president say?", OTHER),  # but "what did ..." asks what
        ("What Goldman Sachs CEO studied in Chicago?", PERSON),
        ("What did the General Conference name after Tesla?", OTHER),  # "General" is no person here
        ("What is the name of the first Doctor Who serial?", OTHER),  # "Who" is part of a name
        ("Who played Doctor Who on stage?", PERSON),
        ("Wie heißt die erste Doctor Who-Serie?", OTHER),
        ("Welcher deutsche Dichter stammt von Hugenotten ab?", PERSON),
        ("Auf welcher Ebene würden Wissenschaftler messen?", OTHER),  # a level, not the scientists
        ("Auf welche Stufe heben sie ihre Beziehungen?", OTHER),
        ("Which business forum will they activate?", ENTITY),
        ("Which industries did the two leaders focus on?", OTHER),  # a common noun, not a name
        ("In welchen Bereichen arbeiten sie zusammen?", OTHER),
        ("Why did Lee thank Italy?", OTHER),
        ("What sea bordered Genghis Khan's empire when he died?", OTHER),  # "when" opens a clause
        ("When many people are arrested, what is a common tactic?", OTHER),  # so does a leading one
        ("Wenn viele verhaftet werden, welche Taktik ist üblich?", ENTITY),
        ("How old was Meloni when she took office?", NUMBER),
        ("What was the trade volume between Korea and Italy in 2024?", NUMBER),
        ("How and when did the plague reach Europe?", DATE),
        ("Who was president when the ties began?", PERSON),
        ("Wie viele Absichtserklärungen wurden unterzeichnet?", NUMBER),
        ("Wie viel kostet ein Ticket?", NUMBER),
        ("Welcher Prozentsatz der Wähler stimmte zu?", NUMBER),  # like "what percentage"
        ("Welchen Anteil hat Italien am Handel?", NUMBER),
        ("Wie schnell waren die Winde?", NUMBER),
        ("What was the average household size?", NUMBER),
        ("What was Warsaw's population in 1901?", NUMBER),
        ("Wann trafen sich Lee und Meloni?", DATE),
        ("Wer ist der Außenminister?", PERSON),
        ("Wo fand das Treffen statt?", PLACE),
        ("Welches Land war die erste Station?", PLACE),
        ("Welche Rolle spielte Italien?", OTHER),  # a role is a common noun phrase
        ("Which values did Yoon say the two countries share?", OTHER),
        ("Welche Werte teilen beide Länder?", OTHER),
        ("멜로니 총리의 딸은 누구인가요?", PERSON),
        ("정상회담은 언제 열렸나요?", DATE),
        ("회담은 어디에서 열렸나요?", PLACE),
        ("양해각서는 몇 건 체결되었나요?", NUMBER),
        ("교역 규모는 얼마였나요?", NUMBER),
        ("어느 나라에서 왔나요?", PLACE),
        ("무슨 산업이 논의되었나요?", ENTITY),
    ],
)
def test_question_type_in_three_languages(question, expected):
    assert question_type(question) == expected


def test_numbers_keep_currency_multiplier_and_percent():
    text = "Trade rose from $8.08 billion to $12.6 billion, up 56%, with 1,200 firms and three MOUs."
    assert [p.text for p in typed_spans(text, NUMBER)] == [
        "$8.08 billion",
        "$12.6 billion",
        "56%",
        "1,200",
        "three",
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Only 100–150 species have been validated.", ["100–150"]),
        ("New fields usually required five to ten years.", ["five to ten"]),
        ("Efficiency reaches some 27-30% on high-pressure engines.", ["27-30%"]),
        ("Die Temperatur stieg um 0,3 bis 0,6 Grad.", ["0,3 bis 0,6"]),
        ("The loss grew from 415,000 to 587,000 square kilometres.", ["415,000", "587,000"]),  # a change
        ("It is a single-step, 5-cylinder engine.", ["5"]),
    ],
)
def test_a_range_of_numbers_is_one_number_phrase(text, expected):
    assert [p.text for p in typed_spans(text, NUMBER)] == expected


def test_a_german_multiplier_is_kept_whole():
    text = "Die Bahn befördert 37 Millionen Passagiere und 2 Milliarden Tonnen."
    assert [p.text for p in typed_spans(text, NUMBER, "de")] == ["37 Millionen", "2 Milliarden"]


@pytest.mark.parametrize(
    ("question", "sentence", "language", "expected"),
    [
        # "how many <noun>": the number alone, not the words after it
        (
            "How many academic units make up the school?",
            "The school has eleven separate academic units.",
            "en",
            "eleven",
        ),
        ("How many Grammys has the singer won?", "The six-time Grammy winner sang the anthem.", "en", "six"),
        (
            "Wie viele Fahrgäste befördert die Bahn?",
            "Die Bahn befördert 37 Millionen Passagiere.",
            "de",
            "37 Millionen",
        ),
        # how fast / often / long: the number with its unit, "every", a fraction, a qualifier it held
        (
            "How fast were the winds during the storm?",
            "During the storm, winds reached 110 mph here.",
            "en",
            "110 mph",
        ),
        (
            "How often are council elections held?",
            "Elections to the council are held every five years.",
            "en",
            "every five years",
        ),
        (
            "How many of the townspeople died?",
            "The plague killed sometimes two-thirds of the townspeople.",
            "en",
            "two-thirds",
        ),
        (
            "How many passengers does the network carry?",
            "The network carries over 37 million passengers a year.",
            "en",
            "over 37 million",
        ),
        ("Wie viel Prozent sind betroffen?", "Betroffen sind bis zu 30 % der Mädchen.", "de", "bis zu 30 %"),
        (
            "What percentage of the stations ran out of fuel?",
            "In February 1974, 20% of the stations ran out of fuel.",
            "en",
            "20%",
        ),
        (
            "How long had it been since an Italian leader visited?",
            "It was the first visit by an Italian leader in almost two decades.",
            "en",
            "almost two decades",
        ),
    ],
)
def test_a_number_answer_is_the_number_with_what_belongs_to_it(question, sentence, language, expected):
    found = best_span(question, [sentence], language)
    assert found is not None and found[1].text == expected
    assert sentence[found[1].start : found[1].end] == expected


@pytest.mark.parametrize(
    ("question", "sentence", "expected"),
    [
        ("In what year did the inventor die?", "The inventor died on 7 January 1943 in New York.", "1943"),
        ("In welchem Jahr schloss die Galerie?", "Die Galerie schloss am 25. Februar 2010.", "2010"),
        ("In what century were the schools founded?", "The schools were founded in the nineteenth century.",
         "nineteenth"),
        ("When did he reign as emperor?", "He reigned as emperor from 1321 to 1323.", "1321 to 1323"),
        ("When were attacks on teachers most frequent?",
         "Attacks on teachers were most frequent between 2005 and 2010.", "between 2005 and 2010"),
        ("When did the board call for it?", "The board called for it in 2011 and 2012.", "2011 and 2012"),
        ("In welchem Jahrhundert entstand sie?", "Sie entstand im 20. Jahrhundert in Europa.", "20."),
        ("When did the summit take place?", "The summit took place on 19 January 2026.", "19 January 2026"),
    ],
)  # fmt: skip
def test_a_date_answer_is_what_the_question_asks_for(question, sentence, expected):
    found = best_span(question, [sentence], "de" if "Jahr" in question else "en")  # Jahr, Jahrhundert
    assert found is not None and found[1].text == expected
    assert sentence[found[1].start : found[1].end] == expected


def test_a_rank_is_not_a_number_phrase():
    text = "The first visit in 19 years, the 2nd summit of the fourth-largest partner, had three-day talks."
    assert [p.text for p in typed_spans(text, NUMBER)] == ["19", "three-day"]


def test_a_year_is_not_a_number_phrase_except_for_how_long():
    text = "Trade grew from $8.08 billion in 2012 to $12.6 billion; 2000 guests came; seit 1956 und 2024년."
    assert [p.text for p in typed_spans(text, NUMBER)] == ["$8.08 billion", "$12.6 billion", "2000"]
    with_years = [p.text for p in typed_spans(text, NUMBER, years=True)]
    assert with_years == ["$8.08 billion", "2012", "$12.6 billion", "2000", "1956", "2024년"]
    theatre = "The summer theatre ran from 1966 until 1980."  # how long it ran may be answered with years
    theatre_words = [(4, 18)]
    how_long, how_many = "How long did the summer theatre run?", "How many plays did the theatre stage?"
    assert pick_short_answer(theatre, NUMBER, how_long, theatre_words) is not None
    assert pick_short_answer(theatre, NUMBER, how_many, theatre_words) is None
    trade = pick_short_answer("Trade rose in 2024 to $12.6 billion.", NUMBER, "How much was trade?", [])
    assert trade.text == "$12.6 billion"


def test_dates_in_english_german_and_korean():
    spans = [
        p.text
        for p in typed_spans("On January 19, 2026 (Monday), am 19. Januar 2026, 2024년 1월 19일.", DATE)
    ]
    assert spans == ["January 19, 2026", "Monday", "19. Januar 2026", "2024년 1월 19일"]


def test_names_are_runs_of_capitalised_words_with_connectors():
    text = "An agreement between Korea Heritage Service and the Italian Ministry of Culture was signed."
    names = [p.text for p in typed_spans(text, PERSON)]
    assert "Korea Heritage Service" in names and "Italian Ministry of Culture" in names


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "Lee Jae-myung and Giorgia Meloni met the Ministry of Culture and Tourism"
            " of Bosnia and Herzegovina.",
            ["Lee Jae-myung", "Giorgia Meloni", "Ministry of Culture and Tourism of Bosnia and Herzegovina"],
            id="and-joins-one-word-names-and-organisations-but-not-two-longer-names",
        ),
        pytest.param(
            "South Korean President Lee Jae-myung and Italian Prime Minister Giorgia Meloni met Lady Gaga and"
            " the Executive Vice President of Football Operations.",
            [
                "Lee Jae-myung",
                "Giorgia Meloni",
                "Lady Gaga",
                "Executive Vice President of Football Operations",
            ],
            id="a-title-before-a-name-is-left-out-but-an-office-is-kept-whole",
        ),
        pytest.param(
            "Meloni extended an offer from Italian President Sergio Mattarella for Lee to visit the"
            " European Commission President Ursula von der Leyen and the Centre for Disease Control.",
            ["Meloni", "Sergio Mattarella", "Lee", "Ursula von der Leyen", "Centre for Disease Control"],
            id="for-ends-a-titled-name-but-particles-and-organisations-join",
        ),
    ],
)
def test_where_names_begin_and_end(text, expected):
    assert [p.text for p in typed_spans(text, PERSON)] == expected


def test_short_answer_leaves_out_the_question_words():
    text = "Italian President Sergio Mattarella was on a state visit to South Korea."
    phrase = pick_short_answer(text, ENTITY, "Which Italian president made a state visit?", [(18, 27)])
    assert phrase is not None and phrase.text == "Sergio Mattarella"


def test_short_answer_is_the_number_nearest_the_question_words():
    text = "In 2012 trade was $8.08 billion; it climbed to $12.6 billion in 2024."
    start = text.index("2024")
    phrase = pick_short_answer(text, NUMBER, "How large was the trade volume in 2024?", [(start, start + 4)])
    assert phrase is not None and phrase.text == "$12.6 billion"


def test_short_answer_for_percent_questions_prefers_percentages():
    text = "Of its 711,988 inhabitants, 56.2% were Catholic."
    phrase = pick_short_answer(
        text, NUMBER, "What percentage was Catholic?", [(text.index("Catholic"), len(text) - 1)]
    )
    assert phrase is not None and phrase.text == "56.2%"


def test_no_short_answer_for_untyped_questions():
    assert (
        pick_short_answer("Lee thanked Italy for its support.", OTHER, "Why did Lee thank Italy?", []) is None
    )


def test_short_answer_skips_a_sentence_initial_ordinary_word():
    text = "During the talks, Meloni invited Lee."
    phrase = pick_short_answer(text, PERSON, "Who invited Lee?", [(text.index("Lee"), len(text) - 1)])
    assert phrase is not None and phrase.text == "Meloni"


# --- the short answer of any question ------------------------------------------------------------------

_VISIT = (
    "Meloni arrived in South Korea on Saturday for a three-day official visit, the first bilateral visit"
    " to Seoul by an Italian prime minister in almost two decades."
)
_CAPTION = (
    "South Korean President Lee Jae-myung and Italian Prime Minister Giorgia Meloni hold an expanded meeting"
    " at the presidential Blue House in Seoul on January 19 YONHAP"
)
# (language, question, sentence, short answer)
CASES = [
    (
        "en",
        "Who invited Lee to Rome?",
        "During the talks, Prime Minister Giorgia Meloni invited Lee to Rome.",
        "Giorgia Meloni",
    ),
    (
        "en",
        "When did Meloni arrive in Seoul?",
        "Meloni arrived in Seoul on January 19, 2026, for a three-day visit.",
        "January 19, 2026",
    ),
    (
        "en",
        "Where did the two leaders meet?",
        "The two leaders met at the presidential office in Yongsan on Monday.",
        "Yongsan",
    ),
    (
        "en",
        "How many memoranda were signed?",
        "The two sides signed three memoranda of understanding on trade.",
        "three",
    ),
    (
        "en",
        "Which company built the new plant?",
        "The new plant was built by Hyundai Motor near the port of Ulsan.",
        "Hyundai Motor",
    ),
    (  # the parser attaches "for critical minerals" to the verb ("discussed ... for ..."), not to the object
        "en",
        "What did the ministers discuss?",
        "The ministers discussed supply chains for critical minerals.",
        "supply chains",
    ),
    (
        "en",
        "What did Lee and Meloni sign?",
        "Lee and Meloni signed a memorandum of understanding on space cooperation.",
        "a memorandum of understanding on space cooperation",
    ),
    (
        "en",
        "What is the capital of the region?",
        "The capital of the region is Milan, a city of 1.4 million people.",
        "Milan",
    ),
    (
        "de",
        "Wer hat Lee nach Rom eingeladen?",
        "Bei den Gesprächen hat Ministerpräsidentin Giorgia Meloni Lee nach Rom eingeladen.",
        "Giorgia Meloni",
    ),
    (
        "de",
        "Wer hat Lee nach Italien eingeladen?",
        "Meloni lud Lee zu einem Staatsbesuch ein, der einen baldigen Besuch in Italien ankündigte.",
        "Meloni",
    ),
    (
        "de",
        "Wann kam Meloni in Seoul an?",
        "Meloni kam am 19. Januar 2026 zu einem dreitägigen Besuch in Seoul an.",
        "19. Januar 2026",
    ),
    (
        "de",
        "Wo trafen sich die beiden Politiker?",
        "Die beiden Politiker trafen sich im Präsidialamt in Yongsan.",
        "Yongsan",
    ),
    (
        "de",
        "Wie viele Absichtserklärungen wurden unterzeichnet?",
        "Insgesamt wurden drei Absichtserklärungen zu Handel und Kultur unterzeichnet.",
        "drei",
    ),
    (
        "de",
        "Welches Unternehmen baute das neue Werk?",
        "Das neue Werk wurde von Hyundai Motor in der Nähe von Ulsan gebaut.",
        "Hyundai Motor",
    ),
    (
        "de",
        "Was besprachen die Minister?",
        "Die Minister besprachen Lieferketten für kritische Rohstoffe.",
        "Lieferketten für kritische Rohstoffe",
    ),
    # "how many <unit>": the number joined to that unit, not the sentence's other number
    ("en", "How many days did Meloni's official visit last?", _VISIT, "three-day"),
    ("en", "How many decades had passed since the last such visit?", _VISIT, "two"),
    # a question that ends on a preposition: what follows the same two words in the sentence
    (
        "en",
        "What is Giorgia Meloni's daughter a fan of?",
        "Meloni noted the soft power of South Korea, remarking that her daughter is a fan of K-pop.",
        "K-pop",
    ),
    (
        "en",
        "Who was the treaty signed by?",
        "In 1956 the treaty was signed by Italy and South Korea.",
        "Italy and South Korea",
    ),
    # who: a name right after "in" is where it happened ("in Seoul")
    ("en", "Who did Lee meet on January 19?", _CAPTION, "Giorgia Meloni"),
    # where, without a parse: a name known as a place, not a person's
    ("de", "Wo traf Meloni die Presse?", "Nach dem Gipfel traf Meloni die Presse mit Lee in Seoul.", "Seoul"),
    ("de", "Welches Land besuchte sie zuvor?", "Zuvor reiste sie mit Antonio Tajani nach Japan.", "Japan"),
]


@pytest.mark.parametrize(("language", "question", "sentence", "expected"), CASES)
def test_short_answer_for_every_question_type_in_english_and_german(language, question, sentence, expected):
    found = best_span(question, [sentence], language)
    assert found is not None
    k, phrase = found
    assert k == 0 and phrase.text == expected
    assert sentence[phrase.start : phrase.end] == phrase.text


@pytest.mark.parametrize(
    ("question", "sentence", "expected"),
    [
        ("What type of tunnels run under the city centre?", "The line was built with deep-level tunnels.",
         "deep-level"),
        ("What kind of data did the network use?", "The network used behavioral and demographic data.",
         "behavioral and demographic"),
        ("What type of Lord is the Doctor?", "The Doctor is a Time Lord from Gallifrey.", "Time Lord"),
        ("What kind of powerhouse did Lee call Italy?", "Lee called Italy a science powerhouse.", "science"),
        ("Welche Art von Messungen gibt es?", "Daten aus geophysikalischen Messungen zeigen sie.",
         "geophysikalischen"),
        ("Welche Art von Geografen waren sie?", "Politische Geografen wie Ratzel stützten das.",
         "Politische"),
    ],
)  # fmt: skip
def test_what_kind_of_noun_is_answered_with_the_words_before_the_noun(question, sentence, expected):
    found = best_span(question, [sentence], "de" if "Welche" in question else "en")
    assert found is not None and found[1].text == expected
    assert sentence[found[1].start : found[1].end] == expected


def test_a_why_question_gets_the_reason():
    sentence = "Lee thanked Italy because it had supported the bid for the 2030 Expo."
    found = best_span("Why did Lee thank Italy?", [sentence], "en")
    assert found is not None and "supported the bid" in found[1].text


def test_korean_gets_the_typed_phrase_only():
    sentence = "양국은 무역과 문화 분야에서 양해각서 3건을 체결했다."
    found = best_span("양해각서는 몇 건 체결되었나요?", [sentence], "ko")
    assert found is not None and found[1].text == "3건"
    assert best_span("양국은 무엇을 논의했나요?", [sentence], "ko") is None  # untyped: no span in Korean
    assert span_candidates("무엇?", [sentence], "ko")[0] == []


def test_the_span_can_come_from_the_second_sentence():
    sentences = ["The summit was held in Seoul.", "It was attended by 1,200 delegates from 40 countries."]
    found = best_span("How many delegates attended?", sentences, "en")
    assert found is not None and found[0] == 1 and found[1].text == "1,200"


ODD_SENTENCES = [
    "Italy's K-pop fans (about 4,000) met O'Brien — in Milan; \"twice\", said Dr. Lee.",
    "Über 56,2 % der Bürger in Köln stimmten am 3. März 2024 zu.",
    "  Leading and trailing spaces, tabs\tand\nnew lines.  ",
    "Emoji 🎉 and accents: café, naïve, Øresund, ß.",
    "A" * 300,
    "word " * 200,
]


@pytest.mark.parametrize("sentence", ODD_SENTENCES)
def test_candidate_offsets_are_exact_and_short(sentence):
    cands, feats, bounds = span_candidates("What happened in Milan?", [sentence], "en")
    assert feats.shape == (len(cands), len(SPAN_FEATURES)) and bounds.shape == (len(cands), 3)
    for k, phrase in cands:
        assert k == 0 and sentence[phrase.start : phrase.end] == phrase.text
        assert phrase.text == phrase.text.strip() and phrase.text[:1].isalnum() or phrase.text[:1] in "$€£¥₩"
        assert sum(1 for w in phrase.text.split() if any(c.isalnum() for c in w)) <= MAX_SPAN_WORDS


def test_spans_in_article_offsets():
    text = "Headline. Meloni arrived in Seoul on Monday."
    start = text.index("Meloni")
    found = best_span("When did Meloni arrive?", [text[start:]], "en")
    assert found is not None
    span = span_in_article(start, found[1])
    assert text[span.start : span.end] == span.text == "Monday"


@pytest.mark.parametrize(
    ("question", "sentence"),
    [
        ("Who invited Lee to Rome?", "Meloni invited Lee to Rome."),
        ("What did Meloni say about the visit to Seoul?", "Meloni said the visit to Seoul was historic."),
        ("Wer hat Lee nach Rom eingeladen?", "Meloni hat Lee nach Rom eingeladen."),
    ],
)
def test_the_question_own_words_are_not_returned(question, sentence):
    q_words = {w.strip("?").casefold() for w in question.split()}
    language = "en" if question.startswith(("Who", "What")) else "de"
    cands, _, _ = span_candidates(question, [sentence], language)
    for _, phrase in cands:  # every candidate brings at least one word the question lacks
        assert {w.strip(".,").casefold() for w in phrase.text.split()} - q_words
    found = best_span(question, [sentence], language)
    assert found is not None and found[1].text.casefold() not in question.casefold()


def test_a_sentence_of_only_question_words_has_no_candidates():
    assert span_candidates("Did Meloni invite Lee?", ["Meloni invited Lee."], "en")[0] == []
    assert best_span("Why did Meloni invite Lee?", ["Meloni invited Lee."], "en") is None


@pytest.mark.parametrize(
    ("question", "sentences"),
    [("", []), ("Who?", []), ("Who?", [""]), ("", ["Meloni met Lee."]), ("???", ["!!! ... ???"]),
     ("Who?", ["   "]), ("Wann?", ["-- , ;"])],
)  # fmt: skip
def test_empty_or_odd_input_is_safe(question, sentences):
    found = best_span(question, sentences, "en")
    assert found is None or sentences[found[0]][found[1].start : found[1].end] == found[1].text


def test_untyped_questions_get_no_span_when_no_candidate_stands_out():
    sentence = (
        "The ministers discussed supply chains for critical minerals and the energy transition in Europe."
    )
    flat = dict.fromkeys(SPAN_FEATURES, 0.0)  # every candidate equally likely
    assert best_span("What did the ministers discuss?", [sentence], "en", weights=flat) is None
    # a typed question whose sentence holds a phrase of its kind always gets one
    assert best_span("When did they meet?", ["They met in 2024 in Rome."], "en", weights=flat) is not None


def test_choice_maximises_expected_f1_over_overlapping_candidates():
    # three candidates: words 0-0, 0-2 and 3-3 of one sentence; the two overlapping ones share the mass
    scores = [1.0, 0.9, 1.05]
    bounds = [[0, 0, 0], [0, 0, 2], [0, 3, 3]]
    chosen, prob = choose_span(np.array(scores), np.array(bounds))
    assert chosen in (0, 1) and 0.3 < prob < 0.4


def test_the_weights_cover_the_features():
    assert set(ENGLISH_SPAN_WEIGHTS) == set(SPAN_FEATURES)
    assert set(SPAN_WEIGHTS) == set(SPAN_FEATURES) - set(SYNTAX_FEATURES)  # no parse: those columns are zero


def test_a_count_or_duration_is_picked_over_a_rank_for_how_many_and_how_long():
    text = "Meloni arrived on Saturday for a three-day official visit, the first bilateral visit in 19 years."
    visit = (text.index("official visit") + 9, text.index("official visit") + 14)
    found = pick_short_answer(text, NUMBER, "How long was Meloni's visit?", [visit])
    assert found is not None and found.text == "three-day"
    text = "It was the second summit, and three memoranda were signed."
    summit = (text.index("summit"), text.index("summit") + 6)
    found = pick_short_answer(text, NUMBER, "How many memoranda were signed at the summit?", [summit])
    assert found is not None and found.text == "three"


VISIT = (
    "Meloni arrived in South Korea on Saturday for a three-day official visit, the first bilateral visit to "
    "Seoul by an Italian prime minister in almost two decades."
)


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("How long did Meloni stay in Korea?", "three-day"),
        ("How long did the visit last?", "three-day"),
        ("Wie lange blieb Meloni in Korea?", "three-day"),
        # what is asked is the time since the last visit
        ("How long had it been since an Italian prime minister last visited?", "almost two decades"),
        ("Wie lange war der letzte Besuch eines italienischen Regierungschefs her?", "almost two decades"),
    ],
)
def test_how_long_is_not_answered_with_the_time_since_it_last_happened(question, expected):
    found = best_span(question, [VISIT], "en", question_language="de" if question.startswith("Wie") else "en")
    assert found is not None and found[1].text == expected


TRADE = (
    "Since the free trade agreement came into force in 2012, the trade volume between the two countries "
    "has expanded steadily, climbing from $8.08 billion in 2012 to $12.6 billion in 2024."
)


def test_the_number_of_the_two_countries_refers_to_them_and_is_no_amount():
    found = best_span("What is the trade volume between Korea and Italy?", [TRADE], "en")
    assert found is not None and "billion" in found[1].text
    german = "Wie hoch ist das Handelsvolumen zwischen Korea und Italien?"
    found = best_span(german, [TRADE], "en", question_language="de")
    assert found is not None and "billion" in found[1].text
    # asked how many, the two countries are the answer
    found = best_span("How many countries signed?", ["The two countries signed an agreement."], "en")
    assert found is not None and found[1].text == "two"


@pytest.mark.parametrize(
    ("question", "language"),
    [("When did Meloni arrive?", "en"), ("멜로니 총리는 언제 서울에 도착했나요?", "ko")],
)
def test_a_date_question_is_answered_with_a_date_when_the_sentence_has_one(question, language):
    found = best_span(question, [VISIT], "en", question_language=language)
    assert found is not None and found[1].text == "Saturday"


SUMMIT = (
    "During Italian Prime Minister Giorgia Meloni's visit to Seoul for a summit with President Lee Jae "
    "Myung, Korea and Italy affirmed their commitment to cooperation."
)


@pytest.mark.parametrize(
    ("question", "language"),
    [
        ("Who visited Seoul?", "en"),  # "Giorgia Meloni's" is the name "Giorgia Meloni" and a possessive
        ("Who is the Italian prime minister?", "en"),
        ("이탈리아 총리는 누구인가요?", "ko"),  # "이탈리아" (Italy) is read as "Italy" and "Italian"
    ],
)
def test_a_name_before_a_possessive_answers_who_in_english_and_korean(question, language):
    found = best_span(question, [SUMMIT], "en", question_language=language)
    assert found is not None and found[1].text == "Giorgia Meloni"


def test_places_in_a_korean_question_are_read_in_the_articles_language():
    found = korean_places("한국과 이탈리아는 몇 년에 수교했나요?", "en")
    assert found == ["South Korea", "Korean", "Italy", "Italian"]
    assert korean_places("멜로니 총리는 어느 나라에서 서울로 왔나요?", "de") == ["Seoul"]
    assert korean_places("이탈리아어 안내", "de") == ["Italienisch"]
    assert korean_places("어디로 가나요?", "en") == []  # "가나" (Ghana) only before a particle


@pytest.mark.parametrize(
    ("language", "question", "sentence", "expected"),
    [
        (
            "en",
            "Who is Giorgia Meloni?",
            "Lee and Italian Prime Minister Giorgia Meloni met.",
            "Italian Prime Minister",
        ),
        (
            "de",
            "Wer ist Giorgia Meloni?",
            "Lee traf die italienische Premierministerin Giorgia Meloni.",
            "italienische Premierministerin",
        ),
        (
            "en",
            "Who was Sergio Mattarella?",
            "Talks with Sergio Mattarella, the Italian head of state, went well.",
            "the Italian head of state",
        ),
    ],
)
def test_who_is_a_name_is_answered_with_the_title_or_apposition_not_another_name(
    language, question, sentence, expected
):
    found = best_span(question, [sentence], language)
    assert found is not None and found[1].text == expected
    assert sentence[found[1].start : found[1].end] == expected


def test_who_is_without_a_description_falls_back_to_the_scored_candidates():
    found = best_span("Who is Meloni?", ["Meloni invited Lee to Rome."], "en")
    assert found is None or found[1].text != "Meloni"


@pytest.mark.parametrize(
    ("text", "qtype", "expected"),
    [
        pytest.param(
            "Korea ranks as Italy's fourth-largest partner in Asia, and its top Asian market in January.",
            PERSON,
            ["Korea", "Italy's"],
            id="continents-nationalities-and-months-are-not-people-but-countries-act",
        ),
        pytest.param(
            "Turkish forces and Japanese research teams joined the Italian prime minister.",
            PERSON,
            ["Turkish forces", "Japanese research teams"],
            id="a-nationality-before-a-plural-noun-is-a-group-of-people",
        ),
        pytest.param(
            "Meloni met the Korean President Lee Jae-myung and Christian Bale in Seoul in January.",
            PERSON,
            ["Meloni", "Lee Jae-myung", "Christian Bale"],  # "in Seoul": where, not who
            id="people-are-kept",
        ),
        pytest.param(
            "Lee met Meloni at the presidential Blue House in Seoul; Elizabeth II opened the Tyne Bridge.",
            PERSON,
            ["Lee", "Meloni", "Elizabeth II"],
            id="buildings-and-landmarks-are-not-people",
        ),
        pytest.param(
            "die Präsidentin Meloni traf Lee im Blauen Haus.",
            PERSON,
            ["Meloni", "Lee"],
            id="nor-in-german",
        ),
        pytest.param(
            "Meloni backed the 2026 Olympic and Paralympic Winter Games in Milan at the G20 Summit.",
            PERSON,
            ["Meloni"],
            id="events-are-not-people",
        ),
        pytest.param(
            "Meloni sprach beim Gipfeltreffen mit Lee über die Olympischen Spiele.",
            PERSON,
            ["Meloni", "Lee"],
            id="nor-german-events",
        ),
        pytest.param(
            "the first visit to Seoul on Tuesday by an Italian prime minister since the French left Japan.",
            PLACE,
            ["Seoul", "Japan"],
            id="a-nationality-or-a-day-is-not-a-place",
        ),
        pytest.param(
            "die italienische Premierministerin besuchte Südkorea.",
            PLACE,
            ["Südkorea"],  # "Premierministerin" follows an article and an adjective: a noun
            id="german-nationality-adjectives-too",
        ),
    ],
)
def test_people_and_places_are_told_from_nationalities(text, qtype, expected):
    language = "de" if "die " in text else "en"
    assert [p.text for p in typed_spans(text, qtype, language)] == expected


@pytest.mark.parametrize(
    ("question", "sentence", "expected"),
    [
        (
            "Where does South Korea rank among Italy's trading partners in Asia?",
            "South Korea ranks as Italy's fourth-largest trading partner in Asia and its top Asian market.",
            "fourth-largest",
        ),
        (
            "What ranking does LAX have among airports?",
            "LAX is the third busiest airport in the world.",
            "third",
        ),
        (
            "Auf welchem Platz steht Korea?",
            "Korea ist der viertgrößte Handelspartner Italiens in Asien.",
            "viertgrößte",
        ),
    ],
)
def test_a_question_about_a_rank_is_answered_with_the_rank(question, sentence, expected):
    found = best_span(question, [sentence])
    assert found is not None and found[1].text == expected


def test_a_question_that_only_mentions_a_rank_is_not_asking_for_one():
    found = best_span(
        "Which network took first place in the 1970s?", ["ABC was the first network to lead in 1976."]
    )
    assert found is not None and found[1].text == "ABC"


def test_a_date_question_gets_the_best_scoring_date_not_a_longer_phrase_around_a_rank():
    sentence = (
        "Meloni arrived in South Korea on Saturday for a three-day official visit, the first bilateral visit"
        " to Seoul by an Italian prime minister in almost two decades."
    )
    found = best_span("When did Meloni arrive in Seoul?", [sentence])
    assert found is not None and found[1].text == "Saturday"


def test_a_which_question_is_not_answered_with_a_weekday_or_month_alone():
    sentence = "Yoon spoke of the values they share at the meeting Wednesday with Sergio Mattarella in May."
    assert [p.text for p in typed_spans(sentence, ENTITY)] == ["Yoon", "Sergio Mattarella"]
    assert [p.text for p in typed_spans(sentence, DATE)] == ["Wednesday", "May"]


def test_a_photo_credit_or_dateline_in_capitals_is_not_a_person():
    caption = "Lee Jae-myung and Giorgia Meloni hold a meeting at the Blue House in Seoul on May 19 YONHAP"
    dateline = "SEOUL, January 19 (AJP) - Lee Jae Myung and Giorgia Meloni agreed on Monday to cooperate."
    assert [p.text for p in typed_spans(caption, PERSON)] == ["Lee Jae-myung", "Giorgia Meloni"]
    assert [p.text for p in typed_spans(dateline, PERSON)] == ["Lee Jae Myung", "Giorgia Meloni"]
    assert [p.text for p in typed_spans("NATO and the EU said so.", PERSON)] == ["NATO", "EU"]  # not a credit


@pytest.mark.parametrize(
    ("language", "text", "expected"),
    [
        ("en", "The Games will be held in Milan and Cortina in 2026.", []),
        ("en", "Kim met Lee at the summit in Seoul, near Busan and throughout Asia.", ["Kim", "Lee"]),
        ("de", "Meloni traf Lee im Blauen Haus in Seoul.", ["Meloni", "Lee"]),
    ],
)
def test_a_name_after_a_preposition_of_place_is_not_a_person(language, text, expected):
    assert [p.text for p in typed_spans(text, PERSON, language)] == expected


def test_no_candidate_holds_a_photo_credit():
    cands, _, _ = span_candidates("Who visited Seoul in January 2026?", [_CAPTION])
    texts = [p.text for _, p in cands]
    assert "Giorgia Meloni" in texts and "January 19" in texts
    assert not [t for t in texts if "YONHAP" in t]


def test_the_preposition_rule_needs_the_same_two_words_in_the_sentence():
    question = "What is Giorgia Meloni's daughter a fan of?"
    sentences = ["Her daughter, Meloni said, likes K-pop and Korean films."]
    cands, _, _ = span_candidates(question, sentences)
    assert cands and spans._after_stranded(question, sentences, cands) == []
    sentences = ["This is what the talks were about: trade."]
    cands, _, _ = span_candidates("What was this about?", sentences)  # "this about": no content word
    assert cands and spans._after_stranded("What was this about?", sentences, cands) == []


_PARTNERSHIP = (
    "Am 19. Januar 2026 trafen sich Präsident Lee Jae-myung und die italienische Premierministerin Giorgia "
    "Meloni im Blauen Haus zu einem Gipfeltreffen und einigten sich darauf, die bilateralen Beziehungen auf "
    "eine zukunftsorientierte strategische Partnerschaft zu heben."
)


@pytest.mark.parametrize(
    ("language", "question", "sentence", "expected"),
    [
        (
            "de",
            "Auf welche Stufe wollen Korea und Italien ihre bilateralen Beziehungen heben?",
            _PARTNERSHIP,
            "zukunftsorientierte strategische Partnerschaft",
        ),
        (
            "en",
            "During what type of climate is oxygen 18 higher in seawater?",
            "Seawater holds more oxygen 18 during periods of lower global temperatures, the study found.",
            "periods of lower global temperatures",
        ),
    ],
    ids=["german", "english"],
)
def test_a_question_that_starts_with_a_preposition_prefers_a_phrase_after_it(
    language, question, sentence, expected
):
    found = best_span(question, [sentence], language)
    assert found is not None and found[1].text == expected


def test_the_leading_preposition_counts_only_in_the_question_language():
    question = "Auf welche Stufe wollen Korea und Italien ihre Beziehungen heben?"
    sentences = ["They agreed to raise relations to a strategic partnership, Lee said on a visit."]
    cands, _, _ = span_candidates(question, sentences, "en")
    assert cands and spans._after_leading_preposition(question, sentences, cands, "en") == []
    cands, _, _ = span_candidates(question, [_PARTNERSHIP], "de")
    led = spans._after_leading_preposition(question, [_PARTNERSHIP], cands, "de")
    assert led and all(_PARTNERSHIP[cands[i][1].start - 4 : cands[i][1].start] == "ine " for i in led)


@pytest.mark.parametrize(
    ("language", "question", "sentence", "expected"),
    [
        (
            "en",
            "Who were two of Kublai's Chinese advisers?",
            "His Chinese advisers included Liu Bingzhong and Yao Shu, among others.",
            "Liu Bingzhong and Yao Shu",
        ),
        (
            "de",
            "Welche zwei Politiker trafen sich im Blauen Haus?",
            "Im Blauen Haus trafen sich Giorgia Meloni und Lee Jae-myung zu einem Gipfeltreffen.",
            "Giorgia Meloni und Lee Jae-myung",
        ),
        (
            "en",
            "Who met in the Blue House?",  # one name is asked for
            "In the Blue House, Giorgia Meloni and Lee Jae-myung met on Monday.",
            "Lee Jae-myung",
        ),
    ],
    ids=["english-two", "german-zwei", "no-two"],
)
def test_a_question_that_asks_for_two_gets_both_names(language, question, sentence, expected):
    found = best_span(question, [sentence], language)
    assert found is not None and found[1].text == expected
