"""``pooling: mean`` and ``pooling: pair`` on the sentence heads: the classifier reads the masked mean of the
token vectors (or the product of the two segments' unit means) where it read ``[CLS]``, padding changes
nothing, a saved model reloads with it, and its ONNX export agrees with torch."""

import pytest
import torch

from claf.config import ConfigError, resolve_config
from claf.models.heads.pooling import masked_mean, pair_features, use_pooling
from claf.models.heads.reg import BertForReg
from claf.models.heads.seq_cls import BertForSeqCls


def batch(pad_more=0):
    ids = torch.tensor([[2, 10, 11, 12, 3] + [0] * pad_more, [2, 13, 3, 0, 0] + [0] * pad_more])
    return {"input_ids": ids, "attention_mask": (ids != 0).long(), "token_type_ids": torch.zeros_like(ids)}


def save_tiny_encoder(folder, model_type: str, type_vocab_size: int) -> None:
    """A one-layer random ``model_type`` encoder (width 16, 40 ids) saved in ``folder``."""
    import transformers

    config = transformers.AutoConfig.for_model(
        model_type,
        vocab_size=40,
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=40,
        type_vocab_size=type_vocab_size,
        pad_token_id=0,
    )
    transformers.AutoModel.from_config(config).save_pretrained(folder)


def test_masked_mean_skips_padding():
    hidden = torch.arange(12, dtype=torch.float).reshape(1, 4, 3)
    assert masked_mean(hidden, torch.tensor([[1, 1, 0, 0]])).tolist() == [[1.5, 2.5, 3.5]]
    assert masked_mean(hidden, None).tolist() == [[4.5, 5.5, 6.5]]


def test_a_bert_head_classifies_the_pooled_token_mean(tiny_korean_bert):
    torch.manual_seed(0)
    head = BertForSeqCls(tiny_korean_bert, ["a", "b", "c"], pooling="mean").eval()
    torch.manual_seed(0)
    cls = BertForSeqCls(tiny_korean_bert, ["a", "b", "c"]).eval()  # the same weights, read at [CLS]
    assert head.options()["pooling"] == "mean" and cls.options()["pooling"] == "cls"
    inputs = batch()
    with torch.no_grad():
        got = head(inputs).logits
        tokens = cls.net.bert(**inputs).last_hidden_state
        pooler = head.net.bert.pooler
        want = head.net.classifier(pooler.activation(pooler.dense(masked_mean(tokens, inputs["attention_mask"]))))
        assert torch.allclose(got, want, atol=1e-5)
        assert not torch.allclose(got, cls(inputs).logits, atol=1e-3)
        # padding is outside the mean: more of it changes no row's logits
        assert torch.allclose(head(batch(pad_more=3)).logits, got, atol=1e-5)
        with torch.autocast("cpu", dtype=torch.bfloat16):  # as training runs under precision bf16
            low = head(inputs).logits
        assert low.dtype == torch.float32 and torch.allclose(low, got, atol=0.1)
        # asking again does not stack a second hook (a mean of the mean at position 0 would change the logits)
        use_pooling(head.net, "mean")
        assert torch.allclose(head(inputs).logits, got, atol=1e-5)


@pytest.mark.parametrize("model_type", ["electra", "roberta"])
def test_heads_without_a_pooler_read_the_mean_at_position_0(model_type, tmp_path):
    save_tiny_encoder(tmp_path, model_type, type_vocab_size=2)
    torch.manual_seed(0)
    head = BertForReg(tmp_path, pooling="mean").eval()
    torch.manual_seed(0)
    cls = BertForReg(tmp_path).eval()
    inputs = batch()
    with torch.no_grad():
        got = head(inputs).logits
        assert torch.allclose(head(batch(pad_more=4)).logits, got, atol=1e-5)
        tokens = cls.net.base_model(**inputs).last_hidden_state
        mean = masked_mean(tokens, inputs["attention_mask"]).unsqueeze(1)
        assert torch.allclose(head.net.classifier(mean), got, atol=1e-5)
        assert not torch.allclose(cls(inputs).logits, got, atol=1e-4)


def pair_batch(pad_more=0):
    """Two pairs and a one-sentence row: [CLS] a [SEP] b [SEP], types 0 then 1."""
    ids = torch.tensor([[2, 10, 11, 3, 12, 13, 3], [2, 14, 3, 10, 3, 0, 0], [2, 15, 16, 3, 0, 0, 0]])
    types = torch.tensor([[0, 0, 0, 0, 1, 1, 1], [0, 0, 0, 1, 1, 0, 0], [0, 0, 0, 0, 0, 0, 0]])
    pad = torch.zeros(3, pad_more, dtype=torch.long)
    ids, types = torch.cat([ids, pad], 1), torch.cat([types, pad], 1)
    return {"input_ids": ids, "attention_mask": (ids != 0).long(), "token_type_ids": types}


