"""Sequence classification head (``[CLS]`` pooled -> labels)."""

from claf.models.heads.base import Dropout, TaskModel
from claf.registry import MODELS


@MODELS.register("bert_for_seq_cls")
class BertForSeqCls(TaskModel):
    auto_class = "AutoModelForSequenceClassification"
    label_keys = ("labels",)

    def __init__(
        self,
        pretrained_model_name,
        labels,
        dropout=None,
        reinit_pooler=False,
        reinit_layers=0,
        encoder_dropout: Dropout | None = None,
    ):
        self.labels = list(labels)
        extra = {"classifier_dropout": dropout} if dropout is not None else {}
        super().__init__(
            pretrained_model_name,
            reinit_pooler,
            reinit_layers,
            encoder_dropout,
            num_labels=len(self.labels),
            id2label=dict(enumerate(self.labels)),
            label2id={label: i for i, label in enumerate(self.labels)},
            **extra,
        )
        self.dropout = dropout

    def options(self):
        return {"labels": self.labels, "dropout": self.dropout}

    def feature_results(self, outputs, batch):
        return outputs.logits.float().argmax(-1).tolist()

    def predictions(self, examples, features, results):
        return [self.labels[results[i]] for i in range(len(examples))]

    def references(self, examples):
        return [e["label"] for e in examples]

    def present(self, example, prediction):
        return {"id": example["id"], "label": prediction}
