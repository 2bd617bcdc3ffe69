"""Refuse to run into a folder that already holds a run, unless told to resume or overwrite it.

A re-run (``train.py --base_config <log_dir>``, or any run whose ``trainer.log_dir`` is taken) would
otherwise replace the best checkpoint, the Metric Logs and the predictions of the earlier run.
Call ``check_run_folder`` on every rank before any rank writes into ``log_dir``.
"""

from pathlib import Path

from claf.errors import RunFolderError


def holds_run(log_dir):
    """True when ``log_dir`` holds results worth keeping: Metric Logs or a checkpoint. A folder with only
    ``config.json`` (a run that failed before its first evaluation, e.g. on a bad corpus entry) is not
    one: fixing the recipe and running again must not ask for ``--trainer.overwrite``."""
    log_dir = Path(log_dir)
    if (log_dir / "metrics.json").exists():
        return True
    checkpoints = log_dir / "checkpoints"
    return checkpoints.is_dir() and any(checkpoints.iterdir())


def check_run_folder(log_dir, resume=None, overwrite=False):
    """Raise RunFolderError when ``log_dir`` holds a run and neither ``resume`` nor ``overwrite`` is set."""
    if resume or overwrite or not holds_run(log_dir):
        return
    raise RunFolderError(
        f"{log_dir} already holds a run (its checkpoints, metrics and predictions would be "
        "replaced): give another --trainer.log_dir, --trainer.resume true to continue it, or "
        "--trainer.overwrite true to replace it"
    )


def run_config_json(cfg, resolved=None):
    """The config.json of a run: ``trainer.overwrite`` is recorded false (re-running the folder must not
    replace it silently) and ``resolved`` (the checkpoint record of claf.hub.resolve) is kept, so a re-run
    loads the same weights."""
    import json

    data = cfg.to_dict()
    if isinstance(data.get("trainer"), dict) and "overwrite" in data["trainer"]:
        data["trainer"]["overwrite"] = False
    if resolved:
        data["resolved_checkpoint"] = dict(resolved)
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