def test_pair_features_are_the_product_of_the_unit_segment_means():
    torch.manual_seed(0)
    inputs = pair_batch()
    hidden = torch.randn(3, 7, 8)
    got = pair_features(hidden, inputs["attention_mask"], inputs["token_type_ids"])
    a = hidden[0, :4].mean(0)  # [CLS] 10 11 [SEP]
    b = hidden[0, 4:].mean(0)  # 12 13 [SEP]
    assert torch.allclose(got[0], 8 * a / a.norm() * b / b.norm(), atol=1e-5)
    assert torch.allclose(got[0].mean(), torch.nn.functional.cosine_similarity(a, b, dim=0), atol=1e-5)
    b1 = hidden[1, 3:5].mean(0)  # the padded row's segment B stops at the mask
    assert torch.allclose(got[1].mean(), torch.nn.functional.cosine_similarity(hidden[1, :3].mean(0), b1, dim=0))
    assert torch.allclose(got[2].mean(), torch.tensor(1.0))  # one segment: a pair of itself
    with torch.autocast("cpu", dtype=torch.bfloat16):
        low = pair_features(hidden.bfloat16(), inputs["attention_mask"], inputs["token_type_ids"])
    assert low.dtype == torch.bfloat16 and torch.allclose(low.float(), got, atol=0.1)


def test_a_pair_pooled_head_reads_the_segments_agreement(tiny_korean_bert):
    torch.manual_seed(0)
    head = BertForReg(tiny_korean_bert, pooling="pair").eval()
    assert head.options()["pooling"] == "pair"
    inputs = pair_batch()
    with torch.no_grad():
        got = head(inputs).logits
        tokens = BertForReg(tiny_korean_bert).net.bert(**inputs).last_hidden_state  # the encoder is the same
        want = head.net.classifier(pair_features(tokens, inputs["attention_mask"], inputs["token_type_ids"]))
        assert torch.allclose(got, want, atol=1e-5)  # no pooler between the product and the classifier
        assert torch.allclose(head(pair_batch(pad_more=3)).logits, got, atol=1e-5)
        # switching a net's pooling replaces its hook instead of stacking a second one
        use_pooling(head.net, "mean")
        mean = head(inputs).logits
        assert not torch.allclose(mean, got, atol=1e-4)
        use_pooling(head.net, "pair")
        assert torch.allclose(head(inputs).logits, got, atol=1e-5)
        use_pooling(head.net, "cls")  # the hook is gone: the classifier reads the BERT pooler's [CLS] again
        plain = head.net.classifier(head.net.bert(**inputs).pooler_output)
        assert torch.allclose(head(inputs).logits, plain, atol=1e-5)


def test_pair_pooling_needs_segment_ids(tmp_path):
    save_tiny_encoder(tmp_path, "roberta", type_vocab_size=1)
    with pytest.raises(ConfigError, match="pooling pair needs segment ids.*type_vocab_size 1: use pooling mean"):
        BertForReg(tmp_path, pooling="pair")


@pytest.mark.parametrize("pooling", ["mean", "pair"])
def test_a_saved_pooled_model_reloads_with_its_pooling(pooling, tiny_korean_bert, tmp_path):
    torch.manual_seed(1)
    head = BertForReg(tiny_korean_bert, pooling=pooling).eval()
    head.net.save_pretrained(tmp_path)
    rebuilt = BertForReg(tmp_path, **head.options()).eval()
    plain = BertForReg(tmp_path).eval()
    with torch.no_grad():
        assert torch.allclose(rebuilt(pair_batch()).logits, head(pair_batch()).logits, atol=1e-6)
        assert not torch.allclose(plain(pair_batch()).logits, head(pair_batch()).logits, atol=1e-4)


def test_the_config_takes_mean_and_pair_and_refuses_other_poolings():
    cfg = resolve_config("klue/nsmc_bert", {"bert_for_seq_cls.pooling": "mean"})
    assert cfg.model.options["pooling"] == "mean"
    assert resolve_config("klue/korsts_bert", {"bert_for_reg.pooling": "pair"}).model.options["pooling"] == "pair"
    with pytest.raises(
        ConfigError, match=r"--model.bert_for_seq_cls.pooling: \"max\": input should be 'cls', 'mean' or 'pair'"
    ):
        resolve_config("klue/nsmc_bert", {"bert_for_seq_cls.pooling": "max"})
    with pytest.raises(ConfigError, match="pooling is 'max': give one of cls, mean, pair"):
        use_pooling(None, "max")


@pytest.mark.parametrize("pooling", ["mean", "pair"])
def test_a_pooled_checkpoint_exports_to_onnx_and_agrees(pooling, tmp_path, minilm_path):
    from conftest import build_tiny_bert

    from claf.predictor import Predictor
    from claf.registry import READERS
    from claf.runtime.onnx_export import export_onnx
    from claf.tokens.pipeline import load_tokenizer

    encoder = tmp_path / "encoder"
    build_tiny_bert(encoder, minilm_path / "vocab.txt", do_lower_case=True)
    reader = READERS.get("seq_reg")(text_column=0, text_pair_column=1, label_column=2)
    torch.manual_seed(2)
    checkpoint = tmp_path / "run" / "best"
    BertForReg(encoder, pooling=pooling).save(
        checkpoint, load_tokenizer(encoder), "seq_reg", reader.options(), "bert_for_reg"
    )
    report = export_onnx(checkpoint)
    assert report["fp32"]["max_abs_diff"] <= 1e-4
    request = {"text": "a man plays", "text_pair": "a man is playing the guitar"}
    torch_predictor = Predictor(checkpoint, threads=1)
    assert torch_predictor.model.pooling == pooling
    reference = torch_predictor.predict([request])[0]
    got = Predictor(checkpoint, backend="onnx", threads=1).predict([request])[0]
    assert abs(got["score"] - reference["score"]) <= 1e-4
