"""BERT's WordPiece tokenizer in plain Python, for the routing process.

The default model's vocabulary is MiniLM's (BERT uncased WordPiece, `tokenizer.json` in the
`tokenizers` format). Loading it into `tokenizers` costs the routing process 13 MB (3 MB of
import, 10 MB of Rust tables) for a few hundred short strings a second, where a dict of 30,522
strings is about 4 MB. This module reads the same file and reproduces `tokenizers`' output
exactly (ids, character offsets, decoded text), step for step:

1. added tokens (`<tool>`, `[CLS]`, ...) are matched in the raw text, leftmost-longest;
2. BertNormalizer, per character (so every normalized character keeps its source offsets):
   drop NUL, U+FFFD and control characters, whitespace becomes a space, CJK ideographs get
   spaces around them, accents are stripped (NFD, then non-spacing marks dropped), lower-case;
3. BertPreTokenizer: split on whitespace, each punctuation character its own word;
4. WordPiece: greedy longest match from the left, `##` for continuations, a word with an
   unmatched piece (or over `max_input_chars_per_word` characters) is one `[UNK]`.

`tests/test_wordpiece.py` checks it against `tokenizers` on the project's text and on random
Unicode. Training keeps `tokenizers` (its batch encoding is parallel and much faster).

Known difference: character classes come from Python's `unicodedata`, `tokenizers`' from the older
tables compiled into it. Probing about 196,000 code points one at a time, 759 differed (Python
3.11): characters assigned since those tables (rare scripts' marks and punctuation, newer CJK
extension blocks), which `tokenizers` splits or marks differently. Text of the scripts
in everyday use gives the same ids.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

from needle_router.errors import ModelError

# The `tokenizers` components this reader reproduces; any other spec goes to `tokenizers`.
SPEC = {"normalizer": "BertNormalizer", "pre_tokenizer": "BertPreTokenizer", "model": "WordPiece",
        "decoder": "WordPiece"}


def is_bert_wordpiece(spec: dict[str, Any]) -> bool:
    """Whether a `tokenizer.json` spec is one this module reads exactly."""
    parts = {k: (spec.get(k) or {}).get("type") for k in SPEC}
    norm = spec.get("normalizer") or {}
    return (parts == SPEC and norm.get("clean_text", True) and norm.get("handle_chinese_chars", True)
            and norm.get("lowercase", True) and norm.get("strip_accents") in (None, True)
            and spec.get("post_processor") is None and not spec.get("truncation") and not spec.get("padding")
            and all(not t.get("normalized") and not t.get("lstrip") and not t.get("rstrip") and not t.get("single_word")
                    for t in spec.get("added_tokens", [])))


def _is_cjk(cp: int) -> bool:
    # BERT's "Chinese character" ranges (the CJK Unified Ideographs blocks).
    return (0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF or 0x20000 <= cp <= 0x2A6DF
            or 0x2A700 <= cp <= 0x2B73F or 0x2B740 <= cp <= 0x2B81F or 0x2B820 <= cp <= 0x2CEAF
            or 0xF900 <= cp <= 0xFAFF or 0x2F800 <= cp <= 0x2FA1F)


# Rust's char::is_whitespace (Unicode White_Space), which differs from str.isspace on U+001C-1F.
_WHITESPACE = frozenset("\t\n\x0b\x0c\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007"
                        "\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000")


# Both are pure functions of one character; the characters of real text are few, so they are cached
# (an encode of a short request: 79 instead of 105 us here; `tokenizers`: 48 us).
@lru_cache(maxsize=8192)
def _normalize(ch: str) -> str:
    """BertNormalizer on one character (clean_text, CJK spacing, strip accents, lower-case)."""
    cp = ord(ch)
    if ch in "\t\n\r":
        return " "
    # Control characters go first: \x0b, \x0c and U+0085 are both, and are dropped, not spaced.
    # Unassigned code points (Cn) are not control characters to `tokenizers`: they stay, as [UNK].
    if cp == 0 or cp == 0xFFFD or unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co"):
        return ""
    if ch in _WHITESPACE:
        return " "
    if cp < 0x80:
        return ch.lower()
    out = "".join(c for c in unicodedata.normalize("NFD", ch) if unicodedata.category(c) != "Mn")
    out = "".join(c.lower() for c in out)
    return f" {out} " if _is_cjk(cp) else out  # compatibility ideographs decompose too


@lru_cache(maxsize=8192)
def _is_punct(ch: str) -> bool:
    cp = ord(ch)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(ch).startswith("P")


class WordPiece:
    """A BERT WordPiece `tokenizer.json`, read without `tokenizers` (see the module docstring)."""

    def __init__(self, spec: dict[str, Any]) -> None:
        if not is_bert_wordpiece(spec):
            raise ModelError("not a BERT WordPiece tokenizer (BertNormalizer, BertPreTokenizer, WordPiece)")
        model = spec["model"]
        self.vocab: dict[str, int] = dict(model["vocab"])
        self.unk = model.get("unk_token", "[UNK]")
        self.prefix = model.get("continuing_subword_prefix", "##")
        self.max_chars = int(model.get("max_input_chars_per_word", 100))
        self.cleanup = bool(spec["decoder"].get("cleanup", True))
        added = spec.get("added_tokens", [])
        self.added = {t["content"]: int(t["id"]) for t in added}
        self.special = {int(t["id"]) for t in added if t.get("special")}
        self.tokens: dict[int, str] = {i: t for t, i in self.vocab.items()}
        for content, i in self.added.items():
            self.tokens[i] = content
        if self.unk not in self.vocab and self.unk not in self.added:
            raise ModelError(f"WordPiece unknown token {self.unk!r} is not in the vocabulary")
        self.unk_id = self.vocab.get(self.unk, self.added.get(self.unk))
        # Added tokens, longest first at one position: `tokenizers` matches leftmost-longest.
        self._starts: dict[str, list[str]] = {}
        for content in sorted(self.added, key=len, reverse=True):
            self._starts.setdefault(content[0], []).append(content)

    def token_to_id(self, token: str) -> int | None:
        return self.added.get(token, self.vocab.get(token))

    def get_vocab_size(self) -> int:
        return max(self.tokens, default=-1) + 1  # every id, of the vocabulary and the added tokens

    # -- encoding --

    def _segments(self, text: str) -> Iterator[tuple[int, int, int | None]]:
        """(start, end, added-token id or None for plain text) pieces of `text`."""
        i = last = 0
        n = len(text)
        while i < n:
            hit = next((c for c in self._starts.get(text[i], ()) if text.startswith(c, i)), None)
            if hit is None:
                i += 1
                continue
            if last < i:
                yield last, i, None
            yield i, i + len(hit), self.added[hit]
            i = last = i + len(hit)
        if last < n:
            yield last, n, None

    def _words(self, text: str, base: int) -> Iterator[tuple[str, list[int], list[int]]]:
        """BertNormalizer then BertPreTokenizer: each word with its characters' source spans."""
        word: list[str] = []
        starts: list[int] = []
        ends: list[int] = []
        for k, ch in enumerate(text):
            for c in _normalize(ch):
                if c == " ":
                    if word:
                        yield "".join(word), starts, ends
                        word, starts, ends = [], [], []
                elif _is_punct(c):
                    if word:
                        yield "".join(word), starts, ends
                        word, starts, ends = [], [], []
                    yield c, [base + k], [base + k + 1]
                else:
                    word.append(c)
                    starts.append(base + k)
                    ends.append(base + k + 1)
        if word:
            yield "".join(word), starts, ends

    def _pieces(self, word: str) -> list[tuple[int, int, int]] | None:
        """WordPiece of one word: (id, start, end) in the word's characters, None if unmatched."""
        if len(word) > self.max_chars:
            return None
        out = []
        start = 0
        while start < len(word):
            end = len(word)
            while end > start:
                piece = word[start:end] if start == 0 else self.prefix + word[start:end]
                i = self.vocab.get(piece)
                if i is not None:
                    out.append((i, start, end))
                    break
                end -= 1
            else:
                return None
            start = end
        return out

    def encode(self, text: str) -> tuple[list[int], list[tuple[int, int]]]:
        ids: list[int] = []
        offsets: list[tuple[int, int]] = []
        for s, e, added in self._segments(text):
            if added is not None:
                ids.append(added)
                offsets.append((s, e))
                continue
            for word, starts, ends in self._words(text[s:e], s):
                pieces = self._pieces(word)
                if pieces is None:
                    ids.append(self.unk_id)  # type: ignore[arg-type]
                    offsets.append((starts[0], ends[-1]))
                    continue
                for i, a, b in pieces:
                    ids.append(i)
                    offsets.append((starts[a], ends[b - 1]))
        return ids, offsets

    # -- decoding --

    def decode(self, ids: list[int]) -> str:
        """`tokenizers`' decode with skip_special_tokens=True and the WordPiece decoder."""
        out = []
        for i in ids:
            token = self.tokens.get(i)
            if token is None or i in self.special:
                continue
            if out:
                token = token[len(self.prefix):] if token.startswith(self.prefix) else " " + token
            if self.cleanup:
                token = _cleanup(token)
            out.append(token)
        return "".join(out)


def _cleanup(token: str) -> str:
    # The WordPiece decoder's clean-up, as `tokenizers` applies it to each token.
    for a, b in ((" .", "."), (" ?", "?"), (" !", "!"), (" ,", ","), (" ' ", "'"), (" n't", "n't"),
                 (" 'm", "'m"), (" do not", " don't"), (" 's", "'s"), (" 've", "'ve"), (" 're", "'re")):
        token = token.replace(a, b)
    return token
