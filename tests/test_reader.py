"""Tests for rag.query.reader: encoding (question, window) pairs, mapping answers to tokens and back, the
best span, the manifest and weights checks, the fake reader, the real reader on bad input, and a
smoke run of the training script (eval/train_reader.py).

Fast tests use the real tokenizer (``rag.index.e5convert.source_files``: no model conversion) and
synthetic logits. Tests marked ``model`` use multilingual-e5-small and the shipped reader (or the
one ``RAG_READER`` names: ``conftest.model_pipeline``).
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from rag.config import PROJECT_DIR
from rag.errors import ModelError
from rag.query import reader as rd
from rag.query.question import Query
from rag.query.reader import (
    Encoded,
    Encoder,
    FakeReader,
    Reading,
    answer_tokens,
    best_span,
    checked_weights,
    choose,
    read_manifest,
    reading_rule,
    span_text,
)

QUESTIONS = [json.loads(line) for line in (PROJECT_DIR / "eval" / "questions.jsonl").open(encoding="utf-8")]
WINDOW = "Lee met Meloni, in Seoul; on 19 January."
# What the shipped manifest sets (eval/train_reader.py MAX_TOKENS, QUESTION_TOKENS, MAX_ANSWER_TOKENS).
MAX_TOKENS, QUESTION_TOKENS, MAX_ANSWER_TOKENS = 128, 40, 30


@pytest.fixture(scope="module")
def encoder() -> Encoder:
    from rag.index.e5convert import source_files

    _, tokenizer_json = source_files()
    return Encoder.load(tokenizer_json)


def encode(encoder: Encoder, question: str, window: str, **limits: int) -> Encoded:
    limits = {"max_tokens": MAX_TOKENS, "question_tokens": QUESTION_TOKENS} | limits
    [row] = encoder.encode_many([question], [window], **limits)
    return row


def token_text(encoder: Encoder, token_id: int) -> str:
    return encoder.tokenizer.id_to_token(token_id).replace("\u2581", " ").strip()


# --- encoding -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "window"),
    [
        ("Who met Meloni?", WINDOW),
        ("Wie viele?", "Die Unternehmen unterzeichneten drei Absichtserklärungen über Halbleiter."),
        ("When?", "  Two spaces first, then\ta tab and\nnew lines.  "),
        ("누가 만났나요?", "이재명 대통령은 19일 청와대에서 멜로니 총리를 만났다."),
    ],
)
def test_encode_puts_the_question_then_the_window_with_offsets_that_slice_it(encoder, question, window):
    row = encode(encoder, question, window)
    q_ids = encoder.tokenizer.encode(question, add_special_tokens=False).ids
    cls, sep = encoder.cls_id, encoder.sep_id
    assert row.ids[: len(q_ids) + 3] == [cls, *q_ids, sep, sep]  # <s> question </s></s>
    assert row.first == len(q_ids) + 3
    assert row.ids[-1] == sep and len(row.ids) == row.first + len(row.offsets) + 1  # window </s>
    window_ids = row.ids[row.first : row.first + len(row.offsets)]
    assert cls not in window_ids and sep not in window_ids
    end = 0
    for (a, b), token_id in zip(row.offsets, window_ids, strict=True):
        assert end <= a < b <= len(window)  # in order, inside the window
        assert window[a:b].strip() == token_text(encoder, token_id)
        end = b
    assert "".join(token_text(encoder, i) for i in window_ids) == "".join(window.split())


@pytest.mark.parametrize("max_tokens", [16, 64, MAX_TOKENS, 512])
@pytest.mark.parametrize(
    ("question", "window"),
    [
        ("x" * 10_000, ""),
        ("Who? " * 2_000, WINDOW),
        ("Who met Meloni?", "Seoul " * 2_000),
        ("x" * 10_000, "Seoul " * 2_000),
        ("", ""),
    ],
    ids=["huge-question-empty-window", "long-question", "long-window", "both-long", "both-empty"],
)
def test_every_pair_fits_in_max_tokens(encoder, question, window, max_tokens):
    question_tokens = min(QUESTION_TOKENS, max_tokens - 8)
    row = encode(encoder, question, window, max_tokens=max_tokens, question_tokens=question_tokens)
    assert len(row.ids) <= max_tokens
    assert row.first - 3 <= question_tokens  # the question is cut first, to question_tokens
    assert all(b <= len(window) for _, b in row.offsets)
    if len(window) > 1_000:
        assert len(row.ids) == max_tokens  # a long window fills what the question leaves
    if not window:
        assert row.offsets == [] and row.ids[-3:] == [encoder.sep_id] * 3


def test_encode_many_keeps_the_order_of_its_pairs(encoder):
    windows = [WINDOW, "", "Seoul " * 500, "Meloni arrived on Saturday."]
    rows = encoder.encode_many(
        ["Who?"] * len(windows), windows, max_tokens=MAX_TOKENS, question_tokens=QUESTION_TOKENS
    )
    assert rows == [encode(encoder, "Who?", w) for w in windows]
    assert encoder.encode_many([], [], max_tokens=MAX_TOKENS, question_tokens=QUESTION_TOKENS) == []
    with pytest.raises(ValueError):
        encoder.encode_many(["Who?"], [], max_tokens=MAX_TOKENS, question_tokens=QUESTION_TOKENS)


def test_batch_pads_the_rows_and_masks_the_padding(encoder):
    rows = [encode(encoder, "Who met Meloni?", WINDOW), encode(encoder, "Who?", "")]
    ids, mask = encoder.batch(rows)
    width = max(len(r.ids) for r in rows)
    assert ids.shape == mask.shape == (2, width) and ids.dtype == mask.dtype == np.int64
    for i, r in enumerate(rows):
        assert ids[i, : len(r.ids)].tolist() == r.ids and mask[i].sum() == len(r.ids)
        assert (ids[i, len(r.ids) :] == encoder.pad_id).all() and (mask[i, len(r.ids) :] == 0).all()


# --- answers to tokens and back -----------------------------------------------------------------------


@pytest.mark.parametrize("answer", ["Lee", "Meloni", "Seoul", "19 January", "Lee met Meloni, in Seoul"])
def test_answer_tokens_map_a_character_span_to_its_tokens_and_back(encoder, answer):
    row = encode(encoder, "Who met whom, where and when?", WINDOW)
    start = WINDOW.index(answer)
    span = answer_tokens(row, start, start + len(answer))
    assert span is not None
    first, last = span
    assert row.first <= first <= last < row.first + len(row.offsets)
    assert span_text(WINDOW, row, first, last) == (start, start + len(answer))


def test_answer_tokens_cover_an_answer_that_starts_or_ends_inside_a_token(encoder):
    row = encode(encoder, "Who?", WINDOW)
    start = WINDOW.index("Meloni")
    span = answer_tokens(row, start + 2, start + 4)  # "lo", the start of the token "loni"
    assert span is not None
    a, b = span_text(WINDOW, row, *span)
    assert a <= start + 2 and b >= start + 4


def test_answer_tokens_is_none_when_the_answer_was_cut_off(encoder):
    window = "filler " * 300 + "The answer is Busan."
    row = encode(encoder, "Where?", window)
    assert row.offsets[-1][1] < window.index("Busan")  # the window was cut before the answer
    start = window.index("Busan")
    assert answer_tokens(row, start, start + len("Busan")) is None
    assert answer_tokens(row, row.offsets[-1][0], start) is None  # starts in the kept part, ends after it
    assert answer_tokens(encode(encoder, "Where?", ""), 0, 3) is None  # an empty window holds nothing


def _row(n_question: int, n_window: int) -> Encoded:
    """A synthetic row: ``n_question`` question tokens, ``n_window`` window tokens of 3 characters."""
    first = n_question + 3
    ids = [0] + [5] * n_question + [2, 2] + [7] * n_window + [2]
    return Encoded(ids, first, [(3 * k, 3 * k + 2) for k in range(n_window)])


def test_best_span_never_leaves_the_window_and_respects_max_answer_tokens():
    rng = np.random.default_rng(0)
    for trial in range(300):
        n_question, n_window = int(rng.integers(0, 12)), int(rng.integers(1, 40))
        row = _row(n_question, n_window)
        width = len(row.ids) + int(rng.integers(0, 5))  # padding after the row
        start, end = rng.normal(size=width), rng.normal(size=width)
        outside = np.ones(width, dtype=bool)
        outside[row.first : row.first + n_window] = False
        start[outside] += 100.0  # the question, the separators and the padding score best
        end[outside] += 100.0
        longest = int(rng.integers(1, 8))
        first, last, score, null = best_span(start, end, row, longest)
        assert row.first <= first <= last < row.first + n_window, trial
        assert last - first < longest, trial
        assert null == pytest.approx(start[0] + end[0])
        assert score == pytest.approx(start[first] + end[last])
        inside = [
            start[i] + end[j]
            for i in range(row.first, row.first + n_window)
            for j in range(i, min(i + longest, row.first + n_window))
        ]
        assert score == pytest.approx(max(inside)), trial  # the best allowed span


def test_best_span_takes_the_best_pair_and_not_an_end_before_its_start():
    row = _row(2, 10)
    start, end = np.zeros(len(row.ids)), np.zeros(len(row.ids))
    start[row.first + 6], end[row.first + 2] = 10.0, 9.0  # an end before the start: not a span
    end[row.first + 7] = 5.0
    first, last, _, _ = best_span(start, end, row, 30)
    assert (first, last) == (row.first + 6, row.first + 7)
    first, last, _, _ = best_span(start, end, row, 1)  # one token at most
    assert first == last == row.first + 6


def test_best_span_of_a_window_without_tokens_is_the_null_span():
    row = _row(3, 0)
    start, end = np.arange(len(row.ids), dtype=float), np.arange(len(row.ids), dtype=float)
    start[0], end[0] = 1.5, 2.0
    assert best_span(start, end, row, 30) == (0, 0, 3.5, 3.5)


def test_span_text_trims_edge_spaces_and_punctuation(encoder):
    row = encode(encoder, "Who?", WINDOW)

    def tokens_of(text: str) -> tuple[int, int]:
        start = WINDOW.index(text)
        span = answer_tokens(row, start, start + len(text))
        assert span is not None
        return span

    first, last = tokens_of(" Meloni,")  # " Me" "loni" ","
    assert WINDOW[slice(*span_text(WINDOW, row, first, last))] == "Meloni"
    first, last = tokens_of(" Seoul;")
    assert WINDOW[slice(*span_text(WINDOW, row, first, last))] == "Seoul"
    comma = tokens_of(",")
    a, b = span_text(WINDOW, row, *comma)
    assert a == b  # only a comma: nothing left
    padded = "  Busan ,  "
    row = encode(encoder, "Where?", padded)
    a, b = span_text(padded, row, row.first, row.first + len(row.offsets) - 1)
    assert padded[a:b] == "Busan"


# --- manifest and weights -----------------------------------------------------------------------------


@pytest.fixture
def reader_files(tmp_path: Path) -> Path:
    """A reader manifest and its weights in a temp folder: copies of the shipped pair when it exists,
    else a tiny pair made here (the check only hashes bytes). Returns the manifest's path."""
    folder = tmp_path / "models"
    folder.mkdir()
    if rd.MANIFEST.is_file():
        shipped = json.loads(rd.MANIFEST.read_text(encoding="utf-8"))
        if (rd.MODELS_DIR / shipped["weights"]).is_file():
            shutil.copy(rd.MANIFEST, folder / rd.MANIFEST.name)
            shutil.copy(rd.MODELS_DIR / shipped["weights"], folder / shipped["weights"])
            return folder / rd.MANIFEST.name
    from safetensors.numpy import save_file

    weights = folder / "reader-v1.safetensors"
    tensors = {"qa_outputs.weight": np.ones((2, 8), np.float16), "qa_outputs.bias": np.zeros(2, np.float16)}
    save_file(tensors, str(weights), metadata={"format": rd.FORMAT})
    manifest = {
        "format": rd.FORMAT,
        "version": "test",
        "weights": weights.name,
        "sha256": hashlib.sha256(weights.read_bytes()).hexdigest(),
        "max_tokens": MAX_TOKENS,
        "question_tokens": QUESTION_TOKENS,
        "max_answer_tokens": MAX_ANSWER_TOKENS,
        "calibration": {"a": 1.0, "b": 0.0},
        "threshold": 0.5,
    }
    path = folder / "reader-v1.json"
    path.write_text(json.dumps(manifest), encoding="utf-8")
    return path


