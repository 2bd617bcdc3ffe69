"""``model.contrastive``: segment A inside the masked pair against the same sentence encoded alone."""

import json

import pytest
import torch
import transformers

from claf.config import resolve_config
from claf.config.errors import ConfigError
from claf.experiment import Experiment
from claf.pretrain.contrastive import alone_view, contrastive_loss, segment_a
from tests.pretrain_support import review_corpus, tiny_recipe

CLS, SEP, MASK = 2, 3, 4


def tiny_encoder(seed=0):
    torch.manual_seed(seed)
    config = transformers.BertConfig(
        vocab_size=40,
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.0,
    )
    return transformers.BertModel(config).eval()


def pair_batch(pairs, width=12):
    """A sentence-pair batch ``[CLS] A [SEP] B [SEP]``, right-padded, nothing masked."""
    ids, types = torch.zeros(len(pairs), width, dtype=torch.long), torch.zeros(len(pairs), width, dtype=torch.long)
    for row, (a, b) in enumerate(pairs):
        tokens = [CLS, *a, SEP, *b, SEP]
        ids[row, : len(tokens)] = torch.tensor(tokens)
        types[row, len(a) + 2 : len(tokens)] = 1
    return {
        "input_ids": ids,
        "token_type_ids": types,
        "attention_mask": (ids != 0).long(),
        "labels": torch.full_like(ids, -100),
    }


def test_segment_a_covers_cls_a_sep_and_scores_only_a_tokens():
    batch = pair_batch([([5, 6, 7], [8, 9]), ([10], [11, 12, 13])])
    attend, content = segment_a(batch)
    assert attend.tolist() == [[True] * 5, [True, True, True, False, False]]
    assert content.tolist() == [[False, True, True, True, False], [False, True, False, False, False]]


def test_the_alone_view_sees_neither_segment_b_nor_the_masks():
    encoder = tiny_encoder()
    batch = pair_batch([([5, 6, 7], [8, 9]), ([10, 11], [12, 13, 14])])
    other_b = pair_batch([([5, 6, 7], [20, 21, 22, 23]), ([10, 11], [24])])
    masked = pair_batch([([5, 6, 7], [8, 9]), ([10, 11], [12, 13, 14])])
    masked["input_ids"][0, 2] = MASK  # token 6 masked, its label keeps it
    masked["labels"][0, 2] = 6
    with torch.no_grad():
        alone, content = alone_view(encoder, batch)
        for changed in (other_b, masked):
            again, _ = alone_view(encoder, changed)
            assert torch.allclose(alone[content], again[content], atol=1e-6)
        joint = encoder(**{k: batch[k] for k in ("input_ids", "token_type_ids", "attention_mask")})
        joint_b = encoder(**{k: other_b[k] for k in ("input_ids", "token_type_ids", "attention_mask")})
    # inside the pair, A attends to B: a different B changes A's vectors there
    assert not torch.allclose(joint.last_hidden_state[0, 1:4], joint_b.last_hidden_state[0, 1:4], atol=1e-4)


def test_the_loss_falls_when_the_views_match_and_trains_the_encoder():
    encoder = tiny_encoder()
    batch = pair_batch([([5, 6, 7], [8, 9]), ([10, 11], [12]), ([13, 14, 15, 16], [17, 18]), ([19], [20, 21])])
    inputs = {k: batch[k] for k in ("input_ids", "token_type_ids", "attention_mask")}
    hidden = encoder(**inputs).last_hidden_state
    loss, correct, rows = contrastive_loss(encoder, batch, hidden, temperature=0.05)
    assert rows == 4 and 0 <= correct <= 4
    loss.backward()
    assert encoder.embeddings.word_embeddings.weight.grad.abs().sum() > 0
    # the pair view against itself (a fully matched batch) scores each row first; shuffled partners do not
    with torch.no_grad():
        alone, _ = alone_view(encoder, batch)
        matched = torch.zeros_like(hidden)
        matched[:, : alone.shape[1]] = alone
        low, correct_low, _ = contrastive_loss(encoder, batch, matched, 0.05)
        shuffled = matched[[1, 2, 3, 0]]
        high, _, _ = contrastive_loss(encoder, batch, shuffled, 0.05)
    assert correct_low == 4 and float(low) < float(high)


@pytest.mark.parametrize(
    "overrides, match",
    [
        (
            {"instances.format": "full_sentence", "model.objective": "mlm", "instances.copy_share": 0},
            "instances.format sentence_pair",
        ),
        ({"model.objective": "electra", "instances.format": "sentence_pair"}, "model.objective mlm or mlm_nsp"),
        ({"model.contrastive.weight": 0}, "weight"),
    ],
)
def test_a_recipe_that_cannot_use_the_loss_fails_naming_the_key(overrides, match):
    values = {"model.contrastive": {"weight": 1.0}, **overrides}
    with pytest.raises(ConfigError, match=match) as raised:
        resolve_config("pretrain/larva_kor_tiny", values, kind="pretrain")
    assert "model.contrastive" in str(raised.value)


@pytest.mark.slow
def test_a_run_reports_the_held_out_sentence_loss_and_publishes_a_plain_checkpoint(mirror, hub):
    corpus_file = review_corpus(mirror, hub / "reviews.txt", 600)
    overrides = tiny_recipe(
        "larva-sent-test",
        corpus_file,
        hub,
        **{"evaluation.holdout_documents": 50, "model.contrastive": {"weight": 1.0, "temperature": 0.05}},
    )
    summary = Experiment("pretrain", "pretrain/larva_kor_tiny", overrides=overrides)()
    metrics = json.loads((hub / "run" / "metrics.json").read_text())["best"]
    assert metrics["valid/contrastive_loss"] > 0
    assert 0 <= metrics["valid/contrastive_accuracy"] <= 100
    assert metrics["valid/loss"] == pytest.approx(
        metrics["valid/mlm_loss"] + metrics["valid/nsp_loss"] + metrics["valid/contrastive_loss"], rel=1e-5
    )
    from claf.hub.resolve import resolve_pretrained

    assert summary["published"][0]["name"] == "larva-sent-test-2"
    net = transformers.AutoModelForPreTraining.from_pretrained(resolve_pretrained("larva-sent-test-2"))
    plain = transformers.BertForPreTraining(net.config)
    assert set(net.state_dict()) == set(plain.state_dict())  # the loss adds no parameters
