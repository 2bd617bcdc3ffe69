"""Sentence (pair) tasks: one text, optionally a second one, and one label per example.

A reader here is a label kind (a class, a number) reading rows of any ``RowFormat``: ``tsv``,
``csv``, ``jsonl`` or ``json`` (see ``claf.data.readers.rows``). Columns are header names or
0-based indices for delimited files and (dotted) keys for JSON records. Bad rows become
``InvalidRow`` with ``file:line``.
"""

import logging

from claf.config.specs.split import HoldoutSplit
from claf.data.readers.base import InvalidRow, Reader, ReaderOptionError
from claf.data.readers.rows import (
    DELIMITED,
    FORMATS,
    column_index,
    delimited_rows,
    dialect,
    file_format,
    json_records,
    lookup,
    open_delimited,
    spelled,
)
from claf.errors import InputError
from claf.metrics.spec import plain
from claf.registry import INDEXERS

logger = logging.getLogger(__name__)

ROLES = ("text", "text_pair", "label", "id")


class RowFormat:
    """Rows of a delimited file (``tsv``, ``csv``) or JSON records (``jsonl``, ``json``).

    ``format`` null takes each file's format from its extension (``.csv``, ``.tsv``, ``.jsonl``,
    ``.json``; anything else is ``fallback_format``). ``header``: the first row of a delimited file
    names the columns. ``delimiter``, ``quotechar`` and ``escapechar`` null take the format's
    defaults (tsv: tab, no quoting; csv: comma, ``"``); ``quotechar: ""`` turns quoting off.
    """

    fallback_format = "tsv"
    option_functions = ("_format_init",)  # the constructor's **format_options are this method's parameters

    def _format_init(self, format=None, header=True, delimiter=None, quotechar=None, escapechar=None):
        if format is not None and format not in FORMATS:
            raise ReaderOptionError(
                f"{self.key('format')} must be one of {', '.join(FORMATS)} or null (from the "
                f"file's extension), got {format!r}"
            )
        delimiter, quotechar, escapechar = spelled(delimiter), spelled(quotechar), spelled(escapechar)
        for name, value, empty_ok in (
            ("delimiter", delimiter, False),
            ("quotechar", quotechar, True),
            ("escapechar", escapechar, False),
        ):
            if value is not None and not (isinstance(value, str) and (len(value) == 1 or (empty_ok and not value))):
                raise ReaderOptionError(
                    f"{self.key(name)} must be one character{' or empty' if empty_ok else ''} "
                    f"or null (the format's default), got {value!r}"
                )
        if not isinstance(header, bool):
            raise ReaderOptionError(f"{self.key('header')} must be true or false, got {header!r}")
        self.format, self.header = format, header
        self.delimiter, self.quotechar, self.escapechar = delimiter, quotechar, escapechar

    def _format_options(self):
        return {
            "format": self.format,
            "header": self.header,
            "delimiter": self.delimiter,
            "quotechar": self.quotechar,
            "escapechar": self.escapechar,
        }

    def file_format(self, path):
        return self.format or file_format(path, self.fallback_format)

    def _records(self, path):
        fmt = self.file_format(path)
        return self._delimited(path, fmt) if fmt in DELIMITED else self._json(path, fmt)

    def _delimited(self, path, fmt):
        options = dialect(fmt, self.delimiter, self.quotechar, self.escapechar, key=self.key)
        with open_delimited(path) as f:
            names, rows = delimited_rows(f, path, self.header, **options)
            index = {
                role: column_index(spec, names, path, self.key(f"{role}_column"))
                for role, spec in self._columns().items()
            }
            needed = max(i for i in index.values() if i is not None)
            for item in rows:
                if isinstance(item, InvalidRow):
                    yield item
                    continue
                line_no, fields = item
                if len(fields) <= needed:
                    hint = (
                        f" (is the file {fmt}? set {self.key('format')} or {self.key('delimiter')})"
                        if len(fields) == 1
                        else ""
                    )
                    yield InvalidRow(
                        f"{path}:{line_no}: expected at least {needed + 1} columns separated by "
                        f"{options['delimiter']!r} ({fmt}), got {len(fields)}{hint}"
                    )
                    continue
                yield line_no, {role: fields[i] if i is not None else None for role, i in index.items()}

    def _json(self, path, fmt):
        by_index = [role for role, spec in self._columns().items() if isinstance(spec, int)]
        if by_index:
            role = by_index[0]
            raise ReaderOptionError(
                f"{path}: {self.key(role + '_column')} is the index {self._columns()[role]}, "
                f"but {fmt} records are named by key; set it to a key of the records"
            )
        for item in json_records(path, fmt):
            if isinstance(item, InvalidRow):
                yield item
                continue
            line_no, record = item
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
                yield InvalidRow(
                    f"{path}:{line_no}: missing key(s) {', '.join(map(repr, missing))} (record has {sorted(record)})"
                )
                continue
            yield line_no, values