def test_a_whole_manifest_and_weights_pass_the_checks(reader_files):
    manifest = read_manifest(reader_files)
    assert manifest["format"] == rd.FORMAT
    weights = checked_weights(manifest, reader_files.parent)
    assert weights == reader_files.parent / manifest["weights"]
    assert rd.file_sha256(weights) == hashlib.sha256(weights.read_bytes()).hexdigest() == manifest["sha256"]


def test_a_missing_manifest_is_a_model_error_naming_it(tmp_path):
    path = tmp_path / "reader-v1.json"
    with pytest.raises(ModelError) as err:
        read_manifest(path)
    assert f"manifest {path} is missing" in str(err.value) and "git checkout -- rag/models/" in str(err.value)


@pytest.mark.parametrize(
    "change",
    [
        lambda m: "{not json",
        lambda m: "[]",
        lambda m: json.dumps(m | {"format": "rag-reader v0"}),
        lambda m: json.dumps({k: v for k, v in m.items() if k != "sha256"}),
        lambda m: json.dumps({k: v for k, v in m.items() if k != "calibration"}),
        lambda m: b"\xff\xfe\x00",
    ],
    ids=["not-json", "a-list", "other-format", "no-sha256", "no-calibration", "not-utf8"],
)
def test_a_manifest_of_the_wrong_format_is_a_model_error_naming_it(reader_files, change):
    manifest = json.loads(reader_files.read_text(encoding="utf-8"))
    changed = change(manifest)
    if isinstance(changed, bytes):
        reader_files.write_bytes(changed)
    else:
        reader_files.write_text(changed, encoding="utf-8")
    with pytest.raises(ModelError) as err:
        read_manifest(reader_files)
    assert str(reader_files) in str(err.value) and "git checkout -- rag/models/" in str(err.value)


