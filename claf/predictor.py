"""Serve a trained checkpoint: raw inputs -> predictions (classification labels, QA answers)."""

from pathlib import Path

from claf.data.readers.base import TaskData


class Predictor:
    def __init__(self, checkpoint, batch_size=32, backend="torch", threads=None):
        """``backend``: torch, torch-bf16, torch-fp16, onnx, onnx-int8 (see claf.runtime.backends)."""
        from claf.models.task_file import read_task_file
        from claf.registry import MODELS, READERS, import_plugins
        from claf.tokens.pipeline import load_tokenizer

        self.checkpoint = Path(checkpoint)
        meta = read_task_file(self.checkpoint)
        import_plugins(meta.get("plugins"))
        reader_meta, model_meta = meta["data_reader"], meta["model"]
        self.reader = READERS.get(reader_meta["dataset"])(**reader_meta["options"])
        self.tokenizer = load_tokenizer(self.checkpoint)  # re-attaches a Python word piece (MeCab, jamo)
        self.model = MODELS.get(model_meta["name"])(pretrained_model_name=self.checkpoint, **model_meta["options"])
        self.model.eval()
        if backend != "torch" or threads:
            from claf.runtime.backends import apply_backend

            self.model = apply_backend(self.model, self.checkpoint, backend, threads)
        self.backend = backend
        self.batch_size = batch_size

    def input_fields(self, task=None) -> tuple:
        """The input fields this model predicts from (a multi-task model: those of ``task``)."""
        return self.reader.input_fields(task)

    def predict(self, records):
        """``records``: dicts like {"text": ...} or {"question": ..., "context": ...}."""
        from claf.learn.evaluator import Evaluator

        if not records:
            return []
        examples = [self.reader.example_from_input(r, i) for i, r in enumerate(records)]
        data = TaskData(examples, self.reader.featurize(examples, self.tokenizer))
        evaluator = Evaluator(self.model, data, [], self.batch_size, self.tokenizer.pad_token_id)
        predictions, _ = evaluator.predict()
        if isinstance(predictions, dict):
            return [self.model.present(e, predictions[e["id"]]) for e in examples]
        return [self.model.present(e, p) for e, p in zip(examples, predictions)]
