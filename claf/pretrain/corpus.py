"""Source text -> documents -> sentences.

A source file holds one document per line (``document_separator: "line"``), or documents
separated by blank lines with one or more sentences per line (``"blank_line"``). A tab-separated
file can give the text in one column (``text_column``, with ``header`` to skip its first row).
Sentences are split after ., !, ? or … followed by whitespace; empty ones are dropped.
"""

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


def iter_documents(
    path, document_separator="line", text_column=None, header=False, line_limit=None, sentence_split=True, name=None
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
            if text_column is not None:
                fields = line.split("\t")
                if text_column >= len(fields):
                    raise CorpusError(
                        f"{name}:{line_no}: no column {text_column} (the row has {len(fields)}); "
                        f"fix corpus.text_column or the file"
                    )
                line = fields[text_column]
            sentences = split_sentences(line, sentence_split)
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
