"""Progress bars (tqdm) for the long steps: reading, featurizing, evaluating, corpus preparation,
vocab training and the training loop itself, and a logging handler that prints log lines above
the bars instead of through them.

Bars show on a terminal only (tqdm's ``disable=None``), and not at all when ``set_enabled(False)``
(``trainer.progress false``) or on a DDP rank other than 0.
"""

import logging
import os

_enabled = True


def set_enabled(flag):
    global _enabled
    _enabled = bool(flag)


def _main_rank():
    return os.environ.get("RANK", "0") == "0"


def bar(iterable=None, total=None, desc=None, unit="it", leave=False, enabled=True):
    """A tqdm bar over ``iterable`` (or a manual one with ``total``); a no-op bar when switched off."""
    from tqdm.auto import tqdm

    disable = None if (enabled and _enabled and _main_rank()) else True
    return tqdm(iterable, total=total, desc=desc, unit=unit, leave=leave, dynamic_ncols=True, disable=disable)


class BarSafeHandler(logging.StreamHandler):
    """Writes each record with ``tqdm.write``, so an active bar is redrawn below the line, not broken."""

    def emit(self, record):
        try:
            from tqdm.auto import tqdm

            tqdm.write(self.format(record), file=self.stream)
        except Exception:  # noqa: BLE001 - logging must never raise
            self.handleError(record)
