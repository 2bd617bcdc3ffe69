"""Extractive QA head: start/end logits over the window -> best answer span in characters."""

import numpy as np

from claf.models.heads.base import Dropout, TaskModel
from claf.registry import MODELS


@MODELS.register("bert_for_qa")
class BertForQA(TaskModel):
    auto_class = "AutoModelForQuestionAnswering"
    label_keys = ("start_positions", "end_positions")

    def __init__(
        self,
        pretrained_model_name,
        answer_maxlen=30,
        n_best=20,
        reinit_layers=0,
        encoder_dropout: Dropout | None = None,
    ):
        super().__init__(pretrained_model_name, reinit_layers=reinit_layers, encoder_dropout=encoder_dropout)
        self.answer_maxlen = answer_maxlen
        self.n_best = n_best

    def options(self):
        return {"answer_maxlen": self.answer_maxlen, "n_best": self.n_best}

    def feature_results(self, outputs, batch):
        starts = outputs.start_logits.float().cpu().numpy()
        ends = outputs.end_logits.float().cpu().numpy()
        lengths = batch["attention_mask"].sum(-1).tolist()
        return [(s[:n], e[:n]) for s, e, n in zip(starts, ends, lengths)]

    def predictions(self, examples, features, results):
        best = {}  # example index -> (score, text)
        for feature, (start_logits, end_logits) in zip(features, results):
            candidate = self._best_span(feature["offsets"], start_logits, end_logits)
            if candidate is None:
                continue
            score, char_start, char_end = candidate
            i = feature["example_index"]
            if i not in best or score > best[i][0]:
                best[i] = (score, examples[i]["context"][char_start:char_end])
        return {e["id"]: best.get(i, (0.0, ""))[1] for i, e in enumerate(examples)}

    def _best_span(self, offsets, start_logits, end_logits):
        valid = np.array([o is not None for o in offsets[: len(start_logits)]])
        if not valid.any():
            return None
        start_logits = np.where(valid, start_logits, -np.inf)
        end_logits = np.where(valid, end_logits, -np.inf)
        k = min(self.n_best, int(valid.sum()))
        top_starts = np.argsort(-start_logits)[:k]
        top_ends = np.argsort(-end_logits)[:k]
        scores = start_logits[top_starts][:, None] + end_logits[top_ends][None, :]
        span = top_ends[None, :] - top_starts[:, None]
        scores = np.where((span >= 0) & (span < self.answer_maxlen), scores, -np.inf)
        flat = int(np.argmax(scores))
        if not np.isfinite(scores.flat[flat]):
            return None
        s, e = top_starts[flat // k], top_ends[flat % k]
        return float(scores.flat[flat]), offsets[s][0], offsets[e][1]

    def references(self, examples):
        return {e["id"]: e["answers"] for e in examples}

    def present(self, example, prediction):
        return {"id": example["id"], "answer": prediction}
