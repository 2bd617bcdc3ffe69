"""Sequence (pair) classification: NSMC, SST-2, CoLA, MRPC, question pairs, PAWS-X, NLI, ...

``seq_cls`` and ``json_cls`` read any row format (``format``: tsv, csv, jsonl, json; null: from the
file's extension); they differ only in their defaults: ``seq_cls`` falls back to tsv and columns
1 and 2, ``json_cls`` to JSON and the keys ``sentence1`` and ``label`` (KLUE-NLI, JNLI).
``labels`` fixes the label set and its order; null derives it from the training file. A label
not in the set (e.g. seen only in validation) is reported and scored as an error, never a crash.
"""

import logging

from claf.data.readers.base import InvalidRow
from claf.data.readers.sentence import RowFormat, SentenceReader
from claf.registry import READERS

logger = logging.getLogger(__name__)


class Classification(SentenceReader):
    task = "seq_cls"

    def __init__(self, labels: list | None = None, **options):
        super().__init__(**options)
        self.labels = [str(label) for label in labels] if labels else None

    def options(self):
        return {**super().options(), "labels": self.labels}

    def _parse_label(self, raw, where):
        label = str(raw).strip() if raw is not None else ""
        return label if label else InvalidRow(f"{where}: empty label")

    def helper(self, train_examples):
        if self.labels is None:
            self.labels = sorted({e["label"] for e in train_examples}, key=_label_sort_key)
        return {"labels": self.labels}

    def _add_labels(self, features, examples):
        label_ids = {label: i for i, label in enumerate(self.labels or [])}
        unseen = {}
        for feature, example in zip(features, examples):
            if example.get("label") is not None:
                feature["labels"] = label_ids.get(example["label"], -100)
                if feature["labels"] == -100:
                    unseen[example["label"]] = unseen.get(example["label"], 0) + 1
        if unseen:
            logger.warning(
                "%d examples have labels not seen in training %s (known: %s); they are not trained on "
                "and count as errors",
                sum(unseen.values()),
                dict(list(unseen.items())[:10]),
                self.labels,
            )
        self.unseen_labels = unseen


@READERS.register("seq_cls")
class SeqClsReader(RowFormat, Classification):
    """One example per row: a line of a delimited file (a quoted field may span lines) or a JSON record."""


@READERS.register("json_cls")
class JsonClsReader(RowFormat, Classification):
    """One example per JSON record; columns are keys (dotted for nested ones)."""

    fallback_format = "json"

    def __init__(self, text_column="sentence1", label_column="label", text_pair_column=None, **options):
        super().__init__(
            text_column=text_column, label_column=label_column, text_pair_column=text_pair_column, **options
        )


def _label_sort_key(label):
    try:
        return (0, float(label), label)
    except ValueError:
        return (1, 0.0, label)
