"""Experiment: a frozen config -> components from the registries -> train / eval / predict.

    Experiment("train", "klue/nsmc_bert", overrides={"trainer.num_epochs": 1})()  # -> Metric Logs
    Experiment("eval", "logs/nsmc")()                                             # -> validation scores
    Experiment("predict", "logs/nsmc", inputs=[{"text": "재밌다"}])()            # -> predictions
    Experiment("pretrain", "pretrain/larva_kor_tiny")()                            # -> Metric Logs + published
"""

import json
import logging
import random
from pathlib import Path

from claf.config import FrozenConfig, resolve_config
from claf.config.loader import find_base_config, load_json

logger = logging.getLogger(__name__)

MODES = ("train", "eval", "predict", "pretrain")


class Experiment:
    def __init__(self, mode, config, overrides=None, inputs=None, backend=None):
        if mode not in MODES:
            raise ValueError(f"unknown mode '{mode}'; choose one of {', '.join(MODES)}")
        self.mode = mode
        self.inputs = inputs
        self.backend = backend  # eval / predict: torch, torch-bf16, torch-fp16, onnx, onnx-int8 (claf.serve)
        self.predictions = None  # eval: the main validation set's predictions, once run
        if mode == "train":
            self.config = resolve_config(config, overrides)
            check_names(self.config)
        elif mode == "pretrain":  # a pre-training recipe (base_config/pretrain/...), see claf.pretrain
            self.config = resolve_config(config, overrides, kind="pretrain")
        else:  # eval / predict start from a run folder or a checkpoint
            self.checkpoint = find_checkpoint(config)
            run_config = self.checkpoint.parent.parent / "config.json"
            base = load_json(run_config) if run_config.is_file() else None
            self.config = resolve_config(base, overrides) if base else None

    def __call__(self):
        return getattr(self, f"_{self.mode}")()

    def _pretrain(self):
        from claf.pretrain.runner import run_pretraining

        return run_pretraining(self.config)

    # ---- train ----------------------------------------------------------------------
    def _train(self):
        from claf.atomic import atomic_write_text
        from claf.learn.batches import FeatureBatches
        from claf.learn.distributed import Distributed
        from claf.learn.eval_group import with_extra_valid
        from claf.learn.evaluator import Evaluator
        from claf.registry import LR_SCHEDULERS, OPTIMIZERS, TRAINERS

        cfg = self.config
        trainer_options = dict(cfg.trainer)
        trainer = TRAINERS.get(trainer_options.pop("name", "default"))(**trainer_options)
        dist = Distributed.from_env(num_threads=trainer.num_threads)  # torchrun: join the process group
        set_seed(cfg.seed_num)
        log_dir = Path(cfg.trainer.log_dir)
        if dist.is_main:
            atomic_write_text(log_dir / "config.json", cfg.to_json())
        parts = build_task(cfg)
        reader, model, tokenizer = parts["reader"], parts["model"], parts["tokenizer"]
        train_features = reader.featurize(parts["train_examples"], tokenizer)
        valid = _task_data(reader, parts["valid_examples"], tokenizer)

        model.to(dist.device)
        iterator = cfg.iterator
        batch_source = FeatureBatches
        if reader.task == "multi_task":  # batches of one task at a time, tasks sampled (claf.learn.multi_task)
            from claf.learn.multi_task import batch_source_for, multi_task_evaluator

            batch_source = batch_source_for(reader)
        batches = batch_source(train_features, iterator.batch_size, tokenizer.pad_token_id, trainer.accumulation,
                               dist.rank, dist.world_size, seed=cfg.seed_num,
                               group_by_length=iterator.get("group_by_length", True))
        num_batches = len(batches)
        op = cfg.optimizer
        optimizer = OPTIMIZERS.get(op.op_type)(model, op.learning_rate, **dict(op.get(op.op_type, {})))
        scheduler = LR_SCHEDULERS.get(op.lr_scheduler_type)(
            optimizer, total_steps=trainer.total_steps(num_batches), **dict(op.get(op.lr_scheduler_type, {})))

        def make(data, task_model=model, metrics=reader.metrics):
            return Evaluator(task_model, data, metrics, iterator.get("eval_batch_size", iterator.batch_size),
                             tokenizer.pad_token_id, trainer.precision, dist)

        if reader.task == "multi_task":  # each task scored by its head, plus their average
            evaluator = multi_task_evaluator(reader, model, valid, tokenizer, make, cfg.data_reader)
        else:  # extra validation sets (e.g. MNLI mismatched) report under "<name>/"
            evaluator = with_extra_valid(make(valid), cfg.data_reader, reader, tokenizer, make)

        def save_best(predictions):
            model.save(log_dir / "checkpoints" / "best", tokenizer, cfg.data_reader.dataset, reader.options(),
                       cfg.model.name)
            _write_predictions(log_dir / "predictions" / "valid.json", valid.examples, predictions, model)

        import contextlib

        from tensorboardX import SummaryWriter

        logger.info("train %d examples (%d features), valid %d examples; %d optimizer steps of %d examples",
                    len(parts["train_examples"]), len(train_features), len(valid.examples),
                    trainer.total_steps(num_batches), batches.global_batch_size)
        tensorboard = SummaryWriter(str(log_dir / "tensorboard")) if dist.is_main else contextlib.nullcontext()
        with tensorboard as writer:
            summary = trainer.train(model, batches, optimizer, scheduler, evaluator, save_best, writer=writer,
                                    dist=dist)
        if dist.is_main:
            _log_metric_logs(summary)
        return summary

    # ---- eval / predict ---------------------------------------------------------------
    def _eval(self):
        from claf.data.sources import resolve_data_file
        from claf.learn.eval_group import with_extra_valid
        from claf.learn.evaluator import Evaluator
        from claf.predictor import Predictor

        if self.config is None:
            raise ValueError(f"{self.checkpoint}: eval needs the run's config.json next to checkpoints/")
        predictor = Predictor(self.checkpoint, backend=self.backend or "torch")
        precision = self.config.trainer.get("precision", "fp32") if self.backend is None else "fp32"  # backend: dtype
        dr = self.config.data_reader
        reader = predictor.reader
        if hasattr(reader, "read_splits"):  # multi-task: each task names its own files
            examples = reader.read_splits(dr, train=False)[1]
        else:
            examples = reader.read(resolve_data_file(dr.valid_file_path), dr.get("valid_limit"))
        data = _task_data(reader, examples, predictor.tokenizer)
        iterator = self.config.iterator

        def make(task_data, task_model=predictor.model, metrics=reader.metrics):
            return Evaluator(task_model, task_data, metrics, iterator.get("eval_batch_size", iterator.batch_size),
                             predictor.tokenizer.pad_token_id, precision)

        if reader.task == "multi_task":
            from claf.learn.multi_task import multi_task_evaluator

            evaluator = multi_task_evaluator(reader, predictor.model, data, predictor.tokenizer, make, dr)
        else:
            evaluator = with_extra_valid(make(data), dr, reader, predictor.tokenizer, make)
        scores, self.predictions = evaluator()
        return {f"valid/{k}": v for k, v in scores.items()}

    def _predict(self):
        from claf.predictor import Predictor

        return Predictor(self.checkpoint, backend=self.backend or "torch").predict(list(self.inputs or []))


