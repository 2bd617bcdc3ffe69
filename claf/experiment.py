"""Experiment: a frozen config -> components from the registries -> train / eval / predict.

Experiment("train", "klue/nsmc_bert", overrides={"trainer.num_epochs": 1})()  # -> Metric Logs
Experiment("eval", "logs/nsmc")()                                             # -> validation scores
Experiment("predict", "logs/nsmc", inputs=[{"text": "재밌다"}])()            # -> predictions
Experiment("pretrain", "pretrain/larva_kor_tiny")()                            # -> Metric Logs + published
"""

import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from claf.config import ConfigError, resolve_config
from claf.config.loader import find_base_config, load_json
from claf.config.specs.base import Recipe
from claf.errors import MissingFileError, UserError
from claf.models.task_file import read_task_plugins
from claf.registry import import_plugins

logger = logging.getLogger(__name__)

MODES = ("train", "eval", "predict", "pretrain")
EXAMPLES_FILE = "examples.json"  # per-example predictions and gold values of the best evaluation (bootstrap input)


class Experiment:
    def __init__(self, mode, config, overrides=None, inputs=None, backend=None, on_publish=None):
        if mode not in MODES:
            raise UserError(f"unknown mode '{mode}'; choose one of {', '.join(MODES)}")
        self.mode = mode
        self.inputs = inputs
        self.backend = backend  # eval / predict: torch, torch-bf16, torch-fp16, onnx, onnx-int8 (claf.serve)
        self.predictions = None  # eval: the main validation set's predictions, once run
        self.on_publish = on_publish  # pretrain: called with each published checkpoint's index entry
        if mode in ("train", "pretrain"):  # the spec is built once (a given spec is taken as it is)
            from claf.data.locate import file_problem

            kind = "finetune" if mode == "train" else "pretrain"
            self.config = resolve_config(config, overrides, kind=kind, files=file_problem)
        else:  # eval / predict start from a run folder or a checkpoint
            self.checkpoint = find_checkpoint(config)
            run_config = self.checkpoint.parent.parent / "config.json"
            base = load_json(run_config) if run_config.is_file() else None
            self.config = resolve_config(base, overrides) if base else None
            import_plugins(self.config.plugins if self.config else read_task_plugins(self.checkpoint))

    def __call__(self):
        return getattr(self, f"_{self.mode}")()

    def _pretrain(self):
        """One run, or one per pre-training seed (``seeds``): each replica its own run folder and names."""
        from claf.pretrain.runner import run_pretraining

        replicas = self.config.replicas()
        if len(replicas) == 1:
            return run_pretraining(replicas[0], self.on_publish)
        summaries, fitted = [], None
        for spec in replicas:  # with trainer.budget_minutes, every replica runs the steps the first one fitted
            summaries.append(dict(run_pretraining(spec, self.on_publish, fitted), name=spec.name))
            if fitted is None and summaries[-1].get("budget"):
                fitted = dict(summaries[-1]["budget"], fitted_by=str(spec.trainer.log_dir))
        published = [entry for summary in summaries for entry in summary["published"]]
        return {"replicas": [{k: v for k, v in s.items() if k != "history"} for s in summaries], "published": published}

    # ---- train ----------------------------------------------------------------------
    def _train(self):
        from claf.learn.evaluation import build_evaluator
        from claf.learn.run import check_metric_key, start_run

        cfg = self.config
        reader = build_reader(cfg)
        check_metric_key(cfg.trainer.metric_key, reader.main_score_keys())
        run = start_run(cfg)  # refuses a folder holding a run, joins torchrun, seeds
        trainer, dist, log_dir = run.trainer, run.dist, run.log_dir
        task = build_task(cfg, reader)
        run.write_config(task.resolved)
        model, tokenizer = task.model, task.tokenizer
        train_features = reader.featurize(task.train_examples, tokenizer)
        valid = _task_data(reader, task.valid_examples, tokenizer)

        model.to(dist.device)
        iterator = cfg.iterator
        micro_batch = trainer.layout(iterator.batch_size, dist.world_size)  # sets the accumulation (elastic)
        batches = reader.batch_source(
            train_features,
            micro_batch,
            tokenizer.pad_token_id,
            trainer.accumulation,
            dist.rank,
            dist.world_size,
            seed=cfg.seed_num,
            group_by_length=iterator.group_by_length,
            **({"global_batch": trainer.global_batch} if trainer.global_batch else {}),
        )
        optimizer, scheduler = run.optimizer_and_scheduler(model, trainer.total_steps(len(batches)))
        evaluator = build_evaluator(
            reader, model, valid, tokenizer, cfg.data_reader, iterator.valid_batch_size, trainer.precision, dist
        )

        def save_best(predictions):
            model.save(
                log_dir / "checkpoints" / "best",
                tokenizer,
                cfg.data_reader.dataset,
                reader.options(),
                cfg.model.name,
                plugins=list(cfg.plugins),
            )
            _write_predictions(log_dir / "predictions" / "valid.json", valid.examples, predictions, model)
            _write_examples(log_dir / "predictions" / EXAMPLES_FILE, valid.examples, predictions, model, reader)

        logger.info(
            "train %d examples (%d features), valid %d examples; %d optimizer steps of %d examples",
            len(task.train_examples),
            len(train_features),
            len(valid.examples),
            trainer.total_steps(len(batches)),
            batches.global_batch_size,
        )
        with run.tensorboard() as writer:
            summary = trainer.train(
                model, batches, optimizer, scheduler, evaluator, save_best, writer=writer, dist=dist
            )
        if dist.is_main and (cfg.get("benchmark") or os.environ.get("CLAF_SERVER_URL")):  # post to the server
            from claf.results.client import post_run_folder  # never raises; queues to the outbox

            post_run_folder(log_dir, config=cfg.to_dict())
        return summary  # the command prints its Metric Logs (once, rank 0)

    # ---- eval / predict ---------------------------------------------------------------
    def _eval(self):
        from claf.learn.evaluation import build_evaluator
        from claf.predictor import Predictor

        if self.config is None:
            raise ConfigError(f"{self.checkpoint}: eval needs the run's config.json next to checkpoints/")
        predictor = Predictor(self.checkpoint, backend=self.backend or "torch")
        precision = self.config.trainer.run_precision if self.backend is None else "fp32"  # a backend: its own dtype
        reader, dr, iterator = predictor.reader, self.config.data_reader, self.config.iterator
        _train, examples = reader.read_splits(dr, train=False)
        data = _task_data(reader, examples, predictor.tokenizer)
        evaluator = build_evaluator(
            reader, predictor.model, data, predictor.tokenizer, dr, iterator.valid_batch_size, precision
        )
        scores, self.predictions = evaluator()
        return {f"valid/{k}": v for k, v in scores.items()}

    def _predict(self):
        from claf.predictor import Predictor

        return Predictor(self.checkpoint, backend=self.backend or "torch").predict(list(self.inputs or []))


