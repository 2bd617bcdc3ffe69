"""Checkpoints of every task kind for the serving tests: a tiny encoder with an untrained head each."""

KINDS = {  # kind -> (reader, reader options, head, head options, a request)
    "pair": (
        "seq_cls",
        {"text_column": 0, "text_pair_column": 1, "label_column": 2, "labels": ["0", "1"]},
        "bert_for_seq_cls",
        {"labels": ["0", "1"]},
        {"text": "a cat sat", "text_pair": "a cat was sitting"},
    ),
    "regression": (
        "seq_reg",
        {"text_column": 0, "text_pair_column": 1, "label_column": 2},
        "bert_for_reg",
        {},
        {"text": "a man plays", "text_pair": "a man is playing"},
    ),
    "ner": (
        "tok_cls",
        {"unit": "word", "labels": ["B-PER", "I-PER", "O"]},
        "bert_for_tok_cls",
        {"labels": ["B-PER", "I-PER", "O"]},
        {"text": "john smith lives in paris"},
    ),
    "qa": (
        "squad_bert",
        {"lang_code": "en", "max_seq_length": 48, "context_stride": 16},
        "bert_for_qa",
        {},
        {"question": "where does john live?", "context": "john smith lives in paris. " * 12},
    ),
}


def make_checkpoint(kind, root, tiny_model):
    """A checkpoint of each task kind from the tiny encoder (untrained heads: the serving path is what counts)."""
    from claf.registry import MODELS, READERS
    from claf.tokens.pipeline import load_tokenizer

    reader_name, reader_options, head_name, head_options, _ = KINDS[kind]
    reader = READERS.get(reader_name)(**reader_options)
    head = MODELS.get(head_name)(pretrained_model_name=tiny_model, **head_options)
    path = root / kind / "checkpoints" / "best"
    head.save(path, load_tokenizer(tiny_model), reader_name, reader.options(), head_name)
    return path


def kind_checkpoint(kind, tmp_path_factory, minilm_path):
    """The checkpoint of ``kind``, made once per session."""
    from conftest import build_tiny_bert

    root = tmp_path_factory.getbasetemp() / "serve_kinds"
    tiny = root / "encoder"
    if not (tiny / "config.json").is_file():
        build_tiny_bert(tiny, minilm_path / "vocab.txt", do_lower_case=True)
    path = root / kind / "checkpoints" / "best"
    return path if (path / "claf_task.json").is_file() else make_checkpoint(kind, root, tiny)


def keep_threads():
    """A generator fixture body: the serving tests run on one thread; later tests get the count back."""
    import torch

    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)
