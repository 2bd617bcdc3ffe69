"""Sentence-pair regression: STS-B, KorSTS (``seq_reg``) and KLUE-STS, JSTS (``json_reg``).

Both read any row format (``format``: tsv, csv, jsonl, json; null: from the file's extension);
``seq_reg`` falls back to tsv, ``json_reg`` to JSON with the keys ``sentence1``, ``sentence2``, ``label``.
"""

import math

from claf.data.readers.base import InvalidRow
from claf.data.readers.sentence import RowFormat, SentenceReader
from claf.registry import READERS


class Regression(SentenceReader):
    task = "seq_reg"
    default_metrics = ("pearson", "spearman")

    def _parse_label(self, raw, where):
        try:
            value = float(raw)
        except (TypeError, ValueError):
            return InvalidRow(f"{where}: label {raw!r} is not a number")
        if not math.isfinite(value):
            return InvalidRow(f"{where}: label {raw!r} is not a finite number")
        return value

    def _add_labels(self, features, examples):
        for feature, example in zip(features, examples):
            if example.get("label") is not None:
                feature["labels"] = float(example["label"])


@READERS.register("seq_reg")
class SeqRegReader(RowFormat, Regression):
    """One scored pair per row (a line of a delimited file or a JSON record)."""


@READERS.register("json_reg")
class JsonRegReader(RowFormat, Regression):
    """One scored pair per JSON record; ``label_column`` may be dotted (``labels.label``)."""

    fallback_format = "json"

    def __init__(self, text_column="sentence1", label_column="label", text_pair_column="sentence2", **options):
        super().__init__(
            text_column=text_column, label_column=label_column, text_pair_column=text_pair_column, **options
        )