def build_reader(cfg):
    """The data reader of a fine-tuning spec (its options block named after the dataset, plus the indexer)."""
    from claf.registry import READERS

    options = cfg.data_reader.options
    options.setdefault("indexer", cfg.token.indexer.name)
    return READERS.get(cfg.data_reader.dataset)(**options)


@dataclass
class TaskParts:
    """What a fine-tuning run is built from (``build_task``)."""

    reader: Any
    tokenizer: Any
    model: Any
    resolved: dict | None  # the checkpoint record of claf.hub.resolve (name, sha256, ...)
    train_examples: list
    valid_examples: list


def build_task(cfg, reader=None) -> TaskParts:
    """Reader, examples, tokenizer and model of a spec (shared by training and tests).

    The checkpoint is resolved, its positions checked against the reader's lengths and its tokenizer
    against the config before any data is read.
    """
    from claf.hub.resolve import resolve_checkpoint
    from claf.models.heads.base import check_max_length
    from claf.registry import MODELS
    from claf.tokens.pipeline import build_tokenizer

    dr = cfg.data_reader
    reader = reader or build_reader(cfg)
    options = cfg.model.options
    name = options.pop("pretrained_model_name")
    pinned = cfg.resolved_checkpoint or {}  # a re-run of a run folder loads the weights it recorded
    model_dir, resolved = resolve_checkpoint(name, pinned.get("sha256") if pinned.get("name") == name else None)
    check_max_length(dr, model_dir, f"model.{cfg.model.name}.pretrained_model_name", name)  # before data loads
    tokenizer = build_tokenizer(cfg.token.tokenizer, model_dir)  # contradictions with the checkpoint: before data too
    train_examples, valid_examples = reader.read_splits(dr)
    model = MODELS.get(cfg.model.name)(pretrained_model_name=model_dir, **options, **reader.helper(train_examples))
    return TaskParts(reader, tokenizer, model, resolved, train_examples, valid_examples)


def find_checkpoint(path):
    """A run folder or a checkpoint directory -> the checkpoint directory."""
    from claf.models.task_file import TASK_FILE

    if isinstance(path, (dict, Recipe)):
        raise UserError("eval/predict take a run folder or a checkpoint directory, not a config")
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
    raise MissingFileError(
        f"{path}: no trained checkpoint here (expected {TASK_FILE} in it or in "
        "checkpoints/best/); train first or give the run folder"
    )


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


def _write_examples(path, examples, predictions, model, reader):
    """``predictions/examples.json``: id, prediction and gold value of every validation example, with the
    metric specs that score them, so a result can be re-scored on resampled examples (claf.stats)."""
    from claf.atomic import atomic_write_text

    if hasattr(reader, "readers"):  # multi-task: each task's predictions live with its own head
        return
    ids = [e["id"] for e in examples]
    references = model.references(examples)
    if isinstance(predictions, dict):  # QA: keyed by example id
        predictions = [predictions[i] for i in ids]
    if isinstance(references, dict):
        references = [references[i] for i in ids]
    body = {
        "ids": ids,
        "predictions": list(predictions),
        "references": list(references),
        "metrics": list(reader.metrics),
    }
    atomic_write_text(path, json.dumps(body, ensure_ascii=False, default=_plain) + "\n")


def _plain(value):
    """numpy scalars and arrays in predictions -> JSON values."""
    return value.tolist() if hasattr(value, "tolist") else str(value)
