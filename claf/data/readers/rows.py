"""Row sources shared by the readers: delimited text and JSON (an array or JSON lines).

Both yield ``(line_no, record)`` where a record is a list of fields (delimited) or a dict (JSON),
so a reader can name a bad row as ``file:line``. A row that cannot be parsed at all is yielded
as an ``InvalidRow`` (skippable); a file whose structure is broken raises it.
"""

import json

from claf.data.readers.base import InvalidRow
from claf.data.sources import open_text

BOM = "\ufeff"


def delimited_rows(path, delimiter="\t", header=True):
    """``(names or None, iterator of (line_no, fields))``; the header and a UTF-8 BOM are consumed."""
    f = open_text(path)
    lines = enumerate(f, start=1)
    names = None
    if header:
        first = next(lines, None)
        if first is None:
            f.close()
            raise InvalidRow(f"{path}:1: empty file; expected a header row")
        names = first[1].lstrip(BOM).rstrip("\r\n").split(delimiter)

    def rows():
        with f:
            for line_no, line in lines:
                line = line.rstrip("\r\n")
                if line_no == 1:
                    line = line.lstrip(BOM)
                if not line.strip():
                    continue
                yield line_no, line.split(delimiter)

    return names, rows()


def column_index(spec, names, path, option):
    """A column given as a 0-based index or a header name -> its index (None stays None)."""
    if spec is None or isinstance(spec, int):
        return spec
    if names is None or spec not in names:
        where = f"header {names}" if names is not None else "a file read without a header (header: false)"
        raise InvalidRow(f"{path}:1: {option} '{spec}' is not in {where}; set {option} to a column name or "
                         "a 0-based index")
    return names.index(spec)


def json_records(path):
    """Records of a JSON array file or a JSON-lines file, each with the line it starts on."""
    with open_text(path) as f:
        text = f.read().lstrip(BOM)
    start = len(text) - len(text.lstrip())
    if text[start:start + 1] == "[":
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
    for line_no, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            yield line_no, json.loads(line)
        except json.JSONDecodeError as e:
            yield line_no, InvalidRow(f"{path}:{line_no}: invalid JSON line ({e.msg})")


def lookup(record, key):
    """``record[key]`` where ``key`` may be dotted (``labels.label``); KeyError names the missing part."""
    value = record
    for part in str(key).split("."):
        if not isinstance(value, dict) or part not in value:
            raise KeyError(part)
        value = value[part]
    return value
