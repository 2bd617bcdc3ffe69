"""What every reader shares: limits, invalid-row handling, the reader's output."""

from claf.errors import UserError
import logging
from dataclasses import dataclass, field

logger = logging.getLogger(__name__)


class InvalidRow(UserError, ValueError):
    """A malformed input row: message starts with ``file:line``."""


class ReaderOptionError(UserError, ValueError):
    """A reader option with a bad value: the message names its key (``seq_cls.format``)."""


class InvalidInput(UserError, ValueError):
    """A prediction input the model cannot read: the message names the input and the missing field."""


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
        self.config_block = None  # the config block of this reader's options (see ``key``)

    def key(self, option):
        """The override key of one of this reader's options, as error hints name it: ``seq_cls.skip_invalid``
        (the block is named after the dataset; a multi-task reader sets ``config_block`` of its sub-readers)."""
        if self.config_block is None:
            from claf.registry import READERS

            names = [name for name in READERS.names() if READERS.get(name) is type(self)]
            self.config_block = names[0] if names else type(self).__name__
        return f"{self.config_block}.{option}"

    def read(self, path, limit=None):
        """Read examples from a file; ``limit`` keeps the first N."""
        examples, skipped = [], 0
        for row in self._read_rows(path):
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
            logger.warning("%s: skipped %d invalid row(s) (%s is true); %d examples read",
                           path, skipped, self.key("skip_invalid"), len(examples))
        if not examples:
            raise InvalidRow(f"{path}: no examples read; check the file and the reader's column settings")
        return examples

    def options(self):
        """Settings needed to featurize raw input again at prediction time."""
        raise NotImplementedError

    def helper(self, train_examples):
        """Dataset-derived values handed to the model (e.g. labels)."""
        return {}