def test_missing_weights_are_a_model_error_naming_them(reader_files):
    manifest = read_manifest(reader_files)
    weights = reader_files.parent / manifest["weights"]
    weights.unlink()
    with pytest.raises(ModelError) as err:
        checked_weights(manifest, reader_files.parent)
    assert f"weights {weights} are missing" in str(err.value)
    assert "git checkout -- rag/models/" in str(err.value)


@pytest.mark.parametrize("where", [0, 0.5, -1])
def test_weights_with_one_byte_changed_are_a_model_error_naming_them(reader_files, where):
    manifest = read_manifest(reader_files)
    weights = reader_files.parent / manifest["weights"]
    data = bytearray(weights.read_bytes())
    at = int(where * (len(data) - 1)) if isinstance(where, float) else where
    data[at] ^= 0x01
    weights.write_bytes(bytes(data))
    with pytest.raises(ModelError) as err:
        checked_weights(manifest, reader_files.parent)
    assert f"weights {weights} are damaged" in str(err.value) and "SHA-256" in str(err.value)
    assert "git checkout -- rag/models/" in str(err.value)


def test_the_reader_is_checked_before_any_model_is_loaded_or_converted(reader_files, tmp_path, monkeypatch):
    def boom(*args, **kwargs):
        raise AssertionError("loaded or converted a model before checking the reader's files")

    monkeypatch.setattr("rag.index.e5convert.ensure_e5_model", boom)
    monkeypatch.setattr(rd, "_ensure_onnx", boom)
    with pytest.raises(ModelError, match="manifest .* is missing"):
        rd.Reader.load(tmp_path / "cache", manifest_path=tmp_path / "nowhere" / "reader-v1.json")
    manifest = read_manifest(reader_files)
    weights = reader_files.parent / manifest["weights"]
    weights.write_bytes(weights.read_bytes() + b"\x00")
    with pytest.raises(ModelError, match="are damaged"):
        rd.Reader.load(tmp_path / "cache", manifest_path=reader_files)


