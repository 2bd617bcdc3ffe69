"""Run a model over a validation set and score its predictions.

Under DDP each rank runs its share of the batches; the per-feature results and loss sums are
gathered so every rank computes the same scores (and takes the same early-stopping decision).
"""

import time

import torch

from claf.data.padding import batch_order, collate
from claf.learn.precision import autocast
from claf.metrics.spec import metric_function
from claf.progress import bar


class Evaluator:
    def __init__(self, model, data, metrics, batch_size, pad_token_id, precision="fp32", dist=None):
        self.model = model
        self.dist = dist
        self.data = data
        self.metrics = list(metrics)
        self.batches = batch_order([len(f["input_ids"]) for f in data.features], batch_size, shuffle=False)
        self.pad_token_id = pad_token_id
        self.precision = precision

    @torch.no_grad()
    def predict(self):
        """Predictions per example, and the mean loss when labels are present."""
        was_training = self.model.training
        self.model.eval()
        results = [None] * len(self.data.features)
        loss_sum, loss_count = torch.zeros((), dtype=torch.float64), 0
        device = next(self.model.parameters()).device
        rank, world = (self.dist.rank, self.dist.world_size) if self.dist is not None else (0, 1)
        mine = {}
        try:
            for indices in bar(self.batches[rank::world], desc="evaluating", unit=" batches"):
                batch = {k: v.to(device) for k, v in collate(self.data.features, indices, self.pad_token_id).items()}
                with autocast(self.precision, device.type):  # the model's device, not "cuda if there is one"
                    outputs = self.model(batch)
                if getattr(outputs, "loss", None) is not None:
                    loss_sum = loss_sum.to(outputs.loss.device) + outputs.loss.detach().double() * len(indices)
                    loss_count += len(indices)
                for i, result in zip(indices, self.model.feature_results(outputs, batch)):
                    mine[i] = result
        finally:
            self.model.train(was_training)
        loss_sum = float(loss_sum)
        if world > 1:
            gathered = self.dist.gather(mine)
            mine = {i: r for part in gathered for i, r in part.items()}
            loss_sum, loss_count = self.dist.sum([loss_sum, loss_count])
        for i, result in mine.items():
            results[i] = result
        predictions = self.model.predictions(self.data.examples, self.data.features, results)
        return predictions, (loss_sum / loss_count if loss_count else None)

    def __call__(self):
        start = time.perf_counter()
        predictions, loss = self.predict()
        references = self.model.references(self.data.examples)
        scores = {}
        for spec in self.metrics:  # a registered name or {"name": ..., <options>}
            scores.update(metric_function(spec)(predictions, references))
        if loss is not None:
            scores["loss"] = loss
        scores["epoch_time"] = time.perf_counter() - start
        scores["samples_per_second"] = len(self.data.features) / max(scores["epoch_time"], 1e-9)
        return scores, predictions
