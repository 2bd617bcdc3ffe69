"""BERT-style indexing: [CLS] a [SEP] (b [SEP]) -> input_ids, token_type_ids, attention_mask."""

from claf.registry import INDEXERS

CHUNK = 4096  # examples per tokenizer call: the bar moves, the batch stays large enough to be fast


@INDEXERS.register("bert")
class BertIndexer:
    def __init__(self, truncation="longest_first"):
        self.truncation = truncation

    def index(self, tokenizer, texts, text_pairs=None, max_length=512):
        """Batch-index texts (no padding: batches are padded dynamically), in chunks under a progress bar."""
        from claf.progress import bar

        texts = list(texts)
        pairs = list(text_pairs) if text_pairs is not None else None
        features = []
        with bar(total=len(texts), desc="featurizing", unit=" examples") as progress:
            for start in range(0, len(texts), CHUNK):
                encoded = tokenizer(
                    texts[start : start + CHUNK],
                    pairs[start : start + CHUNK] if pairs else None,
                    truncation=self.truncation,
                    max_length=max_length,
                    padding=False,
                )
                features += [dict(zip(encoded.keys(), values)) for values in zip(*encoded.values())]
                progress.update(len(texts[start : start + CHUNK]))
        return features

    def index_with_stride(self, tokenizer, questions, contexts, max_length, stride):
        """Question + long context split into overlapping windows, with character offsets."""
        return tokenizer(
            list(questions),
            list(contexts),
            truncation="only_second",
            max_length=max_length,
            stride=stride,
            return_overflowing_tokens=True,
            return_offsets_mapping=True,
            padding=False,
        )
