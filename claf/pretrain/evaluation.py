"""Held-out masked-LM (and replaced-token detection) loss and accuracy: the held-out documents
(``claf.pretrain.holdout``), masked once."""

import math

import torch

from claf.learn.precision import autocast
from claf.pretrain import rng
from claf.pretrain.instances import build_instances
from claf.pretrain.plans import Plan
from claf.pretrain.stream import MODEL_KEYS
from claf.progress import bar

VALID_EPOCH = 2**31  # keys of an epoch training never reaches


def binary_entropy(p: float) -> float:
    """In nats, as the RTD loss: a discriminator that learned nothing but the replaced share scores this."""
    return 0.0 if p <= 0 or p >= 1 else -(p * math.log(p) + (1 - p) * math.log(1 - p))


class PretrainEvaluator:
    """``evaluate()`` -> ({"loss", "mlm_loss", "mlm_accuracy"[, "nsp_loss"][, "rtd_*"]}, None), the same on every
    rank. Accuracies are in percent; ``loss`` is the objective's (electra: mlm + weight * rtd). ELECTRA adds
    ``rtd_loss``, ``rtd_accuracy``, ``rtd_replaced`` (the replaced share, percent) and ``rtd_prior`` (the
    loss of knowing only that share): a discriminator learns from context only once ``rtd_loss`` is below it.
    """

    def __init__(
        self,
        model,
        corpus,
        specials,
        masker,
        *,
        instance_format,
        max_seq_length,
        holdout_documents,
        evaluation,
        holdout_from="spread",
        precision="fp32",
        seed=42,
        device="cpu",
    ):
        """``evaluation``: the recipe's evaluation block (num_instances, batch_size); ``precision`` concrete."""
        num_instances, batch_size = evaluation.num_instances, evaluation.batch_size
        plan = Plan(corpus, instance_format, max_seq_length, holdout_documents, part="valid", holdout_from=holdout_from)
        indices = plan.epoch_order(seed, VALID_EPOCH)[:num_instances]
        self.model, self.precision, self.device = model, precision, torch.device(device)
        self.batches, self.num_instances = [], len(indices)
        for start in range(0, len(indices), batch_size):
            chunk = indices[start : start + batch_size]
            keys = rng.instance_keys(seed, VALID_EPOCH, chunk, max_seq_length)
            batch = masker(build_instances(plan, chunk, keys, specials), keys)
            self.batches.append({k: torch.from_numpy(batch[k]) for k in MODEL_KEYS if k in batch})

    @torch.no_grad()
    def __call__(self):
        was_training = self.model.training
        self.model.eval()
        totals = {
            "mlm": 0.0,
            "nsp": 0.0,
            "correct": 0,
            "count": 0,
            "rows": 0,
            "rtd": 0.0,
            "rtd_correct": 0,
            "rtd_count": 0,
            "rtd_replaced": 0,
            "sentence": 0.0,
            "sentence_correct": 0,
            "sentence_count": 0,
        }
        try:
            for batch in bar(self.batches, desc="evaluating held-out MLM", unit=" batches"):
                batch = {k: v.to(self.device) for k, v in batch.items()}
                with autocast(self.precision, self.device.type):
                    out = self.model(batch)
                totals["mlm"] += float(out.mlm_loss) * out.mlm_count
                totals["correct"] += int(out.mlm_correct)
                totals["count"] += out.mlm_count
                if out.nsp_loss is not None:
                    totals["nsp"] += float(out.nsp_loss) * len(batch["input_ids"])
                    totals["rows"] += len(batch["input_ids"])
                if out.rtd_loss is not None:
                    totals["rtd"] += float(out.rtd_loss) * out.rtd_count
                    totals["rtd_correct"] += int(out.rtd_correct)
                    totals["rtd_count"] += out.rtd_count
                    totals["rtd_replaced"] += out.rtd_replaced
                if out.contrastive_loss is not None:
                    totals["sentence"] += float(out.contrastive_loss) * out.contrastive_count
                    totals["sentence_correct"] += out.contrastive_correct
                    totals["sentence_count"] += out.contrastive_count
        finally:
            self.model.train(was_training)
        scores = {
            "mlm_loss": totals["mlm"] / max(totals["count"], 1),
            "mlm_accuracy": 100.0 * totals["correct"] / max(totals["count"], 1),
        }  # percent, like all metrics
        scores["loss"] = scores["mlm_loss"]
        if totals["rows"]:
            scores["nsp_loss"] = totals["nsp"] / totals["rows"]
            scores["loss"] += scores["nsp_loss"]
        if totals["rtd_count"]:
            scores["rtd_loss"] = totals["rtd"] / totals["rtd_count"]
            scores["rtd_accuracy"] = 100.0 * totals["rtd_correct"] / totals["rtd_count"]
            share = totals["rtd_replaced"] / totals["rtd_count"]
            scores["rtd_replaced"] = 100.0 * share
            scores["rtd_prior"] = binary_entropy(share)  # the loss of always predicting the share
            scores["loss"] += self.model.discriminator_weight * scores["rtd_loss"]
        if totals["sentence_count"]:  # in-batch: its level depends on evaluation.batch_size
            scores["contrastive_loss"] = totals["sentence"] / totals["sentence_count"]
            scores["contrastive_accuracy"] = 100.0 * totals["sentence_correct"] / totals["sentence_count"]
            scores["loss"] += self.model.contrastive["weight"] * scores["contrastive_loss"]
        return scores, None