def test_a_pipeline_without_its_reader_files_is_a_model_error_naming_the_manifest(fake_seed_index, tmp_path):
    from rag.index.embed import FakeEmbedder
    from rag.query.pipeline import Pipeline

    missing = tmp_path / "models" / "reader-v1.json"
    with pytest.raises(ModelError, match=re.escape(f"manifest {missing} is missing")):
        Pipeline.from_settings(fake_seed_index.with_(reader=missing), embedder=FakeEmbedder())


def test_the_shipped_reader_files_when_present_are_whole_and_versioned():
    if not rd.MANIFEST.is_file():
        pytest.skip(f"{rd.MANIFEST} is not shipped yet")
    manifest = read_manifest()
    checked_weights(manifest)
    assert manifest["version"] == "reader-v1" and manifest["fitted_by"] == "eval/train_reader.py"
    assert 0 < manifest["question_tokens"] < manifest["max_tokens"] - 4
    assert manifest["max_answer_tokens"] >= 1 and manifest["calibration"]["a"] > 0
    if "threshold" in manifest:
        assert 0 <= manifest["threshold"] <= 1


def _readings(*ps: float):
    drawn = []

    def gen():
        for p in ps:
            drawn.append(p)
            yield Reading(0, 0, "", p, 0.0)

    return gen(), drawn


