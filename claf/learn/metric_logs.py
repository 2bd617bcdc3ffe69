"""Metric Logs: the evaluation history and the best one, kept in ``<log_dir>/metrics.json``."""

import json
from pathlib import Path

from claf.atomic import atomic_write_text
from claf.config.errors import ConfigError

LOWER_IS_BETTER = ("loss", "error", "perplexity", "time")


def direction(metric_key, mode="auto"):
    if mode in ("max", "min"):
        return mode
    if mode != "auto":
        raise ConfigError(f"trainer.metric_mode must be auto, max or min, got '{mode}'")
    return "min" if any(word in metric_key for word in LOWER_IS_BETTER) else "max"


class MetricLogs:
    def __init__(self, log_dir, metric_key, mode="auto", write=True):
        self.path = Path(log_dir) / "metrics.json"
        self.writes = write  # only the main rank writes under DDP
        self.metric_key = metric_key
        self.mode = direction(metric_key, mode)
        self.history = []
        self.best = None

    def add(self, epoch, global_step, scores, **extra):
        """Record one evaluation; True when it is the best so far."""
        if self.metric_key not in scores:
            raise ConfigError(
                f"trainer.metric_key '{self.metric_key}' is not among the validation scores "
                f"{sorted(scores)}; set --trainer.metric_key to one of them"
            )
        entry = {"epoch": epoch, "global_step": global_step, **{f"valid/{k}": v for k, v in scores.items()}, **extra}
        self.history.append(entry)
        score = scores[self.metric_key]
        better = self.best is None or (score > self.best[1] if self.mode == "max" else score < self.best[1])
        if better:
            self.best = (entry, score)
        self.write()
        return better

    def summary(self):
        entry, score = self.best if self.best else ({}, None)
        return {
            "best_epoch": entry.get("epoch"),
            "best_global_step": entry.get("global_step"),
            "best": {k: v for k, v in entry.items() if k.startswith("valid/")},
            "best_score": score,
            "metric_key": self.metric_key,
            "metric_mode": self.mode,
            "history": self.history,
        }

    def state(self):
        return {"history": self.history, "best": self.best}

    def load_state(self, state):
        self.history = list(state["history"])
        self.best = tuple(state["best"]) if state["best"] else None

    def write(self):
        if not self.writes:
            return
        atomic_write_text(self.path, json.dumps(self.summary(), indent=2, ensure_ascii=False) + "\n")

    def finish(self):
        self.write()
        return self.summary()
