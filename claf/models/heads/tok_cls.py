"""Token classification head (NER): one tag per sub-word, decoded back to one tag per unit.

The reader aligns unit tags to sub-words (``token_units``: the units each sub-word covers). A
unit takes the tag of the first sub-word starting in it; the other units a sub-word covers
(characters inside a multi-character sub-word) continue its entity (``B-X`` -> ``I-X``); a
unit no sub-word covers (a space, text cut off by ``max_seq_length``) continues an entity that
goes on after it, else is ``O``.
"""

from claf.metrics.ner import entities
from claf.models.heads.label_head import LabelHead
from claf.registry import MODELS


@MODELS.register("bert_for_tok_cls")
class BertForTokCls(LabelHead):
    auto_class = "AutoModelForTokenClassification"

    def feature_results(self, outputs, batch):
        best = outputs.logits.float().argmax(-1).tolist()
        lengths = batch["attention_mask"].sum(-1).tolist()
        return [row[:n] for row, n in zip(best, lengths)]

    def predictions(self, examples, features, results):
        tags = [None] * len(examples)
        for feature, result in zip(features, results):
            tags[feature["example_index"]] = decode(
                feature["token_units"],
                [self.labels[i] for i in result],
                len(examples[feature["example_index"]]["units"]),
            )
        return tags

    def references(self, examples):
        return [e["tags"] for e in examples]

    def present(self, example, prediction):
        spans = example["spans"]
        found = [
            {
                "type": kind,
                "start": spans[s][0],
                "end": spans[e - 1][1],
                "text": example["text"][spans[s][0] : spans[e - 1][1]],
            }
            for kind, s, e in entities(prediction)
        ]
        return {"id": example["id"], "tags": prediction, "entities": found}


def continuation(tag):
    return "I-" + tag[2:] if tag.startswith(("B-", "I-")) else tag


def decode(token_units, token_tags, num_units):
    """Sub-word tags -> one tag per unit (see the module docstring)."""
    tags = [None] * num_units
    for units, tag in zip(token_units, token_tags):
        if units is None:
            continue
        first, last = units
        if tags[first] is None:
            tags[first] = tag
        for u in range(first + 1, last + 1):
            if tags[u] is None:
                tags[u] = continuation(tag)
    return _fill_gaps(tags)


def _fill_gaps(tags):
    """Units no sub-word covers (spaces, cut-off text): inside an entity that continues after the gap
    they continue it ('2021년 3월' is one DT entity across the space), otherwise ``O``."""
    out = list(tags)
    for i, tag in enumerate(out):
        if tag is not None:
            continue
        previous = out[i - 1] if i > 0 else None
        following = next((t for t in out[i + 1 :] if t is not None), None)
        inside = previous not in (None, "O") and following is not None and following.startswith("I-")
        out[i] = continuation(previous) if inside and following[2:] == previous[2:] else "O"
    return out
