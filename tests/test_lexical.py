"""Tests for rag.query.lexical: per-language terms, German decompounding, Korean morphemes, BM25 coverage."""

from __future__ import annotations

import numpy as np
import pytest

from rag.index.store import Index
from rag.query.lexical import Acronyms, Decompounder, LexicalIndex, terms_of, tokens_of


@pytest.fixture(scope="module")
def lex(fake_seed_index) -> LexicalIndex:
    return LexicalIndex(Index.open(fake_seed_index.index_dir))


def test_english_words_are_stemmed_and_stop_words_dropped():
    assert terms_of("The leaders visited Seoul.", "en") == ["leader", "visit", "seoul"]


def test_german_question_words_and_articles_are_stop_words():
    assert terms_of("Wann trafen sich die Staatsoberhäupter?", "de") == ["treff", "staatsoberhaupt"]


@pytest.mark.parametrize(
    ("text", "terms"),
    [("Who won the downhill?", ["won", "downhil"]),
     ("a budget of 10 trillion won", ["budget", "10", "trillion", "won"]),
     ("He won't say.", ["say"]), ("He won’t say.", ["say"])],
)  # fmt: skip
def test_won_is_a_word_except_in_wont(text, terms):
    # bm25s lists "won" as a stop word for "won't"; alone it is the past of "win" and Korea's currency
    assert terms_of(text, "en") == terms


def test_acronyms_spelled_like_stop_words_are_content_words():
    assert terms_of("The US economy grew.", "en") == ["us", "economi", "grow"]
    assert terms_of("The WHO warned IT firms.", "en") == ["who", "warn", "it", "firm"]
    assert terms_of("She told us who it was.", "en") == ["tell"]


@pytest.mark.parametrize(
    ("language", "inflected", "base"),
    [("en", "Meloni flew to Seoul", "Meloni flies to Seoul"), ("en", "they met", "they meet"),
     ("de", "Sie trafen sich", "Sie treffen sich"), ("de", "Das Werk ist gebaut", "Sie bauten das Werk")],
)  # fmt: skip
def test_irregular_forms_share_the_term_of_their_lemma(language, inflected, base):
    assert set(terms_of(inflected, language)) == set(terms_of(base, language))


@pytest.mark.parametrize(
    ("british", "american"),
    [("were naturalised", "were naturalized"), ("the city centre", "the city center"),
     ("Labour travelled", "labor traveled")],
)  # fmt: skip
def test_british_and_american_spellings_share_a_term(british, american):
    assert terms_of(british, "en") == terms_of(american, "en")


def test_token_offsets_point_into_the_text():
    text = "Meloni’s daughter likes K-pop."
    for tok in tokens_of(text, "en"):
        assert text[tok.start : tok.end].casefold() == tok.word


def test_german_compound_is_split_into_words_of_the_corpus():
    split = Decompounder({"energie": 4, "sicherheit": 2, "kultur": 3, "erbe": 2, "schutz": 1})
    assert split.split("energiesicherheit") == ["energie", "sicherheit"]
    assert split.split("kulturerbeschutz") == ["kultur", "erbe", "schutz"]
    assert split.split("haus") == []  # too short to be a compound


def test_german_compound_split_uses_linking_s():
    assert Decompounder({"produktion": 2, "firma": 1}).split("produktionsfirma") == ["produktion", "firma"]


def test_korean_is_cut_into_morphemes():
    terms = terms_of("멜로니 총리는 서울을 방문했나요?", "ko")
    assert "방문" in terms and "서울" in terms and "총리" in terms
    assert not any(t.endswith("는") or t.endswith("을") for t in terms)


def test_han_text_becomes_character_bigrams():
    assert terms_of("東京都", "ja") == ["東京", "京都"]


def test_coverage_is_between_zero_and_one_and_finds_the_matching_chunk(lex, fake_seed_index):
    index = Index.open(fake_seed_index.index_dir)
    cov = lex.coverage("trade volume 12.6 billion 2024")
    assert cov.shape == (len(index.chunks),)
    assert float(cov.min()) >= 0.0 and float(cov.max()) <= 1.0 + 1e-6
    assert "12.6 billion" in index.chunks[int(np.argmax(cov))].text


