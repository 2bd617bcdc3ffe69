"""The base of the heads that pick one of a fixed list of labels (sequence and token classification)."""

from claf.models.heads.base import Dropout, TaskModel, head_kwargs


class LabelHead(TaskModel):
    """A head that picks one of ``labels`` (per sequence or per token), with an optional classifier dropout."""

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
        kwargs = head_kwargs(dropout, self.labels)
        super().__init__(pretrained_model_name, reinit_pooler, reinit_layers, encoder_dropout, **kwargs)
        self.dropout = dropout

    def options(self):
        return {"labels": self.labels, "dropout": self.dropout}
