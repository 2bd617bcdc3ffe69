"""``python -m claf quickstart``: the main job end to end, in one command.

  1. pre-train the tiny LaRva (pretrain/larva_kor_tiny) and publish larva-kor-tiny-<k>k to the local store
  2. fine-tune NSMC from the final checkpoint by name (klue/nsmc_larva_tiny)
  3. the evaluation factory (factory/larva_kor_tiny_klue) on the final checkpoint and its random init
  4. claf compare <final checkpoint> <its random init> on the benchmark database
  5. a summary (the verdicts, the dashboard URL, the run folders, the database), then the dashboard

Each step is one ``python -m claf <verb> ...`` line (``--dry_run`` prints them), run in this process by
the verb's own ``main``. A step whose output exists is skipped, so running the command again after an
interruption continues where it stopped. ``--smoke`` shrinks every step and keeps its checkpoint store,
cache and database inside ``--work_dir``: an install check in well under a minute.

``--budget_minutes M`` pre-trains for the steps that fit in M minutes on this machine
(``trainer.budget_minutes``, see ``claf.pretrain.budget``) instead of the recipe's fixed steps. The final
checkpoint's name then depends on the steps fitted: the plan names it ``<model>-<fitted>`` until
pre-training has written ``budget.json``, and the steps after it are planned again from that record.
"""

import contextlib
import io
import json
import os
import shlex
import sys
from dataclasses import dataclass, field
from pathlib import Path

from claf.commands.args import Flag, Spec, parse
from claf.commands.common import fail, guarded
from claf.errors import MissingFileError

PROG = "python -m claf quickstart"
SPECS = {
    "": Spec(
        PROG,
        "Pre-train the tiny LaRva, fine-tune NSMC from it, run the factory, compare, start the dashboard.",
        (
            Flag("work_dir", "where the run folders go", default="quickstart", metavar="DIR"),
            Flag("port", "the dashboard's port", type=int, default=8765),
            Flag("no_serve", "end after the summary instead of starting the dashboard", switch=True),
            Flag("dry_run", "print every step as its command line; run nothing", switch=True),
            Flag("smoke", "a tiny run of every step (store, cache and database inside --work_dir)", switch=True),
            Flag(
                "budget_minutes",
                "pre-train for the steps that fit in M minutes on this machine (trainer.budget_minutes)",
                type=float,
                metavar="M",
            ),
        ),
    )
}
PRETRAIN, NSMC, FACTORY = "pretrain/larva_kor_tiny", "klue/nsmc_larva_tiny", "factory/larva_kor_tiny_klue"
NSMC_SIZE = {"data_reader.train_limit": 10000, "data_reader.valid_limit": 5000, "trainer.num_epochs": 1}
SMOKE_NSMC = {
    "data_reader.train_limit": 64,
    "data_reader.valid_limit": 32,
    "trainer.num_epochs": 1,
    "seq_cls.max_seq_length": 32,
    "iterator.batch_size": 16,
}
SMOKE_PRETRAIN = {
    "name": "larva-kor-tiny-smoke",
    "tokenizer.name_or_path": "vocab/koelectra",  # a saved vocab: no 8k vocab build
    "corpus.files": ["corpus/ko/nsmc_raw_reviews.txt"],
    "corpus.line_limit": 400,
    "corpus.exclude": None,  # reading the whole suite to exclude its rows takes longer than the rest
    "corpus.shard_size_mb": 0.05,
    "transformers_config.hidden_size": 32,
    "transformers_config.num_hidden_layers": 1,
    "transformers_config.num_attention_heads": 2,
    "transformers_config.intermediate_size": 64,
    "transformers_config.max_position_embeddings": 32,
    "schedule.sequence_length": [[None, 32, 8]],
    "evaluation.holdout_documents": 0,
    "trainer.max_steps": 4,
    "checkpoint.save_every_steps": 2,
    "trainer.progress": False,
}
STEPS = ("pretrain", "finetune", "factory", "compare", "serve")
SMOKE_BUDGET_EVERY = 1_000_000
FITTED = "<fitted>"  # the final checkpoint's step before a time budget has fitted it


def flags(values: dict) -> list[str]:
    """``{"a.b": 1, "c": [1]}`` -> ``["--a.b", "1", "--c", "[1]"]`` (lists, dicts and null as JSON)."""
    out = []
    for key, value in values.items():
        text = value if isinstance(value, str) else json.dumps(value)
        out += [f"--{key}", text]
    return out