@pytest.mark.parametrize(
    ("probabilities", "penalty", "rank", "drawn"),
    [
        ((0.2, 0.6, 0.4), 0.0, 1, 3),
        ((0.2, 0.6, 0.6), 0.0, 1, 3),  # equals: the better-ranked
        ((0.5, 0.55, 0.65), 0.1, 0, 3),  # 0.45 and 0.45 do not beat 0.5
        ((0.5, 0.7, 0.1), 0.1, 1, 3),
        ((0.95, 0.99, 0.99), 0.1, 0, 1),  # nothing after can beat 0.95: stops reading
        ((0.3, 0.95, 0.99), 0.1, 1, 2),  # 0.85 >= 1.0 - 0.2: the third is never read
        ((1.0, 1.0), 0.0, 0, 1),
    ],
)
def test_choose_takes_the_best_penalised_probability_and_reads_no_more_than_it_must(
    probabilities, penalty, rank, drawn
):
    readings, seen = _readings(*probabilities)
    k, reading = choose(readings, penalty)
    assert k == rank and reading.probability == probabilities[rank] and len(seen) == drawn


def test_choose_of_no_readings_is_none():
    assert choose(iter([]), 0.1) is None


def test_the_reading_rule_comes_from_the_manifest_and_bad_values_are_model_errors():
    assert reading_rule({}) == (1, 0.0)
    assert reading_rule({"reading": {"windows": 3, "rank_penalty": 0.1}}) == (3, 0.1)
    for bad in ({"windows": 0}, {"windows": "x"}, {"rank_penalty": -1}, {"rank_penalty": 2}, "three"):
        with pytest.raises(ModelError, match="reading"):
            reading_rule({"reading": bad})


def test_sigmoid_is_a_probability_for_any_margin():
    assert rd.sigmoid(0.0) == 0.5
    assert rd.sigmoid(1e9) == pytest.approx(1.0) and rd.sigmoid(-1e9) == pytest.approx(0.0)
    assert 0.0 < rd.sigmoid(-1e9) and rd.sigmoid(1e9) <= 1.0  # no overflow
    assert rd.sigmoid(2.0) > rd.sigmoid(1.0)


# --- the fake reader ------------------------------------------------------------------------------------


def test_fake_reader_gives_one_reading_per_window_sliced_from_it():
    windows = [
        WINDOW,
        "",
        "...",
        "lee met meloni in seoul",
        "Meloni arrived on Saturday.",
        "2026 was the year.",
    ]
    readings = FakeReader().read("Who met Meloni in Seoul?", windows)
    assert len(readings) == len(windows)
    for window, r in zip(windows, readings, strict=True):
        assert isinstance(r, Reading) and 0.0 <= r.probability <= 1.0
        assert window[r.start : r.end] == r.text
    assert FakeReader().read("Who met Meloni in Seoul?", []) == []


