"""The pre-training model: a standard transformers *ForMaskedLM / *ForPreTraining, trained cheaply.

Over every position, the full-vocabulary output layer dominates a small model's step, so
``forward`` runs the encoder, gathers the hidden states of the masked positions only and
applies the model's own LM head to those. The parameters are the unmodified transformers
model's (``self.net``), so ``save_pretrained`` writes a checkpoint that
``AutoModelForMaskedLM`` / ``AutoModelForPreTraining`` (and ``AutoModel``) load as usual.

    objective "mlm"      masked LM only (RoBERTa style), saved as *ForMaskedLM
    objective "mlm_nsp"  masked LM + next-sentence prediction (BERT), saved as *ForPreTraining
    model.contrastive    adds a sentence-level loss to mlm / mlm_nsp (claf.pretrain.contrastive)
    objective "electra"  generator MLM + replaced-token detection (claf.pretrain.electra), saved as the
                         discriminator (ElectraForPreTraining)

``claf.pretrain.build.build_model`` picks the module for a recipe's objective.
"""

import torch
import torch.nn.functional as F

from claf.config.errors import ConfigError
from claf.pretrain.contrastive import contrastive_loss
from claf.pretrain.masking import IGNORE_INDEX
from claf.pretrain.net_config import check_positions, model_config
from claf.pretrain.output import PretrainOutput

OBJECTIVES = ("mlm", "mlm_nsp", "electra")


def build_net(transformers_config, tokenizer, objective="mlm", pretrained_model_name=None, max_seq_length=512):
    """A fresh transformers model from the recipe's config (vocab and special ids from the tokenizer)."""
    import transformers

    if objective not in OBJECTIVES:
        raise ConfigError(f"model.objective '{objective}' is not one of {', '.join(OBJECTIVES)}")
    if objective == "electra":
        raise ConfigError("model.objective electra trains two models: build it with build_model")
    auto = transformers.AutoModelForPreTraining if objective == "mlm_nsp" else transformers.AutoModelForMaskedLM
    if pretrained_model_name:  # continue pre-training a checkpoint
        from claf.hub.resolve import resolve_pretrained

        net = auto.from_pretrained(resolve_pretrained(pretrained_model_name))
        check_positions(net.config, max_seq_length, "model.pretrained_model_name's max_position_embeddings")
        return net
    config = model_config(transformers_config, tokenizer, max_seq_length)
    net = auto.from_config(config)
    if objective == "mlm_nsp" and not hasattr(getattr(net, "cls", None), "seq_relationship"):
        raise ConfigError(
            f"model.objective mlm_nsp needs a model type with next-sentence prediction (bert); "
            f"{config.model_type} has none: use objective mlm"
        )
    return net


def lm_head(net):
    """The module mapping hidden states to vocabulary logits (works on any leading shape)."""
    cls = getattr(net, "cls", None)
    if cls is not None and hasattr(cls, "predictions"):
        return cls.predictions  # BERT: BertOnlyMLMHead / BertPreTrainingHeads
    for name in ("lm_head", "generator_lm_head", "predictions"):
        if hasattr(net, name):
            return getattr(net, name)
    raise ValueError(f"{type(net).__name__}: no masked-LM head found (cls.predictions or lm_head)")


class PretrainModel(torch.nn.Module):
    def __init__(self, net, contrastive=None):
        """``contrastive``: the ``model.contrastive`` block ({"weight", "temperature"}) or None."""
        super().__init__()
        self.net = net
        self.contrastive = dict(contrastive) if contrastive else None
        self.encoder = net.base_model
        self.head = lm_head(net)
        cls = getattr(net, "cls", None)
        self.nsp_head = getattr(cls, "seq_relationship", None)

    @property
    def config(self):
        return self.net.config

    def forward(self, batch):
        labels = batch["labels"]
        inputs = {"input_ids": batch["input_ids"], "attention_mask": batch.get("attention_mask")}
        if "token_type_ids" in batch and getattr(self.net.config, "type_vocab_size", 0) > 1:
            inputs["token_type_ids"] = batch["token_type_ids"]
        outputs = self.encoder(**inputs)
        hidden = outputs.last_hidden_state
        positions = batch.get("masked_positions")  # flat indices from the data stream (claf.pretrain.stream)
        if positions is None:  # a boolean mask: its size is read back from the device (a host sync)
            masked = labels != IGNORE_INDEX
            hidden, targets = hidden[masked], labels[masked]
        else:
            hidden = hidden.reshape(-1, hidden.shape[-1]).index_select(0, positions)
            targets = labels.reshape(-1).index_select(0, positions)
        logits = self.head(hidden)  # [masked tokens, vocab]
        mlm_loss = F.cross_entropy(logits.float(), targets)
        loss, nsp_loss = mlm_loss, None
        if self.nsp_head is not None and "next_sentence_label" in batch:
            nsp_logits = self.nsp_head(outputs.pooler_output)
            target = batch.get("next_sentence_target")  # graded copies (instances.copy_noise): a soft label
            if target is None:
                nsp_loss = F.cross_entropy(nsp_logits.float(), batch["next_sentence_label"])
            else:
                target = target.float()
                nsp_loss = F.cross_entropy(nsp_logits.float(), torch.stack([1 - target, target], dim=-1))
            loss = mlm_loss + nsp_loss
        sentence = None
        if self.contrastive is not None:
            sentence = contrastive_loss(self.encoder, batch, outputs.last_hidden_state, self.contrastive["temperature"])
            loss = loss + self.contrastive["weight"] * sentence[0]
        correct = None
        if not self.training:  # accuracy for evaluation only: an argmax over the vocabulary is not free
            correct = (logits.detach().float().argmax(-1) == targets).sum()
        out = PretrainOutput(
            loss, mlm_loss.detach(), None if nsp_loss is None else nsp_loss.detach(), correct, int(targets.numel())
        )
        if sentence is not None:
            out.contrastive_loss, out.contrastive_correct, out.contrastive_count = sentence[0].detach(), *sentence[1:]
        return out

    def loss_units(self, batch):
        """The loss is a mean over masked tokens: accumulation weighs micro-batches by them."""
        return int((batch["labels"] != IGNORE_INDEX).sum())

    def fit_state_dict(self, saved):
        """A saved state whose position table is shorter (an older run, a raised max_position_embeddings):
        keep its trained rows, the new rows keep their fresh initialisation."""
        current = self.state_dict()
        for key, value in saved.items():
            mine = current.get(key)
            if (
                "position" in key
                and mine is not None
                and value.dim() == mine.dim()
                and value.dim() > 0
                and value.shape[1:] == mine.shape[1:]
                and value.shape[0] < mine.shape[0]
            ):
                grown = mine.clone()
                grown[: value.shape[0]] = value
                saved[key] = grown
        return saved

    def save_pretrained(self, path, **kwargs):
        self.net.save_pretrained(path, **kwargs)
