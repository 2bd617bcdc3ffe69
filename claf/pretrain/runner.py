"""Assemble a pre-training run from a frozen recipe and drive it through the shared trainer.

<log_dir>/config.json              the frozen recipe (python pretrain.py --base_config <log_dir> re-runs it)
<log_dir>/corpus.json              the prepared corpus report (shards vs raw storage)
<log_dir>/budget.json              with trainer.budget_minutes: the steps that fit and what was measured
<log_dir>/metrics.json             held-out MLM loss/accuracy at each checkpoint (Metric Logs)
<log_dir>/checkpoints/last/        exact resume (trainer.resume true)
<log_dir>/checkpoints/<name>-<k>k/ published checkpoints (save_pretrained + tokenizer)
<log_dir>/tensorboard/
"""

import json
import logging
import time

logger = logging.getLogger(__name__)


def build_data(cfg, tokenizer, tokenizer_folder, dist=None):
    """The prepared corpus (rank 0 prepares, the others then reuse it)."""
    from claf.pretrain.prepare import prepare_corpus

    c = cfg.corpus
    options = dict(
        files=c.file_entries,
        tokenizer=tokenizer,
        tokenizer_folder=tokenizer_folder,
        output_dir=c.prepared_dir,
        shard_size_mb=c.shard_size_mb,
        document_separator=c.document_separator,
        text_column=c.text_column,
        header=c.header,
        line_limit=c.line_limit,
        sentence_split=c.sentence_split,
        exclude=c.exclude.to_dict() if c.exclude is not None else None,
    )
    if dist is not None and dist.enabled and not dist.is_main:
        dist.barrier()
        return prepare_corpus(**options)
    corpus = prepare_corpus(**options)
    if dist is not None and dist.enabled:
        dist.barrier()
    return corpus


def run_pretraining(cfg, on_publish=None, fitted=None):
    """Pre-train the recipe ``cfg`` (a ``PretrainSpec``, validated once); ``on_publish(entry)`` is called
    after each checkpoint is published (errors are logged). ``fitted``: the ``budget.json`` record of an
    earlier replica, whose steps this one runs instead of fitting ``trainer.budget_minutes`` again."""
    from claf.atomic import atomic_write_text
    from claf.hub.store import open_store
    from claf.learn.checkpoint import find_last
    from claf.learn.run import start_run
    from claf.pretrain.budget import BUDGET_FILE, measure, plan_budget, recorded_budget
    from claf.pretrain.build import build_model
    from claf.pretrain.evaluation import PretrainEvaluator
    from claf.pretrain.holdout import check_resume
    from claf.pretrain.instances import Specials
    from claf.pretrain.masking import Masker
    from claf.pretrain.publish import checkpoint_name, export_checkpoint, publish_checkpoint
    from claf.pretrain.schedules import LengthSchedule, MaskSchedule
    from claf.pretrain.stream import PretrainBatches, StepLayout
    from claf.pretrain.tokenizer import load_tokenizer

    started = time.perf_counter()
    ckpt = cfg.checkpoint
    minutes = cfg.trainer.budget_minutes
    save_every = ckpt.save_every_steps
    run = start_run(cfg, _trainer_options(cfg, cfg.trainer.max_steps))
    trainer, dist, log_dir = run.trainer, run.dist, run.log_dir
    store = open_store(ckpt.store, ckpt.local.to_dict(), ckpt.s3.to_dict()) if dist.is_main else None
    last = find_last(trainer.resume, log_dir)
    if last is not None:
        check_resume(last.parent.parent, cfg.evaluation)
    budget = None  # the budget.json record
    if minutes is not None and last is not None:  # a resumed budgeted run keeps its steps
        budget = recorded_budget(log_dir, minutes)
    elif minutes is not None and fitted:
        budget = dict(fitted)
    if budget is not None:
        cfg = _with_steps(cfg, run, int(budget["max_steps"]))
    fitting = minutes is not None and budget is None
    if not fitting:
        _start(cfg, run, store, last)

    tokenizer, tokenizer_folder = load_tokenizer(cfg.tokenizer.name_or_path)
    corpus = build_data(cfg, tokenizer, tokenizer_folder, dist)
    specials = Specials(tokenizer)
    m = cfg.masking
    masker = Masker(
        specials,
        strategy=m.strategy,
        mlm_probability=m.mlm_probability,
        mask_replace_prob=m.mask_replace_prob,
        random_replace_prob=m.random_replace_prob,
        max_ngram=m.max_ngram,
    )
    lengths = LengthSchedule(cfg.schedule.phases)
    share = cfg.schedule.ngram_share
    mask_schedule = MaskSchedule(share.start, share.end, share.start_step, share.end_step)
    holdout, holdout_from = cfg.evaluation.holdout_documents, cfg.evaluation.holdout_from
    layout = StepLayout(save_every, trainer.accumulation, dist.rank, dist.world_size)
    batches = PretrainBatches(
        corpus,
        specials,
        lengths,
        masker,
        mask_schedule,
        layout,
        cfg.instances,
        cfg.seed_num,
        holdout,
        holdout_from=holdout_from,
    )

    model = build_model(cfg.model, tokenizer, max(lengths.lengths))
    report = corpus.report()
    if cfg.model.embedding_init is not None:
        from claf.pretrain.embedding_init import init_embeddings

        report["embedding_init_seconds"] = round(
            init_embeddings(model, corpus, cfg.model.embedding_init, holdout, holdout_from), 2
        )
    if dist.is_main:
        atomic_write_text(log_dir / "corpus.json", json.dumps(report, indent=2) + "\n")
    model = model.to(dist.device)

    evaluators = {}  # by sequence length: the budget's measurement and the run share one when they can

    def make_evaluator(max_seq_length):
        if not holdout:
            return None
        if max_seq_length in evaluators:
            return evaluators[max_seq_length]
        evaluators[max_seq_length] = PretrainEvaluator(
            model,
            corpus,
            specials,
            masker,
            instance_format=cfg.instances.format,
            max_seq_length=max_seq_length,
            holdout_documents=holdout,
            holdout_from=holdout_from,
            evaluation=cfg.evaluation,
            precision=trainer.precision,
            seed=cfg.seed_num,
            device=dist.device,
        )
        return evaluators[max_seq_length]

    if fitting:  # the steps that fit the minutes left, measured on this machine (claf.pretrain.budget)
        measured = measure(
            model,
            batches,
            trainer,
            dist,
            lambda probe: run.optimizer_and_scheduler(probe, 1)[0],
            lengths.phases,
            make_evaluator(max(lengths.lengths)),  # timed at the longest length
            tokenizer,
        )
        budget = plan_budget(minutes, started, *measured, save_every, dist)
        cfg = _with_steps(cfg, run, budget["max_steps"])
        _start(cfg, run, store, last)
    if budget is not None and dist.is_main and last is None:
        atomic_write_text(log_dir / BUDGET_FILE, json.dumps(budget, indent=2) + "\n")
    total_steps = cfg.trainer.max_steps
    evaluator = make_evaluator(lengths.at(total_steps - 1)[0])
    optimizer, scheduler = run.optimizer_and_scheduler(model, total_steps)
    published = []

    def on_save(step, _last_dir):
        if step % save_every and step < total_steps:
            return
        name = checkpoint_name(cfg.name, step)
        meta = {"recipe": cfg.name, "step": step, "config": cfg.to_dict(), "corpus": corpus.manifest["fingerprint"]}
        folder = export_checkpoint(model.net, tokenizer, log_dir / "checkpoints" / name, meta)
        compute = _compute(log_dir, step, dist)
        published.append(
            publish_checkpoint(
                folder, store, keep_archive=ckpt.keep_archive, overwrite=trainer.overwrite, compute=compute
            )
        )
        _record(log_dir / "published.json", published[-1])
        if on_publish is not None:
            try:
                on_publish(published[-1])
            except Exception as e:  # queueing fine-tunes never stops pre-training
                logger.warning("on_publish(%s) failed: %s: %s", name, type(e).__name__, e)

    logger.info(
        "pre-training %s: %d steps, schedule %s, %s instances, %s masking, %d parameters",
        cfg.name,
        total_steps,
        lengths.describe(),
        cfg.instances.format,
        m.strategy,
        sum(p.numel() for p in model.parameters()),
    )
    with run.tensorboard() as writer:
        summary = trainer.train(
            model, batches, optimizer, scheduler, evaluator, None, writer=writer, dist=dist, on_save=on_save
        )
    out = dict(summary, published=published, corpus=corpus.report())
    if budget is not None:
        out["budget"] = budget
    return out