def test_fake_reader_probability_is_the_share_of_question_words_in_the_window():
    reader = FakeReader()
    [full, half, none] = reader.read("Who met Meloni?", ["who met meloni", "Lee met Kim.", "Nothing here."])
    assert (full.probability, half.probability, none.probability) == (1.0, pytest.approx(1 / 3), 0.0)
    assert reader.read("Is it?", ["Is it."])[0].probability == 0.0  # no word of three letters or more


def test_fake_reader_span_is_a_new_name_or_number_else_the_first_word():
    reader = FakeReader()
    assert reader.read("Who met Meloni in Seoul?", [WINDOW])[0].text == "Lee"
    assert reader.read("When did Lee meet Meloni?", [WINDOW])[0].text == "Seoul"
    assert reader.read("When?", ["it was 19 January"])[0].text == "19"
    assert reader.read("When?", ["it was late"])[0].text == "it"
    assert reader.read("When?", ["  ...  "])[0] == Reading(0, 0, "", 0.0, 0.0)


def test_fake_reader_is_deterministic():
    windows = [q["question"] for q in QUESTIONS[:20]]
    assert FakeReader().read("Who visited Seoul?", windows) == FakeReader().read(
        "Who visited Seoul?", windows
    )


# --- the real reader (model) ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def real_reader(model_pipeline):
    return model_pipeline.reader


@pytest.fixture(scope="module")
def answering_pipeline(model_pipeline, model_seed_index):
    """The real model, reader and index with abstention off: every question gets a sentence."""
    from rag.query.pipeline import Pipeline

    return Pipeline.from_settings(
        model_seed_index, embedder=model_pipeline.embedder, reader=model_pipeline.reader, threshold=0.0
    )


def check_short_answer(pipeline, answer) -> None:
    """The answer's short answer, when it has one, is sliced from its article inside its sentence."""
    for s in answer.sentences:
        text = pipeline.index.articles[s.citation.article_id].text
        assert s.citation.quote == text[s.citation.start : s.citation.end]
        if s.short_answer is not None:
            assert s.citation.start <= s.short_answer.start < s.short_answer.end <= s.citation.end
            assert text[s.short_answer.start : s.short_answer.end] == s.short_answer.text
            assert s.short_answer.text == s.short_answer.text.strip(" \t\n,;:")


def check_readings(windows: list[str], readings: list[Reading]) -> None:
    assert len(readings) == len(windows)
    for window, r in zip(windows, readings, strict=True):
        assert 0 <= r.start <= r.end <= len(window) and window[r.start : r.end] == r.text
        assert 0.0 <= r.probability <= 1.0 and np.isfinite(r.margin)


@pytest.mark.model
def test_every_seed_answer_has_a_short_answer_inside_its_sentence(answering_pipeline):
    with_short = 0
    for q in QUESTIONS:
        a = answering_pipeline.ask(q["question"])
        assert not a.abstained and len(a.sentences) == 1
        check_short_answer(answering_pipeline, a)
        with_short += a.short_answer is not None
    assert with_short >= 0.9 * len(QUESTIONS)  # the reader gives a span unless it trims to nothing


@pytest.mark.model
@pytest.mark.parametrize(
    "question",
    [
        "What is the boiling point of mercury?",
        "Who won the 1998 FIFA World Cup?",  # answered when the reader's probability alone decided
    ],
)
def test_out_of_corpus_questions_abstain(model_pipeline, question):
    a = model_pipeline.ask(question)
    assert a.abstained and a.sentences == () and a.short_answer is None
    assert a.confidence < model_pipeline.threshold


