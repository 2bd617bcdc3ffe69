"""Python word splitting that keeps offsets: a ``tokenizers`` custom pre-tokenizer from a span function.

``spans(text) -> [(start, end), ...]`` names the units of one piece of (normalised) text;
slicing the ``NormalizedString`` keeps each unit aligned to the original text, so offsets
stay exact whatever the normaliser changed.
"""


class SpanPreTokenizer:
    def __init__(self, spans):
        self.spans = spans

    def _split(self, index, normalized):
        return [normalized[start:end] for start, end in self.spans(str(normalized))]

    def pre_tokenize(self, pretok):
        pretok.split(self._split)


def align(text, surfaces):
    """Spans of ``surfaces`` found in order in ``text`` (analysers drop whitespace); unfound ones are skipped."""
    spans, cursor = [], 0
    for surface in surfaces:
        if not surface:
            continue
        start = text.find(surface, cursor)
        if start < 0:
            continue
        spans.append((start, start + len(surface)))
        cursor = start + len(surface)
    return spans
