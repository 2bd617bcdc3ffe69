"""A stop request for the training loop: the trainer saves ``checkpoints/last`` at its next step and
raises ``Preempted``, so a preempted run (a Slurm or spot SIGTERM) resumes later without losing work.

    install()          # SIGTERM and SIGINT set the request (a job process of the factory does this)
    requested()        # the trainer asks after every optimizer step
"""

import signal
import threading

_REQUEST = threading.Event()


class Preempted(Exception):
    """Training stopped on request after saving ``checkpoints/last`` at ``step``."""

    def __init__(self, step: int, last_dir: str):
        super().__init__(f"preempted at step {step}; checkpoint saved in {last_dir}")
        self.step, self.last_dir = step, last_dir


def request(*_args) -> None:
    _REQUEST.set()


def requested() -> bool:
    return _REQUEST.is_set()


def clear() -> None:
    _REQUEST.clear()


def install(signals=(signal.SIGTERM, signal.SIGINT)) -> None:
    """Make these signals a stop request instead of killing the process (main thread only)."""
    for sig in signals:
        signal.signal(sig, request)
