"""``checkpoints/last``: everything an exact resume needs.

    model.pt            the model's state_dict (fp32)
    training_state.pt   optimizer, scheduler, gradient scaler, every rank's RNG states,
                        the data position and the Metric Logs so far
    trainer_state.json  the position in plain JSON (epoch, batch, global_step) for people

The folder is written under a temporary name and renamed into place (``atomic_dir``), so a run
killed mid-save leaves the previous ``last`` intact and a half-written one is never loaded.
"""

import json
from pathlib import Path

import torch

from claf.atomic import atomic_dir
from claf.errors import MissingFileError
from claf.learn.run import set_rng_state

MODEL_FILE, STATE_FILE, INFO_FILE = "model.pt", "training_state.pt", "trainer_state.json"


def save_last(path, model, optimizer, scheduler, scaler, position, logs_state, rng_states):
    """Write the folder (call on the main rank; ``rng_states`` holds every rank's, in rank order)."""
    state = {
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict() if scheduler else None,
        "scaler": scaler.state_dict() if scaler is not None else None,
        "rng": rng_states,
        "position": dict(position),
        "logs": logs_state,
    }
    with atomic_dir(path) as tmp:
        torch.save(model.state_dict(), Path(tmp) / MODEL_FILE)
        torch.save(state, Path(tmp) / STATE_FILE)
        (Path(tmp) / INFO_FILE).write_text(json.dumps(dict(position), indent=2) + "\n")


def find_last(resume, log_dir):
    """The checkpoint folder to resume from, or None to start fresh.

    ``resume`` is true (``<log_dir>/checkpoints/last`` if it exists), or a path to a ``last``
    folder or to a run folder holding one.
    """
    if not resume:
        return None
    if resume is True or str(resume).lower() == "true":
        path = Path(log_dir) / "checkpoints" / "last"
        return path if (path / STATE_FILE).is_file() else None
    path = Path(resume)
    for candidate in (path, path / "checkpoints" / "last"):
        if (candidate / STATE_FILE).is_file():
            return candidate
    raise MissingFileError(
        f"--trainer.resume {resume}: no {STATE_FILE} there or in its checkpoints/last/; "
        "give a run folder or its checkpoints/last"
    )


def load_last(path, model, optimizer, scheduler, scaler, rank=0):
    """Restore the states in place; return (position, logs_state)."""
    path = Path(path)
    device = next(model.parameters()).device
    saved = torch.load(path / MODEL_FILE, map_location=device, weights_only=True)
    if hasattr(model, "fit_state_dict"):  # e.g. a pre-training model whose position table has grown
        saved = model.fit_state_dict(saved)
    model.load_state_dict(saved)
    state = torch.load(path / STATE_FILE, map_location="cpu", weights_only=False)  # our own file: RNG tuples
    optimizer.load_state_dict(state["optimizer"])
    _fit_optimizer_state(optimizer)
    if scheduler is not None and state["scheduler"] is not None:
        scheduler.load_state_dict(state["scheduler"])
    if scaler is not None and state["scaler"] is not None:
        scaler.load_state_dict(state["scaler"])
    rngs = state["rng"]
    set_rng_state(rngs[rank] if rank < len(rngs) else rngs[0])
    return state["position"], state["logs"]


def _fit_optimizer_state(optimizer):
    """Zero-pad per-parameter states (e.g. Adam moments) of a parameter that has grown rows since the save."""
    for group in optimizer.param_groups:
        for param in group["params"]:
            for key, value in optimizer.state.get(param, {}).items():
                if (
                    torch.is_tensor(value)
                    and value.dim() == param.dim()
                    and value.dim() > 0
                    and value.shape[1:] == param.shape[1:]
                    and value.shape[0] < param.shape[0]
                ):
                    grown = torch.zeros_like(param, dtype=value.dtype)
                    grown[: value.shape[0]] = value
                    optimizer.state[param][key] = grown
