"""The transformers path: fine-tune a Hugging Face encoder (IndoBERT, XLM-R, ...) as a token
classifier on the same data and labels as the spaCy model, and tag with the result.

Labels go on the first sub-word of each word; the other sub-words and the words whose label
is missing get -100 (ignored by the loss). Nothing is downloaded here: `backbone` is a
local folder, or a hub name that is already in the local cache (or that the user's own
environment may download when they run training with internet access).
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from nlp.ner.data import LABELS, MISSING, Sentence
from nlp.ner.evaluate import Predictor, Span, bio_spans

log = logging.getLogger(__name__)

BIO_LABELS: Final = ("O", *(f"{prefix}-{label}" for label in LABELS for prefix in ("B", "I")))
META_FILE: Final = "pantau_ner.json"
IGNORE: Final = -100
# Words per piece when a sentence is longer than the encoder's window.
WORDS_PER_PIECE: Final = 120


@dataclass
class TransformerTrainResult:
    model_dir: Path
    seconds: float
    steps: int
    last_loss: float


def _quiet() -> None:
    """No per-load progress bars on the command line."""
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()


def _set_seed(seed: int) -> None:
    import numpy as np
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def _encode(
    tokenizer: Any, batch: Sequence[Sentence], label_ids: dict[str, int], max_length: int
) -> dict[str, Any]:
    encoded = tokenizer(
        [sentence.words for sentence in batch],
        is_split_into_words=True,
        truncation=True,
        max_length=max_length,
        padding=True,
        return_tensors="pt",
    )
    labels: list[list[int]] = []
    for row, sentence in enumerate(batch):
        previous: int | None = None
        row_labels: list[int] = []
        for word_id in encoded.word_ids(batch_index=row):
            if word_id is None or word_id == previous:
                row_labels.append(IGNORE)
            else:
                tag = sentence.tags[word_id]
                row_labels.append(IGNORE if tag == MISSING else label_ids.get(tag, 0))
            previous = word_id
        labels.append(row_labels)
    import torch

    encoded["labels"] = torch.tensor(labels)
    return dict(encoded)


def train_transformer(
    train: Sequence[Sentence],
    backbone: str | Path,
    output_dir: Path,
    *,
    epochs: float = 3.0,
    batch_size: int = 16,
    learning_rate: float = 5e-5,
    max_steps: int | None = None,
    max_length: int = 256,
    seed: int = 7,
    threads: int = 1,
) -> TransformerTrainResult:
    """Fine-tunes `backbone` on the sentences and saves model, tokenizer and label list to
    `output_dir` (loadable by TransformerRecognizer and by `pantau eval ner --model`)."""
    import torch
    from transformers import AutoModelForTokenClassification, AutoTokenizer

    torch.set_num_threads(threads)
    _quiet()
    _set_seed(seed)
    label_ids = {label: i for i, label in enumerate(BIO_LABELS)}
    tokenizer = AutoTokenizer.from_pretrained(str(backbone))
    model = AutoModelForTokenClassification.from_pretrained(
        str(backbone),
        num_labels=len(BIO_LABELS),
        id2label=dict(enumerate(BIO_LABELS)),
        label2id=label_ids,
        # A checkpoint that already has a classification head with other labels gets a new one.
        ignore_mismatched_sizes=True,
    )
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    model.to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=learning_rate, weight_decay=0.01)
    order = list(range(len(train)))
    steps_per_epoch = max(1, (len(order) + batch_size - 1) // batch_size)
    total = max_steps if max_steps is not None else int(epochs * steps_per_epoch)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: max(0.0, 1.0 - step / max(1, total))
    )
    started = time.perf_counter()
    model.train()
    step, loss_value = 0, float("nan")
    rng = random.Random(seed)
    while step < total:
        rng.shuffle(order)
        for first in range(0, len(order), batch_size):
            batch = [train[i] for i in order[first : first + batch_size]]
            inputs = {
                k: v.to(device) for k, v in _encode(tokenizer, batch, label_ids, max_length).items()
            }
            loss = model(**inputs).loss
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad()
            loss_value = float(loss.detach())
            step += 1
            if step % 50 == 0:
                log.info("step %d/%d loss %.4f", step, total, loss_value)
            if step >= total:
                break
    output_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(output_dir)
    tokenizer.save_pretrained(output_dir)
    (output_dir / META_FILE).write_text(
        json.dumps(
            {
                "backbone": str(backbone),
                "labels": list(BIO_LABELS),
                "steps": step,
                "epochs": epochs,
                "batch_size": batch_size,
                "learning_rate": learning_rate,
                "seed": seed,
                "max_length": max_length,
            },
            indent=2,
        )
        + "\n"
    )
    return TransformerTrainResult(output_dir, time.perf_counter() - started, step, loss_value)


class TransformerRecognizer:
    """Tags with a fine-tuned token classifier; words and sentences come from the news
    tokenizer, so offsets are the same kind as the spaCy back end's."""

    def __init__(self, model_dir: Path, threads: int = 1) -> None:
        import torch
        from transformers import AutoModelForTokenClassification, AutoTokenizer

        from nlp.ner.language import news_tokenizer_nlp
        from nlp.ner.recognizer import model_version

        torch.set_num_threads(threads)
        _quiet()
        self.tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
        self.model = AutoModelForTokenClassification.from_pretrained(str(model_dir))
        self.model.eval()
        meta_path = model_dir / META_FILE
        meta = json.loads(meta_path.read_text()) if meta_path.is_file() else {}
        self.max_length = int(meta.get("max_length", 256))
        self.id2label = {int(k): v for k, v in self.model.config.id2label.items()}
        self.words_nlp = news_tokenizer_nlp()
        self.version = model_version(model_dir)
        self.digest = self.version.rsplit("+", 1)[-1]

    def _tags(self, batch: Sequence[Sequence[str]]) -> list[list[str]]:
        import torch

        results: list[list[str]] = []
        for sentence in batch:
            tags: list[str] = []
            for first in range(0, max(1, len(sentence)), WORDS_PER_PIECE):
                tags.extend(self._tag_piece(list(sentence[first : first + WORDS_PER_PIECE]), torch))
            results.append(tags[: len(sentence)])
        return results

    def _tag_piece(self, words: list[str], torch: Any) -> list[str]:
        if not words:
            return []
        encoded = self.tokenizer(
            [words],
            is_split_into_words=True,
            truncation=True,
            max_length=self.max_length,
            return_tensors="pt",
        )
        with torch.no_grad():
            logits = self.model(**encoded).logits[0]
        best = logits.argmax(-1).tolist()
        tags = ["O"] * len(words)
        seen: set[int] = set()
        for position, word_id in enumerate(encoded.word_ids(batch_index=0)):
            if word_id is None or word_id in seen:
                continue
            seen.add(word_id)
            tags[word_id] = self.id2label.get(best[position], "O")
        return tags

    def predictor(self) -> Predictor:
        def predict(batch: list[list[str]]) -> list[set[Span]]:
            return [bio_spans(tags) for tags in self._tags(batch)]

        return predict

    def spans(self, text: str) -> list[tuple[int, int, str]]:
        from nlp.ner.recognizer import chunks

        found: list[tuple[int, int, str]] = []
        for offset, piece in chunks(text):
            doc = self.words_nlp(piece)
            for sentence in doc.sents:
                tokens = [token for token in sentence if not token.is_space]
                if not tokens:
                    continue
                tags = self._tags([[token.text for token in tokens]])[0]
                for start, end, label in bio_spans(tags):
                    first, last = tokens[start], tokens[end - 1]
                    found.append((offset + first.idx, offset + last.idx + len(last.text), label))
        return found


def build_tiny_backbone(texts: Iterable[str], output_dir: Path, vocab_size: int = 2000) -> Path:
    """A small randomly initialised BERT with a WordPiece vocabulary trained on `texts`:
    proves the fine-tuning path offline (tests, CI). Not a useful model by itself."""
    from tokenizers import BertWordPieceTokenizer
    from transformers import (  # type: ignore[attr-defined]
        BertConfig,
        BertModel,
        BertTokenizerFast,
    )

    output_dir.mkdir(parents=True, exist_ok=True)
    wordpiece = BertWordPieceTokenizer(lowercase=False, strip_accents=False)
    wordpiece.train_from_iterator(list(texts), vocab_size=vocab_size, min_frequency=1)
    wordpiece.save_model(str(output_dir))
    tokenizer = BertTokenizerFast(
        vocab_file=str(output_dir / "vocab.txt"), do_lower_case=False, strip_accents=False
    )
    tokenizer.save_pretrained(output_dir)
    config = BertConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=512,
    )
    BertModel(config).save_pretrained(output_dir)
    return output_dir
