"""``trainer.step_log``: ``<log_dir>/step_log.jsonl``, one line per optimizer step with the ids (feature
indices) of its global batch, in data order (micro-step by micro-step, rank by rank), so runs on different
world sizes, or a run resumed on another, can be compared step by step. Lines are appended: a step that a
killed run did and its resumed run did again appears twice. Written by rank 0; costs a gather per step.
"""

import json
import os
from pathlib import Path

FILE = "step_log.jsonl"


def window_ids(window):
    """This rank's ids per micro-batch of a window (none for a weightless stand-in; read before the trainer
    pops ``loss_units``)."""
    return [batch["index"].tolist() if "index" in batch and batch.get("loss_units", 1) else [] for batch in window]


def write(log_dir, step, epoch, mine, dist):
    everyone = dist.gather(mine)  # [rank][micro] -> ids
    if not dist.is_main:
        return
    ids = [i for micro in range(len(mine)) for rank in everyone for i in rank[micro]]
    line = json.dumps({"step": step, "epoch": epoch, "world_size": dist.world_size, "ids": ids}) + "\n"
    path = Path(log_dir) / FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line.encode())  # one write per line: a kill leaves whole lines
    finally:
        os.close(fd)


def read(log_dir):
    """The lines of a step log, in the order written."""
    path = Path(log_dir) / FILE
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