@dataclass(frozen=True)
class Step:
    title: str
    argv: list[str]

    @property
    def line(self) -> str:
        return "python -m claf " + shlex.join(self.argv)


@dataclass
class Plan:
    work: Path
    smoke: bool
    port: int
    published: list[str]  # the names pre-training publishes, the final one last
    db: str | None  # the database URL the steps are given (None: their default)
    env: dict[str, str] = field(default_factory=dict)
    steps: dict[str, Step] = field(default_factory=dict)
    factory_overrides: list[str] = field(default_factory=list)
    corpus_files: list[str] = field(default_factory=list)
    benchmark: str = "klue"
    model: str = ""  # the pre-training run's name: its checkpoints are <model>-<step>
    budget: float | None = None  # --budget_minutes

    @property
    def final(self) -> str:
        return self.published[-1]

    @property
    def fitted(self) -> bool:
        """False while a time budget has not fitted the steps yet (the final name holds ``<fitted>``)."""
        return not self.final.endswith(FITTED)

    @property
    def targets(self) -> tuple[str, str]:
        """``claf compare``'s (A, B): ``larva-kor-tiny@8k`` and ``larva-kor-tiny-random-init``."""
        model = self.model
        return f"{model}@{self.final[len(model) + 1 :]}", f"{model}-random-init"

    def folder(self, step: str) -> Path:
        return self.work / {"pretrain": "pretrain", "finetune": "nsmc", "factory": "factory"}[step]


def make_plan(work_dir: str, smoke: bool, port: int, budget: float | None = None) -> Plan:
    from claf.config import resolve_config
    from claf.pretrain.publish import checkpoint_name

    work = Path(work_dir).expanduser().resolve()
    db = f"sqlite:///{work / 'bench.sqlite'}" if smoke else None
    env = {"CLAF_HUB_DIR": str(work / "hub"), "CLAF_CACHE": str(work / "cache"), "CLAF_HOME": str(work / "home")}
    smoke_pre = dict(SMOKE_PRETRAIN if smoke else {})
    if smoke and budget is not None:  # thousands of tiny steps fit: publish the final checkpoint, not one every 2
        smoke_pre["checkpoint.save_every_steps"] = SMOKE_BUDGET_EVERY
    pre = flags(smoke_pre)
    pre += flags({"trainer.log_dir": str(work / "pretrain"), "corpus.prepared_dir": str(work / "corpus")})
    pre += flags({"trainer.resume": True})  # an interrupted run continues (a fresh one starts from scratch)
    if budget is not None:
        pre += flags({"trainer.budget_minutes": budget})
    cfg = resolve_config(PRETRAIN, pre, kind="pretrain")
    every, total = cfg.checkpoint.save_every_steps, cfg.trainer.max_steps
    if budget is not None:  # the steps are the run's to fit: known once it has written budget.json
        from claf.pretrain.budget import read_budget

        record = read_budget(work / "pretrain")
        total = int(record["max_steps"]) if record else None
    if total is None:
        names = [f"{cfg.name}-{FITTED}"]
    else:
        names = [checkpoint_name(cfg.name, s) for s in sorted({*range(every, total + 1, every), total})]
    plan = Plan(work, smoke, port, names, db, env if smoke else {}, model=cfg.name, budget=budget)
    plan.corpus_files = [f if isinstance(f, str) else f.path for f in cfg.corpus.files]
    db_flag = ["--db", db] if db else []
    size = SMOKE_NSMC if smoke else NSMC_SIZE
    tune = flags({"bert_for_seq_cls.pretrained_model_name": plan.final, **size})
    tune += flags({"trainer.log_dir": str(plan.folder("finetune")), "trainer.resume": True})
    plan.factory_overrides = flags(
        {"checkpoints.names": [plan.final], "executor.work_dir": str(plan.folder("factory"))}
    )
    if smoke:  # one task, one seed, the smoke sizes, both jobs at once
        task = {"task": "nsmc", "base_config": NSMC, "seeds": 1, "overrides": dict(SMOKE_NSMC)}
        plan.factory_overrides += flags({"suite.tasks": [task], "executor.workers": 2})
    benchmark = str(resolve_config(FACTORY, plan.factory_overrides, kind="factory").benchmark.name)
    a, b = plan.targets
    plan.benchmark = benchmark
    plan.steps = {
        "pretrain": Step(
            f"pre-train the tiny LaRva, publishing {', '.join(names)}", ["pretrain", "--base_config", PRETRAIN, *pre]
        ),
        "finetune": Step(f"fine-tune NSMC from {plan.final}", ["train", "--base_config", NSMC, *tune]),
        "factory": Step(
            f"the evaluation factory on {plan.final} and its random init",
            ["factory", "run", "--base_config", FACTORY, *plan.factory_overrides, *db_flag],
        ),
        "compare": Step(f"compare {a} with {b}", ["compare", a, b, "--benchmark", benchmark, *db_flag]),
        "serve": Step("the dashboard", ["server", "--port", str(port), *db_flag]),
    }
    return plan


