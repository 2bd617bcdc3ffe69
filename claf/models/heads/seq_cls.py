"""Sequence classification head (``[CLS]``, or the token mean with ``pooling: mean`` -> labels)."""

from claf.models.heads.label_head import LabelHead
from claf.models.heads.pooling import Pooling, use_pooling
from claf.registry import MODELS


@MODELS.register("bert_for_seq_cls")
class BertForSeqCls(LabelHead):
    auto_class = "AutoModelForSequenceClassification"

    def __init__(self, *args, pooling: Pooling = "cls", **options):
        super().__init__(*args, **options)
        self.pooling = use_pooling(self.net, pooling)

    def options(self):
        return {**super().options(), "pooling": self.pooling}

    def feature_results(self, outputs, batch):
        return outputs.logits.float().argmax(-1).tolist()

    def predictions(self, examples, features, results):
        return [self.labels[results[i]] for i in range(len(examples))]

    def references(self, examples):
        return [e["label"] for e in examples]

    def present(self, example, prediction):
        return {"id": example["id"], "label": prediction}