def test_terms_the_corpus_never_uses_lower_the_coverage(lex):
    known = lex.coverage("Milan").max()
    with_unseen = lex.coverage("population Milan").max()
    assert with_unseen < known


def test_question_without_terms_has_zero_coverage(lex):
    assert not lex.coverage("?!").any()
    assert not lex.coverage("the of and").any()


def test_german_question_is_read_with_german_stems_against_the_german_article(lex, fake_seed_index):
    index = Index.open(fake_seed_index.index_dir)
    cov = lex.coverage("Absichtserklärung Halbleiter")
    best = index.chunks[int(np.argmax(cov))]
    assert index.articles[best.article_id].language == "de"


def test_a_question_read_in_another_language_loses_its_own_stop_words(lex):
    question = "Which business forum did Lee and Meloni agree to activate?"
    as_german = lex.query_terms(question, "de")
    assert "business" in as_german and "lee" in as_german
    assert not {"which", "did", "and", "to"} & set(as_german)
    # the weights of a sentence's lexical evidence drop them; BM25 coverage keeps them (measured)
    assert set(lex.question_weights(question, "de")) == set(as_german)
    assert "which" in lex.query_terms(question, "de", drop_own_stopwords=False)
    # read in its own language nothing changes
    assert lex.query_terms(question, "en") == lex.query_terms(question, "en", drop_own_stopwords=False)


def test_capitalised_ordinary_words_are_recognised(lex):
    assert lex.is_common("The")
    assert lex.is_common("Summit")  # "summit" is written in lower case in the articles
    assert not lex.is_common("Mattarella")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("They signed three memoranda of understanding.", ["MOU"]),
        ("the United Nations and the European Union", ["UN", "EU"]),
        ("a Korea-EU free-trade agreement", ["FTA"]),
        ("the Ministry of Foreign Affairs", ["MFA"]),  # "of" skipped between capitalised words
        ("each unit of the union", []),  # a two-letter acronym needs capitalised words
        ("tons of carbon per hectare", []),  # lower-case words of three letters are chance
        ("descendants of endosymbiotic cyanobacteria", []),  # lower case with a joiner skipped
        ("memoranda, of understanding", []),  # punctuation between the words
        ("the Korea-Italien Business Forum", []),  # a two-letter acronym needs a space: not "KI"
        ("railways in Victoria", []),  # a phrase does not start with a joiner: not "IV"
    ],
)
def test_phrases_that_spell_out_an_acronym_of_the_corpus(text, expected):
    acronyms = Acronyms(["The MOUs, the UN, the EU, an FTA, the MFA, TCP, DEC, KI, IV and EUs."])
    assert acronyms.spelled_in(text) == expected


def test_a_sentence_that_spells_out_an_acronym_matches_the_acronym(lex, fake_seed_index):
    """The German seed article writes "(MOUs)", the English ones "memoranda of understanding"."""
    index = Index.open(fake_seed_index.index_dir)
    assert terms_of("How many MOUs?", "en") == ["mou"]  # a plural acronym is the acronym
    spelled = [i for i, s in enumerate(index.sentences) if "memorand" in s.text and "understanding" in s.text]
    assert spelled and all("mou" in lex.sentence_terms[i] for i in spelled)
    assert "mou" in lex.query_terms("How many memoranda of understanding were signed?", "en")


def test_lemmas_come_from_tries_stored_once_in_the_cache_folder(tmp_path, monkeypatch):
    import simplemma

    from rag.query import lexical

    monkeypatch.setenv("RAG_CACHE_DIR", str(tmp_path))
    lexical._lemmatizer.cache_clear()
    try:
        words = {
            "en": ["flew", "signed", "memoranda", "Seoul"],
            "de": ["trafen", "unterzeichneten", "Abkommen"],
        }
        for lang, some in words.items():
            for word in some:
                assert lexical._lemmatizer().lemmatize(word, lang=lang) == simplemma.lemmatize(
                    word, lang=lang
                )
        assert sorted(p.name for p in (tmp_path / "simplemma").iterdir()) == ["de.dic", "en.dic"]
    finally:
        lexical._lemmatizer.cache_clear()