def plan_text(plan: Plan) -> str:
    """The plan as a shell script: every step's comment line, then its command line."""
    budget = f" --budget_minutes {plan.budget:g}" if plan.budget is not None else ""
    lines = [f"# {PROG}{' --smoke' if plan.smoke else ''}{budget}: the plan (nothing was run)"]
    if not plan.fitted:
        lines.append(f"# {FITTED}: the final step, fitted to {plan.budget:g} minutes by step 1 (steps 2-4 use it)")
    if plan.env:
        lines.append("export " + " ".join(f"{k}={shlex.quote(v)}" for k, v in plan.env.items()))
    if not os.environ.get("CLAF_DATA_MIRROR"):
        lines.append(f"# CLAF_DATA_MIRROR is not set: step 1 needs it ({mirror_fix()})")
    for i, key in enumerate(STEPS, 1):
        lines += [f"# {i}/{len(STEPS)} {plan.steps[key].title}", plan.steps[key].line]
    return "\n".join(lines)


def mirror_fix() -> str:
    return "export CLAF_DATA_MIRROR=/path/to/your/copy/of/the/datasets"


def check_mirror(plan: Plan) -> None:
    """Pre-training reads a mirror-only corpus: a missing one is one line naming CLAF_DATA_MIRROR."""
    from claf.data.sources import mirror_root

    root = mirror_root()
    missing = [f for f in plan.corpus_files if not Path(f).is_file() and not (root and (root / f).is_file())]
    if not missing:
        return
    if root is None:
        raise MissingFileError(
            f"quickstart pre-trains on a corpus that only the data mirror holds ({missing[0]}): "
            f"CLAF_DATA_MIRROR is not set; {mirror_fix()} and run {PROG} again"
        )
    raise MissingFileError(
        f"CLAF_DATA_MIRROR={root} has no {missing[0]} (the pre-training corpus): point CLAF_DATA_MIRROR "
        f"at a full copy of the datasets and run {PROG} again"
    )


# ---- what is done already --------------------------------------------------------------------------
def pretrain_done(plan: Plan) -> str | None:
    from claf.hub.index import lookup

    if not plan.fitted:
        return None
    entry = lookup(plan.final)
    return f"{plan.final} is already published ({entry['url']})" if entry else None


def finetune_done(plan: Plan) -> str | None:
    state = plan.folder("finetune") / "checkpoints" / "last" / "trainer_state.json"
    if state.is_file() and json.loads(state.read_text(encoding="utf-8")).get("finished"):
        return f"{plan.folder('finetune')} holds a finished run"
    return None


def factory_jobs(plan: Plan) -> tuple[int, int, str]:
    """(jobs of the recipe's checkpoints that are done, how many there are, the recipe's name)."""
    from claf.factory.factory import open_store_for
    from claf.factory.recipe import discover, expand, load_recipe, recipe_name
    from claf.queue.jobs import job_key

    recipe = load_recipe(FACTORY, plan.factory_overrides)
    name = recipe_name(recipe)
    specs = expand(recipe, discover(recipe), name)
    keys = {job_key(s["checkpoint_sha256"], s["task"], s["seed"], s["config_hash"]) for s in specs}
    done = {j["key"] for j in open_store_for(recipe, None, plan.db).jobs(name) if j["state"] == "done"}
    return len(keys & done), len(keys), name


def factory_done(plan: Plan) -> str | None:
    from claf.hub.index import lookup

    if not plan.fitted or lookup(plan.final) is None:
        return None
    done, total, _name = factory_jobs(plan)
    return f"its {total} jobs are done" if total and done == total else None


DONE = {"pretrain": pretrain_done, "finetune": finetune_done, "factory": factory_done}


# ---- running -----------------------------------------------------------------------------------------
@contextlib.contextmanager
def environment(values: dict[str, str]):
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def say(text: str) -> None:
    print(text, flush=True)


def claf(argv: list[str]) -> int:
    from claf.commands import main as claf_main

    return claf_main(argv)


