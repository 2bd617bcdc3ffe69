"""Source text -> documents -> sentences.

A source file holds one document per line (``document_separator: "line"``), or documents
separated by blank lines with one or more sentences per line (``"blank_line"``). A tab-separated
file can give the text in one column (``text_column``, with ``header`` to skip its first row), or
in several (``text_columns``: each row's columns are consecutive sentences of one document, e.g. a
sentence-pair task's unlabeled train inputs).
Sentences are split after ., !, ? or … followed by whitespace; empty ones are dropped.

``corpus.files`` entries are paths, or objects ``{"path": ..., <any option below>}`` that override
the corpus block's options for that file; ``repeat: N`` writes the file's documents N times, each
pass in its own seeded shuffled order (the file is read into memory: meant for task-sized files).
"""

import random
import re

from claf.errors import UserError

SEPARATORS = ("line", "blank_line")
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")


class CorpusError(UserError, ValueError):
    """A corpus option or file is unusable: one line naming it and the fix."""


def split_sentences(text, enabled=True):
    text = text.strip()
    if not text:
        return []
    if not enabled:
        return [text]
    return [s for s in _SENTENCE_END.split(text) if s]


SOURCE_DEFAULTS = {
    "document_separator": "line",
    "text_column": None,
    "text_columns": None,
    "header": False,
    "line_limit": None,
    "sentence_split": True,
}
SOURCE_KEYS = ("path", *SOURCE_DEFAULTS, "repeat")


def corpus_sources(files, **defaults):
    """``corpus.files`` entries -> one dict per file: ``path``, ``repeat`` and ``iter_documents``' options
    (``text_column`` folded into ``text_columns``).

    A string entry takes the corpus block's options (``defaults``); an object entry overrides them.
    """
    sources = []
    for i, entry in enumerate(files):
        where = f"corpus.files[{i}]"
        spec = {"path": entry} if isinstance(entry, str) else dict(entry.items()) if hasattr(entry, "items") else None
        if spec is None or not isinstance(spec.get("path"), str) or not spec["path"]:
            raise CorpusError(f'{where}: give a file path, or an object with "path" (got {entry!r})')
        unknown = sorted(set(spec) - set(SOURCE_KEYS))
        if unknown:
            raise CorpusError(f"{where}: unknown key '{unknown[0]}'; the keys are {', '.join(SOURCE_KEYS)}")
        if "text_column" in spec and "text_columns" in spec:
            raise CorpusError(f"{where}: give text_column or text_columns, not both")
        merged = {**SOURCE_DEFAULTS, **defaults, "repeat": 1, **spec}
        column = merged.pop("text_column")
        if merged["text_columns"] is None and column is not None:
            merged["text_columns"] = [column]
        _check_source(merged, where)
        if merged["text_columns"] is not None:
            merged["text_columns"] = list(merged["text_columns"])
        sources.append(merged)
    return sources


def _check_source(spec, where):
    repeat = spec["repeat"]
    if not isinstance(repeat, int) or isinstance(repeat, bool) or repeat < 1:
        raise CorpusError(f"{where}.repeat must be a whole number >= 1, got {repeat!r}")
    columns = spec["text_columns"]
    if columns is not None and (
        not isinstance(columns, (list, tuple))
        or not columns
        or not all(isinstance(c, int) and not isinstance(c, bool) and c >= 0 for c in columns)
    ):
        raise CorpusError(
            f"{where}.text_column(s) must be column numbers (0 = first; text_columns a list), got {columns!r}"
        )


def source_documents(spec, name, seed=0):
    """The documents of one ``corpus_sources`` entry, ``repeat`` passes (shuffled when more than one)."""
    options = {k: v for k, v in spec.items() if k not in ("path", "repeat")}
    docs = iter_documents(spec["path"], name=name, **options)
    if spec["repeat"] == 1:
        yield from docs
        return
    docs, last = list(docs), None
    for n in range(spec["repeat"]):
        order = list(range(len(docs)))
        random.Random(f"{seed}:{name}:{n}").shuffle(order)
        if len(order) > 1 and order[0] == last:  # a pass never starts with the document the last one ended on
            order.append(order.pop(0))
        last = order[-1] if order else None
        for i in order:
            yield docs[i]


def iter_documents(
    path, document_separator="line", text_columns=None, header=False, line_limit=None, sentence_split=True, name=None
):
    """Yield each document of a text file as a list of sentence strings."""
    if document_separator not in SEPARATORS:
        raise CorpusError(f"corpus.document_separator '{document_separator}' is not one of {', '.join(SEPARATORS)}")
    name = name or str(path)
    current = []
    with open(path, encoding="utf-8") as f:
        for line_no, line in enumerate(f, 1):
            if line_limit is not None and line_no > line_limit:
                break
            if header and line_no == 1:
                continue
            line = line.rstrip("\n")
            if text_columns is None:
                sentences = split_sentences(line, sentence_split)
            else:
                fields = line.split("\t")
                missing = [c for c in text_columns if c >= len(fields)]
                if missing:
                    raise CorpusError(
                        f"{name}:{line_no}: no column {missing[0]} (the row has {len(fields)}); "
                        f"fix corpus.text_column(s) or the file"
                    )
                sentences = [s for c in text_columns for s in split_sentences(fields[c], sentence_split)]
            if document_separator == "line":
                if sentences:
                    yield sentences
            elif sentences:
                current.extend(sentences)
            elif current:
                yield current
                current = []
    if current:
        yield current
