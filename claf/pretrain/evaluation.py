"""Held-out masked-LM loss and accuracy: the last documents of the corpus, masked once, fixed."""

import torch

from claf.learn.precision import autocast
from claf.progress import bar
from claf.pretrain import rng
from claf.pretrain.instances import build_instances
from claf.pretrain.plans import Plan
from claf.pretrain.stream import MODEL_KEYS

VALID_EPOCH = 2 ** 31  # keys of an epoch training never reaches


class PretrainEvaluator:
    """``evaluate()`` -> ({"loss", "mlm_loss", "mlm_accuracy"[, "nsp_loss"]}, None), the same on every rank."""

    def __init__(self, model, corpus, specials, instance_format, max_seq_length, masker, holdout_documents,
                 num_instances=512, batch_size=64, precision="fp32", seed=42, device="cpu"):
        plan = Plan(corpus, instance_format, max_seq_length, holdout_documents, part="valid")
        indices = plan.epoch_order(seed, VALID_EPOCH)[:num_instances]
        self.model, self.precision, self.device = model, precision, torch.device(device)
        self.batches, self.num_instances = [], len(indices)
        for start in range(0, len(indices), batch_size):
            chunk = indices[start:start + batch_size]
            keys = rng.instance_keys(seed, VALID_EPOCH, chunk, max_seq_length)
            batch = masker(build_instances(plan, chunk, keys, specials), keys)
            self.batches.append({k: torch.from_numpy(batch[k]) for k in MODEL_KEYS if k in batch})

    @torch.no_grad()
    def __call__(self):
        was_training = self.model.training
        self.model.eval()
        totals = {"mlm": 0.0, "nsp": 0.0, "correct": 0, "count": 0, "rows": 0}
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
        finally:
            self.model.train(was_training)
        scores = {"mlm_loss": totals["mlm"] / max(totals["count"], 1),
                  "mlm_accuracy": 100.0 * totals["correct"] / max(totals["count"], 1)}  # percent, like all metrics
        scores["loss"] = scores["mlm_loss"]
        if totals["rows"]:
            scores["nsp_loss"] = totals["nsp"] / totals["rows"]
            scores["loss"] += scores["nsp_loss"]
        return scores, None
