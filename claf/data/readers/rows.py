"""Row sources shared by the readers: delimited text (TSV, CSV) and JSON (JSON Lines or an array).

Delimited files are parsed by Python's ``csv`` module, so quoting follows the format: ``csv``
fields may be quoted (RFC 4180: ``"a, b"``, ``""`` for a quote, newlines inside quotes);
``tsv`` fields are never quoted (the IANA TSV format: a field holds no tab or newline, and a
``"`` is an ordinary character), unless a ``quotechar`` is given. A UTF-8 BOM and CRLF line
ends are accepted; blank lines are skipped.

Every source yields ``(line_no, record)``: ``line_no`` is the physical line a row starts on
(a quoted newline makes a row span several lines), a record is a list of fields (delimited)
or a dict (JSON), so a reader can name a bad row as ``file:line``. A row that cannot be parsed
is yielded as an ``InvalidRow`` (skippable); a file whose structure is broken raises it.
"""

import csv
import json
import os

from claf.data.readers.base import InvalidRow, ReaderOptionError
from claf.data.sources import open_text

BOM = "\ufeff"
FORMATS = ("tsv", "csv", "jsonl", "json")
DELIMITED = ("tsv", "csv")
EXTENSIONS = {".tsv": "tsv", ".tab": "tsv", ".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json"}
DEFAULT_FORMAT = "tsv"  # .txt and anything else: what the readers always read
ALIASES = {"\\t": "\t", "tab": "\t"}
DEFAULTS = {"tsv": {"delimiter": "\t", "quotechar": None}, "csv": {"delimiter": ",", "quotechar": '"'}}


def file_format(path, fallback=DEFAULT_FORMAT):
    """The row format of ``path`` from its extension (``.gz`` looked through); ``fallback`` if unknown."""
    name = os.fspath(path).lower()
    if name.endswith(".gz"):
        name = name[:-3]
    return EXTENSIONS.get(os.path.splitext(name)[1], fallback)


def spelled(char):
    """A character option as typed on a command line: ``\\t`` and ``tab`` mean a tab."""
    return ALIASES.get(char, char) if isinstance(char, str) else char


def dialect(fmt, delimiter=None, quotechar=None, escapechar=None, key=str):
    """``csv.reader`` keyword arguments for a delimited format. None takes the format's default,
    ``quotechar: ""`` turns quoting off; ``key(option)`` names an option in errors."""
    delimiter, quotechar, escapechar = spelled(delimiter), spelled(quotechar), spelled(escapechar)
    defaults = DEFAULTS[fmt]
    delimiter = defaults["delimiter"] if delimiter is None else delimiter
    quotechar = defaults["quotechar"] if quotechar is None else (quotechar or None)
    if delimiter in ("\r", "\n", quotechar, escapechar):
        raise ReaderOptionError(
            f"{key('delimiter')} {delimiter!r} cannot be a line end, the quote or the escape character"
        )
    options = {"delimiter": delimiter, "escapechar": escapechar, "strict": True}
    if quotechar is None:
        options["quoting"] = csv.QUOTE_NONE
    else:
        options.update(quotechar=quotechar, doublequote=True, quoting=csv.QUOTE_MINIMAL)
    return options


def open_delimited(path):
    """A delimited data file opened for the csv module: untranslated line ends, a UTF-8 BOM dropped."""
    return open_text(path, newline="", encoding="utf-8-sig")


def delimited_rows(f, path, header=True, **csv_options):
    """``(names or None, iterator of (line_no, fields) or InvalidRow)`` of an ``open_delimited`` file;
    the header row is consumed. ``csv_options`` are ``csv.reader`` keyword arguments (see ``dialect``)."""
    reader = csv.reader(f, **csv_options)
    rows = _records(path, reader)
    names = None
    if header:
        first = next(rows, None)
        if first is None:
            raise InvalidRow(f"{path}:1: empty file; expected a header row (or set header false)")
        if isinstance(first, InvalidRow):
            raise InvalidRow(f"{first}; the header row must parse")
        names = [name.strip() for name in first[1]]
    return names, rows


def _records(path, reader):
    """``(first physical line, fields)`` per non-blank row; a csv error becomes an ``InvalidRow``."""
    while True:
        start = reader.line_num + 1
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as e:
            yield InvalidRow(f"{path}:{start}: {_reason(str(e), start, reader.line_num)}")
            continue
        if any(field.strip() for field in fields):
            yield start, fields


def _reason(message, start, end):
    """A csv error message, said in terms of the file."""
    where = f" (the row runs to line {end})" if end > start else ""
    if message.startswith("unexpected end of data"):
        return f"a quoted field opened here is not closed before the end of the file{where}"
    if "expected after" in message:
        return (
            f"malformed quoting: {message} (text follows a closing quote; write a quote inside a quoted field "
            f"as two quotes)"
        )
    if message.startswith("field larger than field limit"):
        return f"a field is longer than {csv.field_size_limit()} characters (an unclosed quote?){where}"
    return f"malformed row: {message}{where}"


def column_index(spec, names, path, option):
    """A column given as a 0-based index or a header name -> its index (None stays None). A string of
    digits that is no header name is an index (``--seq_cls.text_column 0`` types it as a string)."""
    if spec is None or isinstance(spec, int):
        return spec
    if spec.strip().isdigit() and (names is None or spec.strip() not in names):
        return int(spec)
    if names is None or spec.strip() not in names:
        where = f"header {names}" if names is not None else "a file read without a header (header: false)"
        raise InvalidRow(
            f"{path}:1: {option} '{spec}' is not in {where}; set {option} to a column name or a 0-based index"
        )
    return names.index(spec.strip())


def json_records(path, fmt="json"):
    """Records of a JSON Lines file (``jsonl``), or of a JSON array or JSON Lines file (``json``),
    each with the line it starts on."""
    with open_text(path, encoding="utf-8-sig") as f:
        text = f.read().lstrip(BOM)
    start = len(text) - len(text.lstrip())
    if fmt == "json" and text[start : start + 1] == "[":
        yield from _array_records(path, text, start + 1)
    else:
        yield from _json_lines(path, text)


def _array_records(path, text, pos):
    decoder = json.JSONDecoder()
    line, counted = 1, 0
    while True:
        while pos < len(text) and text[pos] in " \t\r\n,":
            pos += 1
        if pos >= len(text):
            raise InvalidRow(f"{path}: the JSON array is not closed with ']'")
        if text[pos] == "]":
            return
        line += text.count("\n", counted, pos)
        counted = pos
        try:
            record, pos = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as e:
            raise InvalidRow(f"{path}:{e.lineno}:{e.colno}: invalid JSON ({e.msg}); fix the file") from None
        yield line, record


def _json_lines(path, text):
    # split on line ends only: str.splitlines() would also split on U+2028 and other
    # characters that JSON strings may hold, and miscount lines
    for line_no, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            yield line_no, json.loads(line)
        except json.JSONDecodeError as e:
            yield InvalidRow(f"{path}:{line_no}: invalid JSON line ({e.msg} at column {e.colno})")


def lookup(record, key):
    """``record[key]`` where ``key`` may be dotted (``labels.label``); KeyError names the missing part."""
    value = record
    for part in str(key).split("."):
        if not isinstance(value, dict) or part not in value:
            raise KeyError(part)
        value = value[part]
    return value