class SentenceReader(Reader):
    """Shared by classification and regression: columns, indexing, prediction inputs."""

    task = "seq_cls"
    default_metrics = ("accuracy",)

    def __init__(
        self,
        text_column=1,
        label_column=2,
        text_pair_column=None,
        id_column=None,
        max_seq_length=128,
        metrics=None,
        indexer="bert",
        lang_code=None,
        skip_invalid=False,
        skip_empty=False,
        split: HoldoutSplit | None = None,
        **format_options,
    ):
        super().__init__(skip_invalid=skip_invalid, lang_code=lang_code)
        self.split = HoldoutSplit.model_validate(split) if isinstance(split, dict) else split
        self._format_init(**format_options)
        self.skip_empty = bool(skip_empty)
        self.skipped_empty = 0
        self.text_column = text_column
        self.text_pair_column = text_pair_column
        self.label_column = label_column
        self.id_column = id_column
        self.max_seq_length = max_seq_length
        self.metrics = [plain(m) for m in metrics] if metrics else list(self.default_metrics)
        self.indexer_name = indexer
        self.indexer = INDEXERS.get(indexer)()

    def _columns(self):
        return {
            "text": self.text_column,
            "text_pair": self.text_pair_column,
            "label": self.label_column,
            "id": self.id_column,
        }

    def options(self):
        return {
            "text_column": self.text_column,
            "text_pair_column": self.text_pair_column,
            "label_column": self.label_column,
            "id_column": self.id_column,
            "max_seq_length": self.max_seq_length,
            "metrics": self.metrics,
            "indexer": self.indexer_name,
            "lang_code": self.lang_code,
            "skip_empty": self.skip_empty,
            **self._format_options(),
        }

    def _read_rows(self, path):
        empty, seen = 0, set()
        for item in self._records(path):
            if isinstance(item, InvalidRow):
                yield item
                continue
            line_no, values = item
            where = f"{path}:{line_no}"
            texts = [role for role in ("text", "text_pair") if self._columns()[role] is not None]
            non_text = [role for role in texts if not isinstance(values[role], str)]
            if non_text:
                yield InvalidRow(
                    f"{where}: {' and '.join(non_text)} is not text (got {type(values[non_text[0]]).__name__})"
                )
                continue
            blank = [role for role in texts if not values[role].strip()]
            if blank and self.skip_empty:
                empty += 1
                logger.debug("%s: skipped, empty %s", where, " and ".join(blank))
                continue
            if blank:
                yield InvalidRow(
                    f"{where}: empty {' and '.join(blank)} (set {self.key('skip_empty')} true to drop "
                    "rows with empty text)"
                )
                continue
            label = None
            if self.label_column is not None:
                label = self._parse_label(values["label"], where)
                if isinstance(label, InvalidRow):
                    yield label
                    continue
            row_id = values.get("id")
            row_id = str(row_id) if row_id not in (None, "") else str(line_no)
            if row_id in seen:  # an id column that is not unique (KorSTS numbers rows per genre): add the line
                row_id = f"{row_id}@{line_no}"
            seen.add(row_id)
            yield {
                "id": row_id,
                "line": line_no,
                "text": values["text"],
                "text_pair": values["text_pair"],
                "label": label,
            }
        self.skipped_empty += empty
        if empty:
            logger.warning("%s: dropped %d row(s) with empty text (%s is true)", path, empty, self.key("skip_empty"))

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
            raise InputError(
                f"input {index}: missing {' and '.join(map(repr, missing))} (this model reads {kind}; "
                f"got keys {sorted(record)})"
            )
        return {
            "id": str(record.get("id", index)),
            "text": record["text"],
            "text_pair": record.get("text_pair"),
            "label": None,
        }

    # label kinds implement these
    def _parse_label(self, raw, where):
        raise NotImplementedError

    def _add_labels(self, features, examples):
        raise NotImplementedError
