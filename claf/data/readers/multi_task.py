"""Multi-task data (MT-DNN style): one sub-reader per task, each with its own files and options.

``tasks`` maps a task name to a data_reader-like block::

    "nli": {"dataset": "json_cls", "train_file_path": ..., "valid_file_path": ..., "train_limit": null,
            "valid_limit": null, "metric_key": "accuracy", "json_cls": {...reader options...}}

A task's ``train_limit``/``valid_limit`` default to the top-level ``data_reader`` ones. Examples
carry their ``task``; features carry ``task_id`` (the task's position) and an ``example_index``
local to their task. Batches and per-task evaluation are in ``claf.learn.multi_task``.
"""

from claf.config.errors import ConfigError
from claf.data.readers.base import Reader
from claf.errors import InputError
from claf.registry import READERS

SAMPLING = ("proportional", "temperature", "uniform")


@READERS.register("multi_task")
class MultiTaskReader(Reader):
    task = "multi_task"

    def __init__(
        self, tasks, sampling="temperature", temperature=2.0, indexer="bert", lang_code=None, skip_invalid=None
    ):
        super().__init__(skip_invalid=bool(skip_invalid), lang_code=lang_code)
        if not tasks:
            raise ConfigError("data_reader.multi_task.tasks is empty; give at least one task block")
        if sampling not in SAMPLING:
            raise ConfigError(f"data_reader.multi_task.sampling must be one of {', '.join(SAMPLING)}, got {sampling!r}")
        if sampling == "temperature" and not float(temperature) > 0:
            raise ConfigError(f"data_reader.multi_task.temperature must be > 0, got {temperature!r}")
        self.sampling, self.temperature, self.indexer_name = sampling, float(temperature), indexer
        self.blocks = {name: _plain(block) for name, block in tasks.items()}
        self.readers = {}
        for name, block in self.blocks.items():
            dataset = block.get("dataset")
            if dataset not in block:
                raise ConfigError(
                    f"data_reader.multi_task.tasks.{name}: needs 'dataset' and a '{dataset}' options block"
                )
            options = dict(block[dataset])
            options.setdefault("indexer", indexer)
            if skip_invalid is not None and "skip_invalid" in options:
                options["skip_invalid"] = options["skip_invalid"] or skip_invalid
            self.readers[name] = READERS.get(dataset)(**options)
            self.readers[name].config_block = f"multi_task.tasks.{name}.{dataset}"
        self.names = list(self.readers)
        for name, block in self.blocks.items():
            key = block.get("metric_key")
            if key and key not in self.readers[name].main_score_keys():
                raise ConfigError(
                    f"--data_reader.multi_task.tasks.{name}.metric_key: '{key}' is not a score of this "
                    f"task; one of {', '.join(self.readers[name].main_score_keys())}"
                )

    @property
    def metrics(self):
        return []  # each task is scored with its own reader's metrics (claf.learn.multi_task)

    def metric_key(self, name):
        from claf.metrics.spec import main_key

        return self.blocks[name].get("metric_key") or main_key(self.readers[name].metrics)

    def options(self):
        """The task blocks (files included, so eval mode finds them) with each reader's resolved options."""
        tasks = {}
        for name, block in self.blocks.items():
            tasks[name] = {**block, "metric_key": self.metric_key(name), block["dataset"]: self.readers[name].options()}
        return {
            "tasks": tasks,
            "sampling": self.sampling,
            "temperature": self.temperature,
            "indexer": self.indexer_name,
            "lang_code": self.lang_code,
        }

    def read_splits(self, data_reader, train=True):
        """(train examples, valid examples) of every task, in task order, each tagged with its task."""
        from claf.data.sources import resolve_data_file

        splits = {"train": [], "valid": []}
        for name, reader in self.readers.items():
            block = self.blocks[name]
            for split in ("train", "valid") if train else ("valid",):
                path = block.get(f"{split}_file_path")
                if not path:
                    raise ConfigError(f"data_reader.multi_task.tasks.{name}.{split}_file_path is not set")
                limit = block.get(f"{split}_limit") or data_reader.get(f"{split}_limit")
                for example in reader.read(resolve_data_file(path), limit):
                    example["task"] = name
                    splits[split].append(example)
            self.skipped += reader.skipped
        return splits["train"], splits["valid"]

    def helper(self, train_examples):
        return {
            "helpers": {
                name: reader.helper([e for e in train_examples if e["task"] == name])
                for name, reader in self.readers.items()
            }
        }

    def by_task(self, items, key):
        groups = {name: [] for name in self.names}
        for item in items:
            groups[self.names[item[key]] if key == "task_id" else item[key]].append(item)
        return groups

    def featurize(self, examples, tokenizer):
        features = []
        for task_id, (name, task_examples) in enumerate(self.by_task(examples, "task").items()):
            if not task_examples:
                continue
            for feature in self.readers[name].featurize(task_examples, tokenizer):
                feature["task_id"] = task_id
                features.append(feature)
        return features

    def extra_valid_sets(self, data_reader) -> dict:
        return {}  # each task's own extra sets are scored with the task (claf.learn.multi_task)

    def batch_source(
        self,
        features,
        batch_size,
        pad_token_id,
        accumulation=1,
        rank=0,
        world_size=1,
        seed=42,
        group_by_length=True,
        global_batch=None,
    ):
        from claf.data.multi_task_batches import MultiTaskBatches

        if global_batch is not None:
            raise ConfigError(
                "--trainer.global_batch_size: multi-task batches are not elastic yet; "
                "use iterator.batch_size and trainer.gradient_accumulation_steps"
            )

        return MultiTaskBatches(
            features,
            batch_size,
            pad_token_id,
            accumulation,
            rank,
            world_size,
            seed,
            group_by_length,
            self.sampling,
            self.temperature,
        )

    def main_score_keys(self) -> list:
        keys = ["average", "loss"]
        for name, reader in self.readers.items():
            keys += [f"{name}/{key}" for key in reader.main_score_keys()]
        return keys

    def input_fields(self, task=None) -> tuple:
        if task not in self.readers:
            raise InputError(f"this multi-task model needs a task: one of {', '.join(self.names)} (--task NAME)")
        return self.readers[task].input_fields()

    def example_from_input(self, record, index=0):
        name = record.get("task")
        if name not in self.readers:
            raise InputError(f"input {index}: 'task' must name one of the tasks {self.names} (got {name!r})")
        example = self.readers[name].example_from_input(record, index)
        example["task"] = name
        return example


def _plain(value):
    """Read-only config mappings -> plain dicts and lists (saved with the checkpoint as JSON)."""
    if hasattr(value, "items"):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value
