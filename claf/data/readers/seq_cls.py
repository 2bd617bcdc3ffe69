"""Sequence classification from delimited text files (NSMC, SST-2, ...)."""

import logging

from claf.data.readers.base import InvalidRow, Reader
from claf.data.sources import open_text
from claf.registry import INDEXERS, READERS

logger = logging.getLogger(__name__)


@READERS.register("seq_cls")
class SeqClsReader(Reader):
    """One example per line. Columns are header names or 0-based indices.

    ``labels`` fixes the label set and its order; null derives it from the training file.
    """

    task = "seq_cls"
    metrics = ("accuracy",)

    def __init__(self, text_column=1, label_column=2, text_pair_column=None, header=True, delimiter="\t",
                 max_seq_length=128, labels=None, indexer="bert", lang_code=None, skip_invalid=False):
        super().__init__(skip_invalid=skip_invalid, lang_code=lang_code)
        self.text_column = text_column
        self.text_pair_column = text_pair_column
        self.label_column = label_column
        self.header = header
        self.delimiter = delimiter
        self.max_seq_length = max_seq_length
        self.labels = list(labels) if labels else None
        self.indexer_name = indexer
        self.indexer = INDEXERS.get(indexer)()

    def options(self):
        return {"text_column": self.text_column, "label_column": self.label_column,
                "text_pair_column": self.text_pair_column, "header": self.header, "delimiter": self.delimiter,
                "max_seq_length": self.max_seq_length, "labels": self.labels, "indexer": self.indexer_name,
                "lang_code": self.lang_code}

    def _column(self, spec, names, path):
        if spec is None or isinstance(spec, int):
            return spec
        if names is None or spec not in names:
            raise InvalidRow(f"{path}:1: column '{spec}' not in header {names}; set the reader's column names or indices")
        return names.index(spec)

    def _read_rows(self, path):
        with open_text(path) as f:
            lines = iter(enumerate(f, start=1))
            names = next(lines)[1].rstrip("\n").split(self.delimiter) if self.header else None
            text_i = self._column(self.text_column, names, path)
            pair_i = self._column(self.text_pair_column, names, path)
            label_i = self._column(self.label_column, names, path)
            needed = max(i for i in (text_i, pair_i, label_i) if i is not None)
            for line_no, line in lines:
                fields = line.rstrip("\r\n").split(self.delimiter)
                if len(fields) <= needed:
                    yield InvalidRow(f"{path}:{line_no}: expected at least {needed + 1} columns, got {len(fields)}")
                    continue
                label = fields[label_i].strip() if label_i is not None else None
                if label_i is not None and not label:
                    yield InvalidRow(f"{path}:{line_no}: empty label")
                    continue
                yield {"id": str(line_no), "line": line_no, "text": fields[text_i],
                       "text_pair": fields[pair_i] if pair_i is not None else None, "label": label}

    def helper(self, train_examples):
        if self.labels is None:
            self.labels = sorted({e["label"] for e in train_examples}, key=_label_sort_key)
        return {"labels": self.labels}

    def featurize(self, examples, tokenizer):
        label_ids = {label: i for i, label in enumerate(self.labels or [])}
        pairs = [e["text_pair"] or "" for e in examples] if self.text_pair_column is not None else None
        features = self.indexer.index(tokenizer, [e["text"] for e in examples], pairs, self.max_seq_length)
        unseen = 0
        for i, (feature, example) in enumerate(zip(features, examples)):
            feature["example_index"] = i
            if example.get("label") is not None:
                feature["labels"] = label_ids.get(example["label"], -100)
                unseen += feature["labels"] == -100
        if unseen:
            logger.warning("%d examples have labels not seen in training (%s); they count as errors", unseen,
                           sorted({e["label"] for e in examples} - set(label_ids))[:10])
        return features

    def example_from_input(self, record, index=0):
        """A raw prediction input ``{"text": ..., "text_pair": ...}`` -> example."""
        if "text" not in record:
            raise ValueError(f"input {index}: missing 'text' (got keys {sorted(record)})")
        return {"id": str(record.get("id", index)), "text": record["text"],
                "text_pair": record.get("text_pair"), "label": None}


def _label_sort_key(label):
    try:
        return (0, float(label), label)
    except ValueError:
        return (1, 0.0, label)
