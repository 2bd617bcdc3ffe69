"""Sentence (pair) tasks: one text, optionally a second one, and one label per example.

A reader here is a row format (delimited text, JSON) crossed with a label kind (a class, a
number). Columns are header names or 0-based indices for delimited files and (dotted) keys
for JSON records. Bad rows become ``InvalidRow`` with ``file:line``.
"""

from claf.errors import InputError
import logging

from claf.data.readers.base import InvalidRow, Reader
from claf.data.readers.rows import column_index, delimited_rows, json_records, lookup
from claf.metrics.spec import plain
from claf.registry import INDEXERS

logger = logging.getLogger(__name__)

ROLES = ("text", "text_pair", "label", "id")


class DelimitedFormat:
    """Rows of a delimited text file (``header``: the first row names the columns)."""

    def _format_init(self, header=True, delimiter="\t"):
        self.header = header
        self.delimiter = delimiter

    def _format_options(self):
        return {"header": self.header, "delimiter": self.delimiter}

    def _records(self, path):
        names, rows = delimited_rows(path, self.delimiter, self.header)
        index = {role: column_index(spec, names, path, f"{role}_column") for role, spec in self._columns().items()}
        needed = max(i for i in index.values() if i is not None)
        for line_no, fields in rows:
            if len(fields) <= needed:
                yield InvalidRow(f"{path}:{line_no}: expected at least {needed + 1} columns separated by "
                                 f"{self.delimiter!r}, got {len(fields)}")
                continue
            yield line_no, {role: fields[i] if i is not None else None for role, i in index.items()}


class JsonFormat:
    """Records of a JSON array or JSON-lines file; columns are (dotted) keys."""

    def _format_init(self):
        pass

    def _format_options(self):
        return {}

    def _records(self, path):
        for line_no, record in json_records(path):
            if isinstance(record, InvalidRow):
                yield record
                continue
            if not isinstance(record, dict):
                yield InvalidRow(f"{path}:{line_no}: expected a JSON object, got {type(record).__name__}")
                continue
            values, missing = {}, []
            for role, key in self._columns().items():
                try:
                    values[role] = lookup(record, key) if key is not None else None
                except KeyError:
                    values[role] = None
                    if role != "id":
                        missing.append(key)
            if missing:
                yield InvalidRow(f"{path}:{line_no}: missing key(s) {', '.join(map(repr, missing))} "
                                 f"(record has {sorted(record)})")
                continue
            yield line_no, values


class SentenceReader(Reader):
    """Shared by classification and regression: columns, indexing, prediction inputs."""

    task = "seq_cls"
    default_metrics = ("accuracy",)

    def __init__(self, text_column=1, label_column=2, text_pair_column=None, id_column=None, max_seq_length=128,
                 metrics=None, indexer="bert", lang_code=None, skip_invalid=False, **format_options):
        super().__init__(skip_invalid=skip_invalid, lang_code=lang_code)
        self._format_init(**format_options)
        self.text_column = text_column
        self.text_pair_column = text_pair_column
        self.label_column = label_column
        self.id_column = id_column
        self.max_seq_length = max_seq_length
        self.metrics = [plain(m) for m in metrics] if metrics else list(self.default_metrics)
        self.indexer_name = indexer
        self.indexer = INDEXERS.get(indexer)()

    def _columns(self):
        return {"text": self.text_column, "text_pair": self.text_pair_column, "label": self.label_column,
                "id": self.id_column}

    def options(self):
        return {"text_column": self.text_column, "text_pair_column": self.text_pair_column,
                "label_column": self.label_column, "id_column": self.id_column,
                "max_seq_length": self.max_seq_length, "metrics": self.metrics, "indexer": self.indexer_name,
                "lang_code": self.lang_code, **self._format_options()}

    def _read_rows(self, path):
        for item in self._records(path):
            if isinstance(item, InvalidRow):
                yield item
                continue
            line_no, values = item
            where = f"{path}:{line_no}"
            bad = [role for role in ("text", "text_pair") if self._columns()[role] is not None
                   and not (isinstance(values[role], str) and values[role].strip())]
            if bad:
                yield InvalidRow(f"{where}: empty or non-text {' and '.join(bad)}")
                continue
            label = None
            if self.label_column is not None:
                label = self._parse_label(values["label"], where)
                if isinstance(label, InvalidRow):
                    yield label
                    continue
            row_id = values.get("id")
            yield {"id": str(row_id) if row_id not in (None, "") else str(line_no), "line": line_no,
                   "text": values["text"], "text_pair": values["text_pair"], "label": label}

    def featurize(self, examples, tokenizer):
        pairs = [e["text_pair"] or "" for e in examples] if self.text_pair_column is not None else None
        features = self.indexer.index(tokenizer, [e["text"] for e in examples], pairs, self.max_seq_length)
        for i, feature in enumerate(features):
            feature["example_index"] = i
        self._add_labels(features, examples)
        return features

    def input_fields(self, task=None) -> tuple:
        return ("text", "text_pair") if self.text_pair_column is not None else ("text",)

    def example_from_input(self, record, index=0):
        """A raw prediction input ``{"text": ..., "text_pair": ...}`` -> example."""
        needed = ("text", "text_pair") if self.text_pair_column is not None else ("text",)
        missing = [k for k in needed if not isinstance(record.get(k), str) or not record[k]]
        if missing:
            kind = "sentence pairs" if len(needed) == 2 else "single texts"
            raise InputError(f"input {index}: missing {' and '.join(map(repr, missing))} (this model reads {kind}; "
                             f"got keys {sorted(record)})")
        return {"id": str(record.get("id", index)), "text": record["text"], "text_pair": record.get("text_pair"),
                "label": None}

    # label kinds implement these
    def _parse_label(self, raw, where):
        raise NotImplementedError

    def _add_labels(self, features, examples):
        raise NotImplementedError