@pytest.mark.model
@pytest.mark.parametrize(
    "question",
    [
        "Wie viele Absichtserklärungen wurden unterzeichnet?",
        pytest.param(
            "몇 건의 양해각서가 체결되었나요?",
            marks=pytest.mark.xfail(
                strict=True,
                reason="known limit (issue 22): the confidence is fitted on German questions about English "
                "articles (no Korean data); this Korean one reads the right sentence at 0.062, under the "
                "two-language threshold 0.0715",
            ),
        ),
        "정상회담에서 양해각서는 몇 건 체결되었나요?",
    ],
)
def test_german_and_korean_questions_get_a_short_answer(model_pipeline, question):
    a = model_pipeline.ask(question)
    assert not a.abstained and a.short_answer is not None and a.short_answer.text
    article = model_pipeline.index.articles[a.sentences[0].citation.article_id]
    assert a.confidence >= model_pipeline.threshold_for(Query.build(question), article)
    check_short_answer(model_pipeline, a)


@pytest.mark.model
def test_the_real_reader_reads_no_window_and_empty_windows(real_reader):
    assert real_reader.read("Who visited Seoul?", []) == []
    windows = ["", "   ", ",;:", WINDOW]
    readings = real_reader.read("Who visited Seoul?", windows)
    check_readings(windows, readings)
    assert readings[0].start == readings[0].end == 0 and readings[0].text == ""


@pytest.mark.model
def test_the_real_reader_reads_a_window_of_5000_characters(real_reader):
    long = " ".join([WINDOW] * 130)[:5_000]
    assert len(long) == 5_000
    windows = [long, WINDOW, "x" * 5_000]
    check_readings(windows, real_reader.read("Where did Lee meet Meloni?", windows))


@pytest.mark.model
def test_the_real_reader_reads_a_question_of_10000_characters(real_reader):
    for question in ("Who met Meloni? " * 700, "x" * 10_000, "？" * 10_000):
        check_readings([WINDOW, ""], real_reader.read(question[:10_000], [WINDOW, ""]))
    check_readings([WINDOW], real_reader.read("", [WINDOW]))


@pytest.mark.model
@pytest.mark.parametrize("question", ["ใครไปเยือนโซล", "من زار سيول؟", "Кто посетил Сеул?"])
def test_questions_in_other_scripts_get_an_answer_or_an_abstention(model_pipeline, question):
    a = model_pipeline.ask(question)
    assert a.abstained or (len(a.sentences) == 1 and 0.0 <= a.confidence <= 1.0)
    check_short_answer(model_pipeline, a)


# --- the training script (model: it converts and fine-tunes e5) -----------------------------------------

TRAIN = PROJECT_DIR / "eval" / "train_reader.py"
SMOKE = ["--examples", "32", "--dev", "20", "--paragraphs", "1", "--xquad", "10", "--batch", "8"]


def train(out: Path, ship: Path) -> str:
    argv = [sys.executable, str(TRAIN), *SMOKE, "--no-ship", "--ship-dir", str(ship), "--out", str(out)]
    done = subprocess.run(
        [*argv, "--checkpoint-every", "1"], capture_output=True, text=True, timeout=600, cwd=PROJECT_DIR
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def figures(stdout: str, label: str) -> dict:
    [line] = [line for line in stdout.splitlines() if line.startswith(label)]
    return json.loads(line.split(": ", 1)[1])


@pytest.mark.model
def test_the_training_script_runs_to_the_end_and_resumes_from_its_checkpoint(tmp_path):
    shipped = {p.name: p.stat().st_mtime_ns for p in rd.MODELS_DIR.iterdir()}
    out, ship = tmp_path / "out", tmp_path / "ship"
    first = train(out, ship)
    assert "training on 32 windows" in first and "step 4/4" in first
    development = figures(first, "development")
    assert development["windows"] > 0 and {"span_f1", "span_em", "has_answer_auc"} <= set(development)
    xquad = figures(first, "XQuAD")
    assert set(xquad) == {"en-unseen", "en-all", "de-unseen", "de-all"}
    assert all(0 < v["windows"] <= 10 and 0.0 <= v["span_f1"] <= 1.0 for v in xquad.values())
    assert (out / "checkpoint.pt").is_file()

    again = train(out, ship)
    assert "resumed at step 4 of 4" in again and "step 4/4" not in again  # nothing left to train
    assert figures(again, "XQuAD") == xquad  # the same trained weights
    assert not ship.exists()  # --no-ship writes no model files
    assert {p.name: p.stat().st_mtime_ns for p in rd.MODELS_DIR.iterdir()} == shipped