def _trainer_options(cfg, total_steps):
    """One trainer "epoch" is one checkpoint interval of the endless stream: extending max_steps and
    resuming simply adds epochs, and (epoch, batch) positions keep their meaning across runs."""
    save_every = cfg.checkpoint.save_every_steps
    return cfg.trainer.model_copy(
        update=dict(
            max_steps=total_steps,
            num_epochs=-(-total_steps // save_every),
            eval_and_save_step_count=save_every,
            metric_key="loss",
            metric_mode="min",
        )
    )


def _with_steps(cfg, run, total_steps):
    """The recipe with ``max_steps`` fixed (a time budget's): the run's config and its trainer follow it."""
    from claf.config.specs import build_spec

    data = cfg.to_dict()
    data["trainer"] = dict(data["trainer"], max_steps=total_steps)
    cfg = run.cfg = build_spec("pretrain", data, cfg.source)
    run.trainer.options = options = _trainer_options(cfg, total_steps)
    run.trainer.num_epochs, run.trainer.max_steps = options.num_epochs, options.max_steps
    return cfg


def _start(cfg, run, store, last):
    """A fresh run's names must be free; then ``config.json`` (with the steps the run will take)."""
    from claf.pretrain.publish import check_unpublished, checkpoint_name

    save_every, total_steps = cfg.checkpoint.save_every_steps, cfg.trainer.max_steps
    if run.dist.is_main and not last:
        steps = sorted({*range(save_every, total_steps + 1, save_every), total_steps})
        check_unpublished(store, [checkpoint_name(cfg.name, s) for s in steps], run.trainer.overwrite)
    run.write_config()


def _compute(log_dir, step, dist):
    """The compute figures of the checkpoint at ``step`` (``claf.pretrain.publish.compute_figures``) from the
    history the trainer has just written."""
    import torch

    from claf.pretrain.publish import compute_figures

    path = log_dir / "metrics.json"
    history = json.loads(path.read_text(encoding="utf-8")).get("history", []) if path.is_file() else []
    return compute_figures(history, step, torch.get_num_threads(), dist.world_size, torch.device(dist.device).type)


def _record(path, entry):
    """Add a published checkpoint to <log_dir>/published.json (earlier runs' entries stay)."""
    from claf.atomic import atomic_write_text

    entries = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else []
    entries = [e for e in entries if e.get("name") != entry["name"]] + [entry]
    atomic_write_text(path, json.dumps(entries, indent=2) + "\n")
