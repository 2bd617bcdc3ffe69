"""What every reader shares: limits, invalid-row handling, the reader's output."""

from claf.errors import UserError
import logging
from dataclasses import dataclass, field

logger = logging.getLogger(__name__)


class InvalidRow(UserError, ValueError):
    """A malformed input row: message starts with ``file:line``."""


@dataclass
class TaskData:
    """Examples as read (for evaluation) and the features the model consumes."""

    examples: list
    features: list = field(default_factory=list)


class Reader:
    """Base for readers. Subclasses implement ``_read_rows`` and ``featurize``."""

    task = None  # "seq_cls", "qa", ...

    def input_fields(self, task=None) -> tuple:
        """The fields a prediction input needs (``predict.py --<field>``, the server's request body)."""
        return ("text",)

    def __init__(self, skip_invalid=False, lang_code=None):
        self.skip_invalid = skip_invalid
        self.lang_code = lang_code
        self.skipped = 0

    def read(self, path, limit=None):
        """Read examples from a file; ``limit`` keeps the first N."""
        from pathlib import Path

        from claf.progress import bar

        examples, skipped = [], 0
        for row in bar(self._read_rows(path), desc=f"reading {Path(str(path)).name}", unit=" rows"):
            if isinstance(row, InvalidRow):
                if not self.skip_invalid:
                    raise InvalidRow(f"{row}; fix the row or set data_reader.skip_invalid true to skip it")
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
            logger.warning("%s: skipped %d invalid row(s) (data_reader.skip_invalid is true); %d examples read",
                           path, skipped, len(examples))
        if not examples:
            raise InvalidRow(f"{path}: no examples read; check the file and the reader's column settings")
        return examples

    def options(self):
        """Settings needed to featurize raw input again at prediction time."""
        raise NotImplementedError

    def helper(self, train_examples):
        """Dataset-derived values handed to the model (e.g. labels)."""
        return {}
