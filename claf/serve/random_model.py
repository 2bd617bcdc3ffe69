"""A randomly initialised, BERT-base-shaped classifier saved as a claf checkpoint (no download).

Speed does not depend on the weights' values, so the latency grid runs on this when no
trained run is given: ``python -m claf bench latency bert-base``.
"""

import json
from pathlib import Path

SHAPES = {  # name -> BertConfig keywords
    "bert-base": {"hidden_size": 768, "num_hidden_layers": 12, "num_attention_heads": 12, "intermediate_size": 3072},
    "bert-large": {"hidden_size": 1024, "num_hidden_layers": 24, "num_attention_heads": 16, "intermediate_size": 4096},
    "bert-tiny": {"hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 2, "intermediate_size": 128},
}
VOCAB_SIZE = 30522
SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def random_checkpoint(shape, root, seed=0) -> Path:
    """``root/<shape>-random``: save_pretrained weights, a WordPiece tokenizer and claf_task.json."""
    import torch
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizer

    from claf.atomic import atomic_dir
    from claf.models.task_file import TASK_FILE

    if shape not in SHAPES:
        raise ValueError(f"unknown model shape {shape!r}; one of {', '.join(SHAPES)}")
    path = Path(root) / f"{shape}-random"
    if (path / TASK_FILE).is_file():
        return path
    torch.manual_seed(seed)
    config = BertConfig(vocab_size=VOCAB_SIZE, max_position_embeddings=512, num_labels=2, **SHAPES[shape])
    labels = ["0", "1"]
    meta = {
        "model": {"name": "bert_for_seq_cls", "options": {"labels": labels, "dropout": None}},
        "data_reader": {
            "dataset": "seq_cls",
            "options": {"text_column": 0, "label_column": 1, "max_seq_length": 512, "labels": labels},
        },
    }
    with atomic_dir(path) as tmp:
        BertForSequenceClassification(config).save_pretrained(tmp)
        vocab = Path(tmp) / "vocab.txt"
        vocab.write_text("\n".join(SPECIALS + [f"w{i}" for i in range(VOCAB_SIZE - len(SPECIALS))]) + "\n")
        BertTokenizer(vocab_file=str(vocab)).save_pretrained(tmp)
        (Path(tmp) / TASK_FILE).write_text(json.dumps(meta, indent=2) + "\n")
    return path
