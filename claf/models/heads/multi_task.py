"""Multi-task model (MT-DNN style): one shared encoder, one task head per task.

Each task is an ordinary task model (``bert_for_seq_cls``, ``bert_for_reg``, ``bert_for_tok_cls``,
``bert_for_qa``) whose encoder is replaced by the shared one, so its loss and decoding are the
single-task ones. A batch's ``task_id`` picks the head; a batch mixing tasks (prediction) runs
each task's rows through its head.

Saved: the shared encoder as a ``save_pretrained`` directory (``AutoModel`` loads it), the
tokenizer, ``claf_task.json``, and the heads' own weights in ``claf_heads.safetensors``.
"""

from pathlib import Path

import torch

from claf.atomic import atomic_dir
from claf.errors import UserError
from claf.models.task_file import task_meta, write_task_file
from claf.registry import MODELS

HEADS_FILE = "claf_heads.safetensors"


@MODELS.register("multi_task")
class MultiTaskModel(torch.nn.Module):
    def __init__(self, pretrained_model_name, heads, helpers=None):
        super().__init__()
        helpers = helpers or {}
        self.head_specs = {name: {"name": spec["name"]} for name, spec in heads.items()}
        self.heads = torch.nn.ModuleDict()
        self.encoder = None
        for name, spec in heads.items():
            options = dict(spec.get(spec["name"]) or {})
            options.update(helpers.get(name, {}))
            head = MODELS.get(spec["name"])(pretrained_model_name=pretrained_model_name, **options)
            prefix = head.net.base_model_prefix
            if self.encoder is None:
                self.encoder = getattr(head.net, prefix)
            else:  # share the first task's encoder; this head's own copy is dropped
                setattr(head.net, prefix, self.encoder)
            self.heads[name] = head
        self.names = list(self.heads)
        weights = Path(str(pretrained_model_name)) / HEADS_FILE
        if weights.is_file():
            self._load_heads(weights)

    # ---- training / evaluation --------------------------------------------------------------
    def task_model(self, name):
        return self.heads[name]

    def forward(self, batch):
        task_ids = batch["task_id"]
        first = int(task_ids[0])
        if bool((task_ids == first).all()):
            return self.heads[self.names[first]](batch)
        return MixedOutputs(
            {
                t: (rows, self.heads[self.names[t]](_rows(batch, rows)), _rows(batch, rows))
                for t in task_ids.unique().tolist()
                for rows in [(task_ids == t).nonzero().view(-1)]
            }
        )

    def feature_results(self, outputs, batch):
        if not isinstance(outputs, MixedOutputs):
            return self.heads[self.names[int(batch["task_id"][0])]].feature_results(outputs, batch)
        results = [None] * len(batch["task_id"])
        for t, (rows, task_outputs, task_batch) in outputs.items():
            for row, result in zip(rows.tolist(), self.heads[self.names[t]].feature_results(task_outputs, task_batch)):
                results[row] = result
        return results

    def predictions(self, examples, features, results):
        """One prediction per example (in order), each decoded by its task's head."""
        predictions = [None] * len(examples)
        for t, name in enumerate(self.names):
            positions = [i for i, e in enumerate(examples) if e["task"] == name]
            if not positions:
                continue
            mine = [(f, r) for f, r in zip(features, results) if f["task_id"] == t]
            task_examples = [examples[i] for i in positions]
            decoded = self.heads[name].predictions(task_examples, [f for f, _ in mine], [r for _, r in mine])
            for j, (i, example) in enumerate(zip(positions, task_examples)):
                predictions[i] = decoded[example["id"]] if isinstance(decoded, dict) else decoded[j]
        return predictions

    def references(self, examples):
        """One reference per example (in order), as its task's head gives it."""
        references = []
        for example in examples:
            mine = self.heads[example["task"]].references([example])
            references.append(mine[example["id"]] if isinstance(mine, dict) else mine[0])
        return references

    def present(self, example, prediction):
        return {"task": example["task"], **self.heads[example["task"]].present(example, prediction)}

    # ---- saving ---------------------------------------------------------------------------------
    def options(self):
        return {
            "heads": {
                name: {"name": spec["name"], spec["name"]: self.heads[name].options()}
                for name, spec in self.head_specs.items()
            }
        }

    def head_state(self):
        """Weights outside the shared encoder, per head: ``<task>.<parameter name>``."""
        state = {}
        for name, head in self.heads.items():
            prefix = head.net.base_model_prefix + "."
            for key, value in head.net.state_dict().items():
                if not key.startswith(prefix):
                    state[f"{name}.{key}"] = value.detach().contiguous()
        return state

    def _load_heads(self, path):
        from safetensors.torch import load_file

        state = load_file(str(path))
        for name, head in self.heads.items():
            mine = {k[len(name) + 1 :]: v for k, v in state.items() if k.startswith(name + ".")}
            missing = [k for k in mine if k not in head.net.state_dict()]
            if not mine or missing:
                raise UserError(
                    f"{path}: no weights for head '{name}' or unexpected keys {missing[:3]}; "
                    "the checkpoint was saved with other tasks"
                )
            head.net.load_state_dict(mine, strict=False)

    def save(self, path, tokenizer, reader_name, reader_options, model_name, plugins=()):
        from safetensors.torch import save_file

        with atomic_dir(path) as tmp:
            self.encoder.save_pretrained(tmp)
            tokenizer.save_pretrained(tmp)
            save_file(self.head_state(), str(Path(tmp) / HEADS_FILE))
            write_task_file(tmp, task_meta(model_name, self.options(), reader_name, reader_options, plugins))


class MixedOutputs(dict):
    """task id -> (rows of the batch, the head's outputs, the rows' sub-batch)."""

    loss = None


def _rows(batch, rows):
    return {
        k: v[rows] if torch.is_tensor(v) and v.dim() > 0 and len(v) == len(batch["task_id"]) else v
        for k, v in batch.items()
    }
