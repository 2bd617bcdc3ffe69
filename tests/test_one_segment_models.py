"""A RoBERTa-style checkpoint (one segment embedding, ``type_vocab_size`` 1, as pre-training writes for
``roberta`` and ``roberta-prelayernorm``) fine-tunes on a sentence-pair task: the heads leave out
``token_type_ids``, whose second segment would index past its table; a BERT keeps them."""

import math

import pytest

from claf.experiment import Experiment


@pytest.fixture(scope="module")
def tiny_pre_ln_roberta(tmp_path_factory, mirror):
    import torch
    from transformers import BertTokenizer, RobertaPreLayerNormConfig, RobertaPreLayerNormModel

    from claf.tokens.vocab import read_wordpiece_vocab

    path = tmp_path_factory.mktemp("pre_ln")
    vocab = read_wordpiece_vocab(mirror / "vocab" / "koelectra" / "vocab.txt")
    tokenizer = BertTokenizer(vocab=vocab, do_lower_case=False)
    torch.manual_seed(0)
    config = RobertaPreLayerNormConfig(
        vocab_size=len(vocab),
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=130,
        type_vocab_size=1,
        pad_token_id=tokenizer.pad_token_id,
    )
    RobertaPreLayerNormModel(config).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


def test_a_one_segment_model_fine_tunes_on_sentence_pairs(tiny_pre_ln_roberta, tmp_path):
    overrides = {
        "model.bert_for_seq_cls.pretrained_model_name": str(tiny_pre_ln_roberta),
        "data_reader.train_limit": 64,
        "data_reader.valid_limit": 32,
        "seq_cls.max_seq_length": 64,
        "trainer.log_dir": str(tmp_path / "run"),
        "trainer.num_epochs": 1,
        "trainer.progress": False,
        "iterator.batch_size": 16,
    }
    summary = Experiment("train", "klue/qp_bert", overrides=overrides)()  # question pairs: [CLS] a [SEP] b [SEP]
    assert math.isfinite(summary["best"]["valid/loss"]) and 0 <= summary["best_score"] <= 100


def test_only_one_segment_models_leave_the_segment_ids_out(tiny_pre_ln_roberta, tiny_korean_bert):
    from claf.models.heads.seq_cls import BertForSeqCls

    assert "token_type_ids" not in BertForSeqCls(tiny_pre_ln_roberta, ["0", "1"]).keys
    assert "token_type_ids" in BertForSeqCls(tiny_korean_bert, ["0", "1"]).keys