def execute(plan: Plan, serving: bool, again: str) -> int:
    plan.work.mkdir(parents=True, exist_ok=True)
    n = len(STEPS)
    for i, key in enumerate(("pretrain", "finetune", "factory"), 1):
        if key != "pretrain" and not plan.fitted:  # pre-training has fitted the steps: plan the rest from them
            plan = make_plan(str(plan.work), plan.smoke, plan.port, plan.budget)
            if not plan.fitted:
                return fail(f"pre-training wrote no {plan.work / 'pretrain' / 'budget.json'}; `{again}` retries", 1)
        step = plan.steps[key]
        done = DONE[key](plan)
        if done:
            say(f"quickstart {i}/{n} {step.title}: skipped, {done}")
            continue
        if key == "pretrain":
            check_mirror(plan)
        say(f"quickstart {i}/{n} {step.title}\n$ {step.line}")
        status = claf(step.argv)
        if status:
            return fail(
                f"quickstart step {i} ({key}) exited {status}; fix what it said, then `{again}` continues", status
            )
    done, total, recipe = factory_jobs(plan)
    if done < total:
        db = f" --db {plan.db}" if plan.db else ""
        return fail(
            f"the factory finished {done} of its {total} jobs; `python -m claf factory status --recipe {recipe}{db}` "
            f"says why, and `{again}` retries",
            1,
        )
    step = plan.steps["compare"]
    say(f"quickstart 4/{n} {step.title}\n$ {step.line}")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        status = claf(step.argv)
    if status:
        return fail(f"quickstart step 4 (compare) exited {status}", status)
    table = out.getvalue().strip()
    (plan.work / "compare.md").write_text(table + "\n", encoding="utf-8")
    say(summary(plan, table, serving))
    return 0


def serve(plan: Plan) -> int:
    say(f"quickstart 5/{len(STEPS)} {plan.steps['serve'].title} (Ctrl-C stops it)\n$ {plan.steps['serve'].line}")
    return claf(plan.steps["serve"].argv)


def summary(plan: Plan, table: str, serving: bool) -> str:
    from claf.db.engine import default_url

    url = f"http://127.0.0.1:{plan.port}"
    a, b = plan.targets
    db = plan.db or default_url()
    published = plan.folder("pretrain") / "published.json"
    if published.is_file():
        names = [e["name"] for e in json.loads(published.read_text(encoding="utf-8"))]
        pretrain = f"{plan.folder('pretrain')}  (published {', '.join(names)})"
    else:
        pretrain = f"- (not run here: {plan.final} was published before)"
    metrics = plan.folder("finetune") / "metrics.json"
    score = json.loads(metrics.read_text(encoding="utf-8")).get("best_score") if metrics.is_file() else None
    rows = [
        (
            "dashboard",
            f"{url}/benchmarks/{plan.benchmark}" + ("" if serving else f"  (start it: {plan.steps['serve'].line})"),
        ),
        ("compare page", f"{url}/benchmarks/{plan.benchmark}/compare?a={a}&b={b}"),
        ("pre-training", pretrain),
        ("NSMC run", f"{plan.folder('finetune')}" + (f"  (accuracy {score:.2f})" if score is not None else "")),
        ("factory", f"{plan.folder('factory')}  (its job folders)"),
        ("database", db[len("sqlite:///") :] if db.startswith("sqlite:///") else db),
        ("verdicts", str(plan.work / "compare.md")),
    ]
    width = max(len(k) for k, _ in rows)
    head = f"quickstart: done ({'smoke run, ' if plan.smoke else ''}work dir {plan.work})"
    return "\n".join([head, "", table, "", *(f"{k.ljust(width)}  {v}" for k, v in rows)])


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parse(SPECS[""], argv)
    again = shlex.join(["python", "-m", "claf", "quickstart", *argv])

    def run() -> int:
        if args.budget_minutes is not None and args.budget_minutes <= 0:
            return fail(f"--budget_minutes {args.budget_minutes:g}: give a number of minutes above 0", 2)
        plan = make_plan(args.work_dir, args.smoke, args.port, args.budget_minutes)
        if args.dry_run:
            say(plan_text(plan))
            return 0
        with environment(plan.env):
            try:
                status = execute(plan, serving=not args.no_serve, again=again)
            except KeyboardInterrupt:
                return fail(f"interrupted; `{again}` continues where it stopped", 130)
            return status or (0 if args.no_serve else serve(plan))

    return guarded(run)
