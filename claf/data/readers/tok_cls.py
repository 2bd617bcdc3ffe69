"""Token classification from BIO-tagged files: one unit and its tag per line, sentences split by a blank line.

``unit: char`` reads KLUE-NER (each line one character, spaces included); ``unit: word`` reads
CoNLL-style files (the words are joined by single spaces). Lines starting with
``comment_prefix`` are comments; a comment ``## <id>\t...`` right before a sentence names it.
``format`` ``tsv`` (the default) splits each line at the delimiter, ``csv`` parses each line with
the ``csv`` module (a quoted unit may hold the delimiter: ``",",O``). ``jsonl`` / ``json`` read one
sentence per record: ``token_column`` and ``label_column`` are keys of two equally long lists
(``{"tokens": [...], "tags": ["B-PS", ...]}``; integer tags index ``labels``), ``id_column`` names it.

Labels are aligned from units to sub-words through the tokenizer's character offsets: the first
sub-word that starts inside a unit carries that unit's tag, every other sub-word -100 (ignored
by the loss). ``token_units`` keeps, per sub-word, the units it covers, so the head can decode
predictions back to one tag per unit.
"""

import csv
import logging
import re

from claf.data.readers.base import InvalidRow, Reader, ReaderOptionError
from claf.data.readers.rows import DELIMITED, FORMATS, dialect, file_format, json_records, lookup
from claf.data.sources import open_text
from claf.errors import InputError
from claf.metrics.spec import plain
from claf.registry import READERS

logger = logging.getLogger(__name__)

TAG = re.compile(r"^(O|[BI]-\S+)$")


