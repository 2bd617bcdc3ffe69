"""What fills an empty task: the command a dashboard names where a task has no results yet.

    fill_command("klue", "nsmc", "nsmc/")      -> "python -m claf factory run --base_config factory/larva_kor_tiny_klue"
    fill_command("glue", "cola", "glue/CoLA/") -> "python -m claf train --base_config glue/cola_bert, then
                                                   python -m claf results push logs/glue/cola_bert"
    starter_command()                          -> the smallest factory recipe: what fills an empty database

A factory recipe (``base_config/factory/``) whose benchmark is this one and whose suite holds the task fills
it; the one with the fewest tasks is named. Otherwise a fine-tuning BaseConfig whose
``data_reader.train_file_path`` starts with the task's data prefix (and that no factory runs for another
task) does, once its run folder is pushed: ``results push`` finds a run's task by that same prefix. Without
either, the command says what such a BaseConfig must name.
"""

import logging

from claf.config.defaults import DEFAULTS
from claf.config.errors import ConfigError
from claf.config.kinds import names_of_kind
from claf.config.loader import find_base_config, list_base_configs, load_json

logger = logging.getLogger(__name__)

FACTORY = "python -m claf factory run --base_config {name}"
PUSH = "python -m claf results push {run}"


def _recipes(kind: str) -> list[tuple[str, dict]]:
    """The BaseConfigs of ``kind`` as JSON; one that does not load is left out (a hint is no place to fail)."""
    out = []
    for name in names_of_kind(kind, list_base_configs()):
        try:
            out.append((name, load_json(find_base_config(name))))
        except ConfigError as e:
            logger.warning("fill commands: %s", e)
    return out


def factory_recipes() -> list[tuple[str, str, dict[str, str]]]:
    """(name, benchmark, {task: its fine-tuning BaseConfig}) of every shipped factory recipe, the fewest
    tasks first."""
    default = DEFAULTS["factory"]["benchmark"]["name"]
    out = []
    for name, data in _recipes("factory"):
        bench = (data.get("benchmark") or {}).get("name") or default
        suite = [t for t in (data.get("suite") or {}).get("tasks") or [] if isinstance(t, dict) and t.get("task")]
        out.append((name, bench, {t["task"]: str(t.get("base_config") or "") for t in suite}))
    return sorted(out, key=lambda r: (len(r[2]), r[0]))


def starter_command() -> str | None:
    """The command that fills a database with no results: the smallest factory recipe."""
    recipes = factory_recipes()
    return FACTORY.format(name=recipes[0][0]) if recipes else None


def fill_command(benchmark: str, task: str, data_prefix: str = "", server: str | None = None) -> str:
    """The command (or two) that puts a first result into ``benchmark``/``task``; ``server``, where known,
    is the URL a pushed run folder goes to."""
    return fill_commands(benchmark, [(task, data_prefix)], server)[task]


def fill_commands(benchmark: str, tasks: list[tuple[str, str]], server: str | None = None) -> dict[str, str]:
    """``fill_command`` of each (task, data prefix) of ``benchmark``, reading the BaseConfigs once."""
    recipes = factory_recipes()
    finetune = _recipes("finetune") if any(prefix for _t, prefix in tasks) else []
    push = PUSH + (f" --server {server}" if server else "")
    out = {}
    for task, prefix in tasks:
        out[task] = next((FACTORY.format(name=n) for n, b, suite in recipes if b == benchmark and task in suite), "")
        if out[task] or not prefix:
            continue
        taken = {config for _n, _b, suite in recipes for t, config in suite.items() if t != task}
        for name, data in finetune:  # a BaseConfig a factory runs for another task is that task's
            path = str((data.get("data_reader") or {}).get("train_file_path") or "")
            if path.startswith(prefix) and name not in taken:
                run = (data.get("trainer") or {}).get("log_dir") or "RUN_DIR"
                out[task] = f"python -m claf train --base_config {name}, then {push.format(run=run)}"
                break
    for task, _prefix in tasks:
        if not out[task]:
            where = f"a BaseConfig whose benchmark block names benchmark {benchmark} and task {task}"
            out[task] = f"python -m claf train --base_config CONFIG ({where}), then {push.format(run='RUN_DIR')}"
    return out
