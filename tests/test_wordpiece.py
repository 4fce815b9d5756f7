"""The routing process's pure-Python WordPiece reader gives what `tokenizers` gives on the same
file: ids, character offsets and decoded text, on the project's own text and on random Unicode."""

from __future__ import annotations

import json
import random
import unicodedata
from pathlib import Path

import pytest

from needle_router.errors import ModelError
from needle_router.model.tokenizer import SPECIAL_TOKENS, NeedleTokenizer
from needle_router.model.wordpiece import WordPiece, is_bert_wordpiece
from needle_router.router import DEFAULT_MODEL_DIR

REPO = Path(__file__).resolve().parents[1]
VOCAB = DEFAULT_MODEL_DIR / "tokenizer.json"

# Characters of these blocks that Unicode 3.2 assigned (`unicodedata.ucd_3_2_0`), and the emoji of
# U+1F300-1F5FF: both `unicodedata` and `tokenizers`' older tables know them. Code points assigned
# since those tables were written are a known difference (wordpiece.py's docstring).
EMOJI = (0x1F300, 0x1F5FF)
BLOCKS = [(0x0000, 0x024F), (0x0300, 0x036F), (0x0370, 0x03FF), (0x0400, 0x04FF), (0x0590, 0x05FF),
          (0x0600, 0x06FF), (0x0900, 0x097F), (0x0E00, 0x0E7F), (0x1E00, 0x1EFF), (0x2000, 0x206F),
          (0x20A0, 0x20B8), (0x2100, 0x218F), (0x2190, 0x22FF), (0x3000, 0x303F), (0x3040, 0x30FF),
          (0x4E00, 0x9FCB), (0xAC00, 0xD7A3), (0xF900, 0xFA2D), (0xFF00, 0xFFEF)]


@pytest.fixture(scope="module")
def pair() -> tuple[NeedleTokenizer, NeedleTokenizer]:
    fast, light = NeedleTokenizer.load(VOCAB), NeedleTokenizer.load(VOCAB, light=True)
    assert type(fast.backend).__name__ == "Tokenizer" and isinstance(light.backend, WordPiece)
    return fast, light


def _project_texts() -> list[str]:
    texts = []
    for f in sorted((REPO / "needle_router" / "data" / "written").glob("part_*/requests.jsonl")):
        for line in f.read_text(encoding="utf-8").splitlines():
            texts.append(json.loads(line)["query"])
    for f in sorted((REPO / "needle_router" / "data" / "written").glob("part_*/toolsets.json")):
        texts.extend(s for s in _strings(json.loads(f.read_text(encoding="utf-8"))) if s)
    for f in sorted((REPO / "examples").rglob("*.json*")):
        text = f.read_text(encoding="utf-8")
        texts.extend(s for line in text.splitlines() if line.strip() for s in _strings(_loads(line)))
    return texts


def _loads(line: str) -> object:
    try:
        return json.loads(line)
    except ValueError:
        return line  # a line of a pretty-printed file: tokenized as it stands


def _strings(obj: object) -> list[str]:
    if isinstance(obj, str):
        return [obj]
    if isinstance(obj, dict):
        return [s for k, v in obj.items() for s in (k, *_strings(v))]
    if isinstance(obj, list):
        return [s for v in obj for s in _strings(v)]
    return [] if obj is None else [str(obj)]


def _random_texts(n: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    old = unicodedata.ucd_3_2_0
    pool = [chr(c) for a, b in BLOCKS for c in range(a, b + 1) if old.category(chr(c)) not in ("Cn", "Cs")]
    pool += [chr(c) for c in range(EMOJI[0], EMOJI[1] + 1)]
    words = ["set", "timer", "Paris,", "naïve", "ÉCOLE", "don't", "3.5kg", "e-mail", "x" * 120, *SPECIAL_TOKENS,
             "[CLS]", "[UNK]", "<tool", "<tool>>", "\u00a0", "\t\n", "\x00", "\ufffd", "\u200b", "\x85"]
    out = []
    for _ in range(n):
        parts = [rng.choice(words) if rng.random() < 0.3 else "".join(rng.choices(pool, k=rng.randint(1, 8)))
                 for _ in range(rng.randint(1, 8))]
        out.append(rng.choice(["", " ", "  "]).join(parts))
    return out


def test_the_default_vocabulary_is_read_by_wordpiece() -> None:
    spec = json.loads(VOCAB.read_text(encoding="utf-8"))
    assert is_bert_wordpiece(spec)
    assert not is_bert_wordpiece({**spec, "normalizer": {**spec["normalizer"], "lowercase": False}})
    assert not is_bert_wordpiece({**spec, "pre_tokenizer": {"type": "Whitespace"}})


def test_same_ids_and_offsets_on_project_text(pair: tuple[NeedleTokenizer, NeedleTokenizer]) -> None:
    fast, light = pair
    texts = _project_texts()[::4]  # every 4th of about 288,000 (all of them: 30 s more, no difference)
    assert len(texts) > 50_000, len(texts)
    bad = [t for t in texts if fast.encode(t) != light.encode(t)]
    assert not bad, bad[:5]
    assert fast.encode_many(texts[:200]) == light.encode_many(texts[:200])


def test_same_ids_and_offsets_on_random_unicode(pair: tuple[NeedleTokenizer, NeedleTokenizer]) -> None:
    fast, light = pair
    texts = _random_texts(3000)
    bad = [t for t in texts if fast.encode(t) != light.encode(t)]
    assert not bad, [ascii(t) for t in bad[:5]]


def test_same_decoded_text(pair: tuple[NeedleTokenizer, NeedleTokenizer]) -> None:
    fast, light = pair
    rng = random.Random(1)
    for text in _project_texts()[:2000] + _random_texts(500, seed=2):
        ids = fast.encode(text)[0]
        assert light.decode(ids) == fast.decode(ids), text
    for _ in range(500):  # any ids, markers and unknown ids included
        ids = [rng.randrange(light.vocab_size + 5) for _ in range(rng.randint(0, 12))]
        assert light.decode(ids) == fast.decode(ids), ids


def test_vocabulary_and_markers(pair: tuple[NeedleTokenizer, NeedleTokenizer]) -> None:
    fast, light = pair
    assert light.vocab_size == fast.vocab_size == 30522
    assert [light.backend.token_to_id(s) for s in SPECIAL_TOKENS] == list(range(len(SPECIAL_TOKENS)))


def test_other_tokenizers_stay_with_tokenizers(tmp_path: Path) -> None:
    bpe = NeedleTokenizer.train(["set a timer for ten minutes", "play some jazz"] * 20, vocab_size=200)
    bpe.save(tmp_path / "bpe.json")
    loaded = NeedleTokenizer.load(tmp_path / "bpe.json", light=True)
    assert type(loaded.backend).__name__ == "Tokenizer"
    assert loaded.encode("set a timer") == bpe.encode("set a timer")


def test_save_writes_the_file_back_and_bad_files_are_model_errors(tmp_path: Path) -> None:
    light = NeedleTokenizer.load(VOCAB, light=True)
    light.save(tmp_path / "t.json")
    assert (tmp_path / "t.json").read_bytes() == VOCAB.read_bytes()
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(ModelError, match="cannot load tokenizer"):
        NeedleTokenizer.load(tmp_path / "bad.json", light=True)
    spec = json.loads(VOCAB.read_text(encoding="utf-8"))
    spec["model"]["unk_token"] = "[NOPE]"
    with pytest.raises(ModelError, match="unknown token"):
        WordPiece(spec)