@READERS.register("tok_cls")
class TokClsReader(Reader):
    task = "tok_cls"

    def __init__(
        self,
        unit="char",
        token_column=0,
        label_column=1,
        delimiter=None,
        comment_prefix="##",
        max_seq_length=128,
        labels=None,
        metrics=None,
        indexer="bert",
        lang_code=None,
        skip_invalid=False,
        format=None,
        quotechar=None,
        escapechar=None,
        id_column=None,
    ):
        super().__init__(skip_invalid=skip_invalid, lang_code=lang_code)
        if unit not in ("char", "word"):
            raise ReaderOptionError(f"{self.key('unit')} must be 'char' or 'word', got {unit!r}")
        if format is not None and format not in FORMATS:
            raise ReaderOptionError(
                f"{self.key('format')} must be one of {', '.join(FORMATS)} or null (from the "
                f"file's extension), got {format!r}"
            )
        self.unit = unit
        self.token_column = token_column
        self.label_column = label_column
        self.id_column = id_column
        self.format, self.delimiter, self.quotechar, self.escapechar = format, delimiter, quotechar, escapechar
        self.comment_prefix = comment_prefix
        self.max_seq_length = max_seq_length
        self.labels = list(labels) if labels else None
        self.metrics = [plain(m) for m in metrics] if metrics else ["ner_entity_f1", "ner_char_f1"]
        self.indexer_name = indexer  # sub-word offsets come from the tokenizer itself

    def options(self):
        return {
            "unit": self.unit,
            "token_column": self.token_column,
            "label_column": self.label_column,
            "delimiter": self.delimiter,
            "comment_prefix": self.comment_prefix,
            "format": self.format,
            "quotechar": self.quotechar,
            "escapechar": self.escapechar,
            "id_column": self.id_column,
            "max_seq_length": self.max_seq_length,
            "labels": self.labels,
            "metrics": self.metrics,
            "indexer": self.indexer_name,
            "lang_code": self.lang_code,
        }

    # ---- reading -----------------------------------------------------------------------
    def _read_rows(self, path):
        fmt = self.format or file_format(path)
        if fmt not in DELIMITED:
            yield from self._json_rows(path, fmt)
            return
        options = dialect(fmt, self.delimiter, self.quotechar, self.escapechar, key=self.key)
        split = (
            (lambda line: line.split(options["delimiter"]))
            if options["quoting"] == csv.QUOTE_NONE and not options["escapechar"]
            else (lambda line: next(csv.reader([line], **options)))
        )
        units, tags, error, start, name, count = [], [], None, None, None, 0
        with open_text(path, encoding="utf-8-sig") as f:
            for line_no, line in enumerate(f, start=1):
                line = line.rstrip("\r\n")
                if not line:
                    if units or error:
                        count += 1
                        yield error or self._example(units, tags, start, name or str(count))
                    units, tags, error, start, name = [], [], None, None, None
                    continue
                if self.comment_prefix and line.startswith(self.comment_prefix):
                    if not units:
                        name = _comment_id(line[len(self.comment_prefix) :]) or name
                    continue
                start = start or line_no
                if error is None:
                    try:
                        fields = split(line)
                    except csv.Error as e:
                        error = InvalidRow(f"{path}:{line_no}: malformed {fmt} line ({e}); one unit per line")
                        continue
                    error = self._parse_line(fields, line, path, line_no, units, tags)
        if units or error:
            count += 1
            yield error or self._example(units, tags, start, name or str(count))

    def _parse_line(self, fields, line, path, line_no, units, tags):
        """Append the line's unit and tag; an ``InvalidRow`` (for the whole sentence) if malformed."""
        try:
            unit, tag = fields[self.token_column], fields[self.label_column].strip()
        except (IndexError, TypeError):
            return InvalidRow(
                f"{path}:{line_no}: expected a unit and a tag in columns {self.token_column} and "
                f"{self.label_column} ({self.key('token_column')}, {self.key('label_column')}), "
                f"got {line!r}"
            )
        return self._add_unit(unit, tag, path, line_no, units, tags)

    def _add_unit(self, unit, tag, path, line_no, units, tags):
        if self.unit == "char" and len(unit) != 1:
            return InvalidRow(f"{path}:{line_no}: expected one character per line (unit: char), got {unit!r}")
        if self.unit == "word" and (not unit or unit != unit.strip() or " " in unit):
            return InvalidRow(f"{path}:{line_no}: expected one word without spaces (unit: word), got {unit!r}")
        if not TAG.match(tag):
            return InvalidRow(f"{path}:{line_no}: tag {tag!r} is not BIO (O, B-<type> or I-<type>)")
        units.append(unit)
        tags.append(tag)
        return None

    def _json_rows(self, path, fmt):
        columns = {"token_column": self.token_column, "label_column": self.label_column, "id_column": self.id_column}
        for option, spec in columns.items():
            if isinstance(spec, int):
                raise ReaderOptionError(
                    f"{path}: {self.key(option)} is the index {spec}, but {fmt} records are "
                    f'named by key; set it to a key (e.g. "tokens" and "tags")'
                )
        for count, item in enumerate(json_records(path, fmt), start=1):
            if isinstance(item, InvalidRow):
                yield item
                continue
            line_no, record = item
            where = f"{path}:{line_no}"
            try:
                units, raw_tags = lookup(record, self.token_column), lookup(record, self.label_column)
                name = lookup(record, self.id_column) if self.id_column is not None else count
            except KeyError as e:
                yield InvalidRow(
                    f"{where}: missing key {e.args[0]!r}"
                    + (f" (record has {sorted(record)})" if isinstance(record, dict) else "")
                )
                continue
            if not (isinstance(units, list) and isinstance(raw_tags, list) and len(units) == len(raw_tags)):
                yield InvalidRow(
                    f"{where}: {self.token_column!r} and {self.label_column!r} must be lists of the same length"
                )
                continue
            kept, tags, error = [], [], None
            for unit, tag in zip(units, raw_tags):
                if isinstance(tag, int) and self.labels and 0 <= tag < len(self.labels):
                    tag = self.labels[tag]
                if not isinstance(unit, str) or not isinstance(tag, str):
                    error = InvalidRow(
                        f"{where}: units must be strings and tags BIO strings (or indices of "
                        f"{self.key('labels')}), got {unit!r} / {tag!r}"
                    )
                    break
                error = self._add_unit(unit, tag.strip(), path, line_no, kept, tags)
                if error is not None:
                    break
            if error is None and not kept:
                error = InvalidRow(f"{where}: empty sentence")
            yield error or self._example(kept, tags, line_no, str(name))

    def _example(self, units, tags, line, name):
        example = self._from_units(units, name)
        example.update(tags=tags, line=line)
        return example

    def _from_units(self, units, name):
        joiner = "" if self.unit == "char" else " "
        spans, position = [], 0
        for unit in units:
            spans.append((position, position + len(unit)))
            position += len(unit) + len(joiner)
        return {"id": str(name), "units": list(units), "text": joiner.join(units), "spans": spans, "tags": None}

    def example_from_input(self, record, index=0):
        text = record.get("text")
        if not isinstance(text, str) or not text.strip():
            raise InputError(f"input {index}: missing 'text' (got keys {sorted(record)})")
        units = list(text) if self.unit == "char" else text.split()
        return self._from_units(units, record.get("id", index))

    def helper(self, train_examples):
        if self.labels is None:
            found = {t for e in train_examples for t in e["tags"]}
            self.labels = sorted(found - {"O"}, key=lambda t: (t[2:], t[0])) + ["O"]
        return {"labels": self.labels}

    # ---- features ------------------------------------------------------------------------
    def featurize(self, examples, tokenizer):
        label_ids = {label: i for i, label in enumerate(self.labels or [])}
        encoded = tokenizer(
            [e["text"] for e in examples],
            return_offsets_mapping=True,
            truncation=True,
            max_length=self.max_seq_length,
            padding=False,
        )
        features, unseen = [], {}
        for i, example in enumerate(examples):
            feature = {k: encoded[k][i] for k in ("input_ids", "token_type_ids", "attention_mask") if k in encoded}
            token_units, firsts = align(example["spans"], encoded["offset_mapping"][i])
            feature.update(example_index=i, token_units=token_units)
            if example.get("tags") is not None:
                labels = []
                for first in firsts:
                    tag = example["tags"][first] if first is not None else None
                    labels.append(-100 if tag is None else label_ids.get(tag, -100))
                    if tag is not None and tag not in label_ids:
                        unseen[tag] = unseen.get(tag, 0) + 1
                feature["labels"] = labels
            features.append(feature)
        if unseen:
            logger.warning(
                "tags not seen in training %s (known: %s); they are not trained on and count as errors",
                unseen,
                self.labels,
            )
        return features


def align(spans, offsets):
    """Per sub-word: the ``(first, last)`` units it covers (None for special tokens), and the unit
    whose tag it carries (only the first sub-word starting in a unit carries one, else None)."""
    owner = {}
    for u, (start, end) in enumerate(spans):
        for c in range(start, end):
            owner[c] = u
    token_units, firsts, labelled = [], [], set()
    for start, end in offsets:
        covered = [owner[c] for c in range(start, end) if c in owner]
        if start == end or not covered:
            token_units.append(None)
            firsts.append(None)
            continue
        token_units.append((covered[0], covered[-1]))
        first = covered[0] if covered[0] not in labelled and owner.get(start) == covered[0] else None
        labelled.add(covered[0])
        firsts.append(first)
    return token_units, firsts


def _comment_id(comment):
    text = comment.strip()
    return text.split("\t")[0].strip() if "\t" in text else None
