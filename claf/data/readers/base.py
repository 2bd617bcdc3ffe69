"""What every reader shares: limits, invalid-row handling, the reader's output."""

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from claf.config.errors import ConfigError
from claf.errors import UserError

logger = logging.getLogger(__name__)


class InvalidRow(UserError, ValueError):
    """A malformed input row: message starts with ``file:line``."""


class ReaderOptionError(ConfigError):
    """A reader option with a bad value: the message names its key (``seq_cls.format``)."""


@dataclass
class TaskData:
    """Examples as read (for evaluation) and the features the model consumes."""

    examples: list
    features: list = field(default_factory=list)


class Reader:
    """Base for readers. Subclasses implement ``_read_rows`` and ``featurize``."""

    task: str | None = None  # "seq_cls", "qa", ...
    split: Any = None  # a ``HoldoutSplit``: train and validation rows cut from one file (``claf.data.readers.split``)
    metrics: list  # metric specs (``claf.metrics.spec``), set by each reader

    def input_fields(self, task: str | None = None) -> tuple:
        """The fields a prediction input needs (``predict.py --<field>``, the server's request body)."""
        return ("text",)

    def __init__(self, skip_invalid: bool = False, lang_code: str | None = None) -> None:
        self.skip_invalid = skip_invalid
        self.lang_code = lang_code
        self.skipped = 0
        self.config_block: str | None = None  # the config block of this reader's options (see ``key``)

    def key(self, option: str) -> str:
        """The override key of one of this reader's options, as error hints name it: ``seq_cls.skip_invalid``
        (the block is named after the dataset; a multi-task reader sets ``config_block`` of its sub-readers)."""
        if self.config_block is None:
            from claf.registry import READERS

            names = [name for name in READERS.names() if READERS.get(name) is type(self)]
            self.config_block = names[0] if names else type(self).__name__
        return f"{self.config_block}.{option}"

    def read(self, path: str | Path, limit: int | None = None) -> list[dict]:
        """Read examples from a file; ``limit`` keeps the first N."""
        from pathlib import Path

        from claf.progress import bar

        examples, skipped = [], 0
        for row in bar(self._read_rows(path), desc=f"reading {Path(str(path)).name}", unit=" rows"):
            if isinstance(row, InvalidRow):
                if not self.skip_invalid:
                    raise InvalidRow(f"{row}; fix the row or set {self.key('skip_invalid')} true to skip it")
                skipped += 1
                logger.debug("skipped %s", row)
                if skipped <= 3:
                    logger.warning("skipped %s", row)
                continue
            examples.append(row)
            if limit is not None and len(examples) >= limit:
                break
        self.skipped += skipped
        if skipped:
            logger.warning(
                "%s: skipped %d invalid row(s) (%s is true); %d examples read",
                path,
                skipped,
                self.key("skip_invalid"),
                len(examples),
            )
        if not examples:
            raise InvalidRow(f"{path}: no examples read; check the file and the reader's column settings")
        return examples

    # ---- the task's shape: what training, evaluation and prediction ask of a reader ----------
    def read_splits(self, data_reader: Mapping, train: bool = True) -> tuple[list[dict] | None, list[dict]]:
        """(train examples or None, validation examples) of a ``data_reader`` config block."""
        from claf.data.sources import resolve_data_file

        if self.split is not None:
            return self._split_splits(data_reader, train)
        train_examples = None
        if train:
            train_examples = self.read(
                resolve_data_file(data_reader["train_file_path"]), data_reader.get("train_limit")
            )
        valid = self.read(resolve_data_file(data_reader["valid_file_path"]), data_reader.get("valid_limit"))
        return train_examples, valid

    def _split_splits(self, data_reader: Mapping, train: bool) -> tuple[list[dict] | None, list[dict]]:
        """Both splits cut from one file by ``split`` (seed, valid_share); the limits apply after the cut."""
        from claf.data.readers.split import split_rows
        from claf.data.sources import resolve_data_file

        path = data_reader["valid_file_path"]
        if data_reader.get("train_file_path") not in (None, path):
            raise ReaderOptionError(
                f"{self.key('split')} cuts one file: data_reader.train_file_path ({data_reader['train_file_path']}) "
                f"and valid_file_path ({path}) must name the same file"
            )
        try:
            rows, valid = split_rows(
                self.read(resolve_data_file(path)), self.split.seed, self.split.valid_share, self.split.group_by
            )
        except ValueError as e:
            raise ReaderOptionError(f"{self.key('split')}: {path}: {e}") from None
        train_limit, valid_limit = data_reader.get("train_limit"), data_reader.get("valid_limit")
        return (rows[:train_limit] if train else None), valid[:valid_limit]

    def extra_valid_sets(self, data_reader: Mapping) -> dict[str, list[dict]]:
        """{name: examples} of ``data_reader.extra_valid_file_paths`` (scored under ``<name>/``)."""
        from claf.data.sources import resolve_data_file

        extra = dict(data_reader.get("extra_valid_file_paths") or {})
        return {
            name: self.read(resolve_data_file(path), data_reader.get("valid_limit")) for name, path in extra.items()
        }

    def batch_source(
        self,
        features: list[dict],
        batch_size: int,
        pad_token_id: int,
        accumulation: int = 1,
        rank: int = 0,
        world_size: int = 1,
        seed: int = 42,
        group_by_length: bool = True,
        global_batch: int | None = None,
    ) -> Any:
        """The training batch source of this task (``claf.data.batch_source``)."""
        from claf.data.batch_source import FeatureBatches

        return FeatureBatches(
            features,
            batch_size,
            pad_token_id,
            accumulation,
            rank,
            world_size,
            seed,
            group_by_length,
            global_batch=global_batch,
        )

    def main_score_keys(self) -> list:
        """Every score evaluation reports for this task (``trainer.metric_key`` must be one)."""
        from claf.metrics.spec import produced_keys

        return produced_keys(self.metrics)

    def _read_rows(self, path: str | Path) -> Any:
        """Yield an example dict (or an ``InvalidRow``) per row of the file."""
        raise NotImplementedError

    def featurize(self, examples: list[dict], tokenizer: Any) -> list[dict]:
        """Examples -> model features (token ids, labels)."""
        raise NotImplementedError

    def options(self) -> dict:
        """Settings needed to featurize raw input again at prediction time."""
        raise NotImplementedError

    def helper(self, train_examples: list[dict] | None) -> dict:
        """Dataset-derived values handed to the model (e.g. labels)."""
        return {}
