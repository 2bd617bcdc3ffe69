"""Regression head (``[CLS]`` or the token mean -> one score, mean squared error): STS-B, KorSTS, KLUE-STS, JSTS."""

from claf.models.heads.base import Dropout, TaskModel, head_kwargs
from claf.models.heads.pooling import Pooling, use_pooling
from claf.registry import MODELS


@MODELS.register("bert_for_reg")
class BertForReg(TaskModel):
    auto_class = "AutoModelForSequenceClassification"
    label_keys = ("labels",)

    def __init__(
        self,
        pretrained_model_name,
        dropout=None,
        reinit_pooler=False,
        reinit_layers=0,
        encoder_dropout: Dropout | None = None,
        pooling: Pooling = "cls",
    ):
        kwargs = dict(head_kwargs(dropout), num_labels=1, problem_type="regression")
        super().__init__(pretrained_model_name, reinit_pooler, reinit_layers, encoder_dropout, **kwargs)
        self.dropout = dropout
        self.pooling = use_pooling(self.net, pooling)

    def options(self):
        return {"dropout": self.dropout, "pooling": self.pooling}

    def feature_results(self, outputs, batch):
        return outputs.logits.float().reshape(-1).tolist()

    def predictions(self, examples, features, results):
        return [float(results[i]) for i in range(len(examples))]

    def references(self, examples):
        return [float(e["label"]) for e in examples]

    def present(self, example, prediction):
        return {"id": example["id"], "score": round(float(prediction), 6)}
