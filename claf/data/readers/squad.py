"""Extractive QA in SQuAD v1.1 JSON format (SQuAD, KorQuAD 1.0).

Long contexts are split into overlapping windows of ``max_seq_length`` tokens that share
``context_stride`` tokens; questions are cut to ``max_question_length`` tokens. Each window
keeps the character offsets of its context tokens so answers map back to exact text.
"""

import json

from claf.data.readers.base import InvalidRow, Reader
from claf.data.sources import open_text
from claf.errors import InputError
from claf.registry import INDEXERS, READERS


@READERS.register("squad_bert")
class SquadReader(Reader):
    task = "qa"

    def __init__(
        self,
        lang_code="en",
        max_seq_length=384,
        context_stride=128,
        max_question_length=64,
        indexer="bert",
        skip_invalid=False,
    ):
        super().__init__(skip_invalid=skip_invalid, lang_code=lang_code)
        if context_stride >= max_seq_length - 4:  # a window: [CLS] question (1+ tokens) [SEP] context [SEP]
            from claf.config import ConfigError

            raise ConfigError(
                f"--squad_bert.context_stride {context_stride} must be smaller than the context "
                f"tokens of a window (--squad_bert.max_seq_length {max_seq_length} minus the question "
                f"and 3 special tokens, at most {max_seq_length - 5}): lower context_stride or raise "
                "max_seq_length"
            )
        self.max_seq_length = max_seq_length
        self.context_stride = context_stride
        self.max_question_length = max_question_length
        self.indexer_name = indexer
        self.indexer = INDEXERS.get(indexer)()

    def options(self):
        return {
            "lang_code": self.lang_code,
            "max_seq_length": self.max_seq_length,
            "context_stride": self.context_stride,
            "max_question_length": self.max_question_length,
            "indexer": self.indexer_name,
        }

    @property
    def metrics(self):
        """KorQuAD and JSQuAD score F1 over characters, SQuAD over words."""
        return ({"ko": "korquad_v1", "ja": "jsquad_v1"}.get(self.lang_code, "squad_v1"),)

    def _read_rows(self, path):
        with open_text(path) as f:
            try:
                articles = json.load(f)["data"]
            except (ValueError, KeyError, TypeError) as e:
                raise InvalidRow(f"{path}: not SQuAD JSON with a top-level 'data' list ({e})") from None
        for a, article in enumerate(articles):
            for p, paragraph in enumerate(article.get("paragraphs", [])):
                context = paragraph.get("context", "")
                for q, qa in enumerate(paragraph.get("qas", [])):
                    where = f"{path}:data[{a}].paragraphs[{p}].qas[{q}]"
                    row = _example(qa, context, article.get("title", ""), where)
                    yield row

    def featurize(self, examples, tokenizer, with_labels=True):
        questions = self._cut_questions(tokenizer, [e["question"] for e in examples])
        encoded = self.indexer.index_with_stride(
            tokenizer, questions, [e["context"] for e in examples], self.max_seq_length, self.context_stride
        )
        features = []
        for i in range(len(encoded["input_ids"])):
            example_index = encoded["overflow_to_sample_mapping"][i]
            sequence_ids = encoded.sequence_ids(i)
            offsets = [tuple(o) if s == 1 else None for o, s in zip(encoded["offset_mapping"][i], sequence_ids)]
            feature = {k: encoded[k][i] for k in ("input_ids", "token_type_ids", "attention_mask") if k in encoded}
            feature.update(example_index=example_index, offsets=offsets)
            example = examples[example_index]
            if with_labels and example.get("answer_start") is not None:
                feature["start_positions"], feature["end_positions"] = _token_span(
                    offsets, example["answer_start"], example["answer_start"] + len(example["answers"][0])
                )
            features.append(feature)
        return features

    def _cut_questions(self, tokenizer, questions):
        encoded = tokenizer(questions, add_special_tokens=False, return_offsets_mapping=True)
        cut = []
        # a window must keep more context tokens than the stride: [CLS] q [SEP] c [SEP] with len(c) > stride
        limit = min(self.max_question_length, self.max_seq_length - 3 - self.context_stride - 1)
        for question, offsets in zip(questions, encoded["offset_mapping"]):
            if len(offsets) > limit:
                question = question[: offsets[limit - 1][1]]
            cut.append(question)
        return cut

    def input_fields(self, task=None) -> tuple:
        return ("question", "context")

    def example_from_input(self, record, index=0):
        missing = [k for k in ("question", "context") if not record.get(k)]
        if missing:
            raise InputError(f"input {index}: missing {', '.join(missing)} (got keys {sorted(record)})")
        return {
            "id": str(record.get("id", index)),
            "question": record["question"],
            "context": record["context"],
            "answers": [],
            "answer_start": None,
            "title": record.get("title", ""),
        }


def _example(qa, context, title, where):
    if "id" not in qa or not qa.get("question"):
        return InvalidRow(f"{where}: needs 'id' and 'question'")
    answers = [a.get("text", "") for a in qa.get("answers", [])]
    start = None
    if answers:
        first = qa["answers"][0]
        text, start = first.get("text", ""), first.get("answer_start")
        if not isinstance(start, int) or context[start : start + len(text)] != text:
            found = context.find(text) if text else -1
            if found < 0:
                return InvalidRow(f"{where}: answer '{text[:30]}' not found in its context")
            start = found
    return {
        "id": qa["id"],
        "question": qa["question"],
        "context": context,
        "answers": answers,
        "answer_start": start,
        "title": title,
    }


def _token_span(offsets, char_start, char_end):
    """Token indices covering [char_start, char_end) inside this window, else (0, 0) (the [CLS])."""
    context = [i for i, o in enumerate(offsets) if o is not None]
    if not context or offsets[context[0]][0] > char_start or offsets[context[-1]][1] < char_end:
        return 0, 0
    start = next(i for i in context if offsets[i][1] > char_start)
    end = next(i for i in reversed(context) if offsets[i][0] < char_end)
    return start, end
