"""``reinit_pooler`` / ``reinit_layers`` on the task heads: the pre-trained pooler and the top encoder layers
are drawn afresh before fine-tuning, the rest is kept, and a saved fine-tuned model reloads as saved.
``encoder_dropout`` turns the encoder's dropout on for fine-tuning a checkpoint pre-trained without it."""

import pytest
import torch

from claf.config import ConfigError, resolve_config
from claf.models.heads.reg import BertForReg
from claf.models.heads.seq_cls import BertForSeqCls


@pytest.fixture(scope="module")
def far_from_init(tmp_path_factory, tiny_korean_bert):
    """The tiny BERT with every weight moved away from its init (+0.5), as pre-training leaves it."""
    from transformers import BertModel

    model = BertModel.from_pretrained(tiny_korean_bert)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.5)
    path = tmp_path_factory.mktemp("far")
    model.save_pretrained(path)
    return path, {k: v.clone() for k, v in model.state_dict().items()}


def encoder_weights(head):
    return {k.split("bert.", 1)[1]: v for k, v in head.net.state_dict().items() if k.startswith("bert.")}


def test_the_defaults_keep_every_pretrained_weight(far_from_init):
    path, saved = far_from_init
    weights = encoder_weights(BertForSeqCls(path, ["a", "b"]))
    assert all(torch.equal(weights[k], saved[k]) for k in saved)


def test_the_pooler_and_the_top_layer_are_redrawn_and_the_rest_kept(far_from_init):
    path, saved = far_from_init
    torch.manual_seed(3)
    head = BertForSeqCls(path, ["a", "b"], reinit_pooler=True, reinit_layers=1)
    weights = encoder_weights(head)
    std = head.net.config.initializer_range
    redrawn = [k for k in saved if k.startswith(("pooler.", "encoder.layer.1."))]
    kept = [k for k in saved if k not in redrawn]
    assert redrawn and kept and all(torch.equal(weights[k], saved[k]) for k in kept)
    for key in redrawn:
        w = weights[key]
        if key.endswith("LayerNorm.weight"):
            assert torch.equal(w, torch.ones_like(w))
        elif key.endswith("bias"):
            assert torch.equal(w, torch.zeros_like(w))
        else:  # a linear weight: normal(0, initializer_range)
            assert abs(w.mean().item()) < 0.1 * std and 0.8 * std < w.std().item() < 1.2 * std, key
    torch.manual_seed(3)
    again = encoder_weights(BertForSeqCls(path, ["a", "b"], reinit_pooler=True, reinit_layers=1))
    assert all(torch.equal(again[k], weights[k]) for k in redrawn)  # the seed decides the draw


def test_a_saved_fine_tuned_model_reloads_without_a_second_draw(far_from_init, tmp_path):
    path, _ = far_from_init
    head = BertForReg(path, reinit_pooler=True, reinit_layers=2)
    assert "reinit_pooler" not in head.options() and "reinit_layers" not in head.options()
    head.net.save_pretrained(tmp_path)
    rebuilt = BertForReg(tmp_path, **head.options())
    before, after = head.net.state_dict(), rebuilt.net.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)


def test_more_layers_than_the_checkpoint_has_is_refused(far_from_init):
    path, _ = far_from_init
    with pytest.raises(ConfigError, match="reinit_layers 3: the checkpoint has 2 encoder layers"):
        BertForSeqCls(path, ["a", "b"], reinit_layers=3)
    with pytest.raises(ConfigError, match="reinit_layers is -1"):
        BertForSeqCls(path, ["a", "b"], reinit_layers=-1)


def test_the_options_are_overrides_of_every_head(mirror):
    cfg = resolve_config(
        "klue/klue_sts_split_bert", {"bert_for_reg.reinit_layers": "1", "bert_for_reg.reinit_pooler": "true"}
    )
    assert cfg.model.options["reinit_layers"] == 1 and cfg.model.options["reinit_pooler"] is True
    with pytest.raises(ConfigError, match="reinit_layers"):
        resolve_config("klue/nsmc_bert", {"bert_for_seq_cls.reinit_layers": "top"})


def test_encoder_dropout_turns_a_no_dropout_checkpoint_on_for_fine_tuning(tiny_korean_bert, tmp_path):
    from transformers import BertModel

    model = BertModel.from_pretrained(tiny_korean_bert, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
    model.save_pretrained(tmp_path)  # as the tiny recipes pre-train: no dropout
    kept = BertForSeqCls(tmp_path, ["a", "b"])
    assert kept.net.config.hidden_dropout_prob == 0.0
    head = BertForReg(tmp_path, encoder_dropout=0.1)
    assert head.net.config.hidden_dropout_prob == 0.1 and head.net.config.attention_probs_dropout_prob == 0.1
    rates = {m.p for m in head.net.bert.encoder.modules() if isinstance(m, torch.nn.Dropout)}
    assert rates == {0.1}
    with pytest.raises(ConfigError, match=r"encoder_dropout is 1.5: give a probability in \[0, 1\)"):
        BertForReg(tmp_path, encoder_dropout=1.5)
    cfg = resolve_config("klue/klue_sts_split_bert", {"bert_for_reg.encoder_dropout": "0.1"})
    assert cfg.model.options["encoder_dropout"] == 0.1
    # the config refuses a rate outside [0, 1) before any model loads, naming the key
    for bad, why in (("1.5", "less than 1"), ("-0.1", "greater than or equal to 0")):
        with pytest.raises(ConfigError, match=rf"--model.bert_for_reg.encoder_dropout: {bad}: input should be {why}"):
            resolve_config("klue/klue_sts_split_bert", {"bert_for_reg.encoder_dropout": bad})