def check_names(cfg):
    """Fail fast, before any data or model is loaded, on a component name no registry knows."""
    from claf.config import ConfigError
    from claf.registry import LR_SCHEDULERS, MODELS, OPTIMIZERS, READERS, TRAINERS, RegistryError

    checks = [("data_reader.dataset", READERS, cfg.data_reader.dataset), ("model.name", MODELS, cfg.model.name),
              ("trainer.name", TRAINERS, cfg.trainer.get("name", "default"))]
    if "optimizer" in cfg:
        checks += [("optimizer.op_type", OPTIMIZERS, cfg.optimizer.op_type),
                   ("optimizer.lr_scheduler_type", LR_SCHEDULERS, cfg.optimizer.lr_scheduler_type)]
    for key, registry, name in checks:
        try:
            registry.get(name)
        except RegistryError as e:
            raise ConfigError(f"--{key}: {e}") from None


def build_task(cfg):
    """Reader, examples, tokenizer and model of a config (shared by training and tests)."""
    from claf.data.sources import resolve_data_file
    from claf.hub.resolve import resolve_pretrained
    from claf.registry import MODELS, READERS
    from claf.tokens.pipeline import build_tokenizer

    dr = cfg.data_reader
    reader_options = dict(dr.get(dr.dataset, {}))
    token = cfg.get("token") or {}
    if token.get("names"):  # the (first) token name's indexer turns tokens into model inputs
        reader_options.setdefault("indexer", token[token["names"][0]]["indexer"]["name"])
    reader = READERS.get(dr.dataset)(**reader_options)
    if hasattr(reader, "read_splits"):  # multi-task: each task names its own files
        train_examples, valid_examples = reader.read_splits(dr)
    else:
        train_examples = reader.read(resolve_data_file(dr.train_file_path), dr.get("train_limit"))
        valid_examples = reader.read(resolve_data_file(dr.valid_file_path), dr.get("valid_limit"))
    options = dict(cfg.model.get(cfg.model.name, {}))
    model_dir = resolve_pretrained(options.pop("pretrained_model_name"))
    tokenizer = build_tokenizer(cfg.get("token"), model_dir)
    model = MODELS.get(cfg.model.name)(pretrained_model_name=model_dir, **options, **reader.helper(train_examples))
    return {"reader": reader, "tokenizer": tokenizer, "model": model,
            "train_examples": train_examples, "valid_examples": valid_examples}


def find_checkpoint(path):
    """A run folder or a checkpoint directory -> the checkpoint directory."""
    from claf.models.heads.base import TASK_FILE

    if isinstance(path, (dict, FrozenConfig)):
        raise ValueError("eval/predict take a run folder or a checkpoint directory, not a config")
    path = Path(path)
    for candidate in (path, path / "checkpoints" / "best"):
        if (candidate / TASK_FILE).is_file():
            return candidate
    try:  # a config whose log_dir holds a finished run
        log_dir = Path(load_json(find_base_config(str(path)))["trainer"]["log_dir"])
        if (log_dir / "checkpoints" / "best" / TASK_FILE).is_file():
            return log_dir / "checkpoints" / "best"
    except Exception:
        pass
    raise FileNotFoundError(f"{path}: no trained checkpoint here (expected {TASK_FILE} in it or in "
                            "checkpoints/best/); train first or give the run folder")


def _task_data(reader, examples, tokenizer):
    from claf.data.readers.base import TaskData

    return TaskData(examples, reader.featurize(examples, tokenizer))


def _write_predictions(path, examples, predictions, model):
    from claf.atomic import atomic_write_text

    if isinstance(predictions, dict):
        rows = [model.present(e, predictions[e["id"]]) for e in examples]
    else:
        rows = [model.present(e, p) for e, p in zip(examples, predictions)]
    atomic_write_text(path, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))


def _log_metric_logs(summary):
    shown = {k: v for k, v in summary.items() if k != "history"}
    logger.info("Metric Logs: %s", json.dumps(shown, indent=2, ensure_ascii=False))


def set_seed(seed):
    import numpy as np
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
