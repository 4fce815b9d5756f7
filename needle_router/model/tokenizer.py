"""The Needle tokenizer: a byte-pair encoding trained with `tokenizers` on rendered records.

Pre-tokenisation splits on whitespace (SentencePiece-style `▁` marks), punctuation and digit runs
so that token boundaries fall on word, number and punctuation edges: a value copied out of a query
by a token span then lines up with what the user wrote ("Paris," -> "Paris"). Offsets into the
original text are kept, so copies never go through lossy decoding.

The routing process reads a BERT WordPiece vocabulary (the default model's) without `tokenizers`
(`wordpiece.py`: the same ids and offsets; the warm routing process 7 MB smaller); everything else, training
included, goes through `tokenizers`, imported only when it is needed.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from needle_router.errors import ModelError
from needle_router.model.wordpiece import WordPiece, is_bert_wordpiece

if TYPE_CHECKING:
    from tokenizers import Tokenizer

# Structure markers. Order is part of the format: ids 0..len-1 are fixed for every vocabulary.
SPECIAL_TOKENS = [
    "<pad>",
    "<unk>",
    "<query>",  # starts a query encoding
    "<ctx>",  # separates system facts from the query text
    "<tool>",  # starts a tool encoding; its state is the tool's summary
    "<desc>",
    "<param>",  # one per parameter; its state is the parameter's pointer target
    "<req>",
    "<opt>",  # one per enum/boolean option; its state is the option's pointer target
    "<min>",
    "<max>",
    "<default>",
    "<eov>",  # ends a generated value
]
PAD, UNK, QUERY, CTX, TOOL, DESC, PARAM, REQ, OPT, MIN, MAX, DEFAULT, EOV = range(len(SPECIAL_TOKENS))


def _backend(model: Any) -> Tokenizer:
    from tokenizers import Regex, Tokenizer, decoders, pre_tokenizers

    tok = Tokenizer(model)
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True),
            pre_tokenizers.Split(Regex(r"[^\w▁]"), behavior="isolated"),
            pre_tokenizers.Digits(individual_digits=False),
        ]
    )
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    return tok


class NeedleTokenizer:
    """A thin wrapper over a `tokenizers.Tokenizer` (or, for routing, the pure-Python `WordPiece`
    reader of the same file) with Needle's special tokens."""

    def __init__(self, backend: Tokenizer | WordPiece, source: Path | None = None) -> None:
        self.backend = backend
        self._source = source  # the file a WordPiece reader came from: what `save` writes back
        for i, name in enumerate(SPECIAL_TOKENS):
            if backend.token_to_id(name) != i:
                raise ModelError(f"tokenizer is not a Needle tokenizer: {name!r} is not id {i}")

    @classmethod
    def train(cls, texts: Iterable[str], vocab_size: int = 8192) -> NeedleTokenizer:
        from tokenizers import models, trainers

        backend = _backend(models.BPE(unk_token="<unk>"))
        trainer = trainers.BpeTrainer(
            vocab_size=vocab_size, min_frequency=2, special_tokens=SPECIAL_TOKENS, show_progress=False
        )
        backend.train_from_iterator(texts, trainer=trainer)
        return cls(backend)

    @classmethod
    def from_wordpiece(cls, tokenizer_json: str | Path) -> NeedleTokenizer:
        """A pretrained encoder's WordPiece vocabulary (BERT format, e.g. all-MiniLM-L6-v2) with
        Needle's markers in the reserved slots: `[PAD]` becomes `<pad>` and `[unused0..11]` the
        other markers, so every id keeps its pretrained embedding row and the markers get the rows
        BERT never trained. Lower-casing is the encoder's; offsets still point into the original
        text, so copied values keep their case."""
        try:
            spec = json.loads(Path(tokenizer_json).read_text(encoding="utf-8"))
            vocab = spec["model"]["vocab"]
            reserved = ["[PAD]", *(f"[unused{i}]" for i in range(len(SPECIAL_TOKENS) - 1))]
            for i, (old, new) in enumerate(zip(reserved, SPECIAL_TOKENS, strict=True)):
                if vocab.get(old) != i:
                    raise ModelError(f"{old} is not id {i}: not a BERT WordPiece vocabulary")
                vocab[new] = vocab.pop(old)
            spec["added_tokens"] = [t for t in spec["added_tokens"] if t["content"] != "[PAD]"] + [
                {"id": i, "special": True, "content": name, "single_word": False, "lstrip": False,
                 "rstrip": False, "normalized": False} for i, name in enumerate(SPECIAL_TOKENS)
            ]
            spec["truncation"] = spec["padding"] = spec["post_processor"] = None
            from tokenizers import Tokenizer

            backend = Tokenizer.from_str(json.dumps(spec))
        except ModelError:
            raise
        except Exception as exc:  # OSError, JSON errors, tokenizers' own Exceptions
            raise ModelError(f"cannot read a WordPiece tokenizer from {str(tokenizer_json)!r}: {exc}") from None
        return cls(backend)

    @classmethod
    def load(cls, path: str | Path, *, light: bool = False) -> NeedleTokenizer:
        """Read a saved tokenizer. `light` (the routing process): a BERT WordPiece file is read by
        `WordPiece`, without importing `tokenizers`; other files, and training, use `tokenizers`
        (whose batch encoding is parallel)."""
        try:
            if light:
                spec = json.loads(Path(path).read_text(encoding="utf-8"))
                if is_bert_wordpiece(spec):
                    return cls(WordPiece(spec), source=Path(path))
                del spec
            from tokenizers import Tokenizer

            return cls(Tokenizer.from_file(str(path)))
        except ModelError:
            raise
        except Exception as exc:  # OSError, JSON errors; tokenizers raises plain Exceptions on bad files
            raise ModelError(f"cannot load tokenizer {str(path)!r}: {exc}") from None

    def save(self, path: str | Path) -> None:
        if isinstance(self.backend, WordPiece):
            if self._source is None:
                raise ModelError("a WordPiece reader saves only the file it was loaded from")
            if Path(path).resolve() != self._source.resolve():
                shutil.copyfile(self._source, path)
            return
        self.backend.save(str(path))

    @property
    def vocab_size(self) -> int:
        return self.backend.get_vocab_size()

    def encode(self, text: str) -> tuple[list[int], list[tuple[int, int]]]:
        """Token ids and (start, end) character offsets into `text`."""
        if isinstance(self.backend, WordPiece):
            return self.backend.encode(text)
        enc = self.backend.encode(text, add_special_tokens=False)
        return list(enc.ids), [tuple(o) for o in enc.offsets]  # type: ignore[misc]

    def encode_many(self, texts: list[str]) -> list[list[int]]:
        if isinstance(self.backend, WordPiece):
            return [self.backend.encode(t)[0] for t in texts]
        return [list(e.ids) for e in self.backend.encode_batch(texts, add_special_tokens=False)]

    def decode(self, ids: list[int]) -> str:
        if isinstance(self.backend, WordPiece):
            return self.backend.decode(ids)
        return self.backend.decode(ids, skip_special_tokens=True)
