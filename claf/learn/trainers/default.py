"""The training loop, generic over the task: any module whose ``forward(batch)`` returns ``.loss``.

One optimizer step consumes a *window* of ``gradient_accumulation_steps`` micro-batches (fewer
for the epoch's leftover). Each micro-batch's mean loss is weighted by its share of the window's
loss units (examples, or labelled tokens), summed over all ranks, so accumulated and distributed
updates equal the update of one big batch. Gradients are clipped once per optimizer step and
the scheduler counts optimizer steps. Under DDP the gradient all-reduce runs once per window.

After every evaluation (and at the end) ``<log_dir>/checkpoints/last`` records the model,
optimizer, scheduler, scaler, RNG states and data position; ``resume`` continues from it and
produces the same parameters and metrics as an uninterrupted run. With ``global_batch_size`` the
accumulation is derived from the world size (``layout``), and a resume on another world size (a
torchrun elastic restart after a node is lost) continues at the saved optimizer step with the same
global batches (``source.position_at``). A stop request
(``claf.learn.preempt``, e.g. a SIGTERM) saves it after the current step and raises ``Preempted``.
"""

import logging
import time
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import torch

from claf.config.errors import ConfigError
from claf.data.batch_source import as_batch_source, count_units, elastic_layout
from claf.learn import step_log
from claf.learn.checkpoint import find_last, load_last, save_last
from claf.learn.distributed import Distributed, to_device
from claf.learn.metric_logs import MetricLogs
from claf.learn.precision import autocast, describe_cpu, grad_scaler
from claf.learn.preempt import Preempted, requested
from claf.learn.run import rng_state
from claf.progress import bar as progress_bar
from claf.progress import set_enabled as set_progress
from claf.registry import TRAINERS

logger = logging.getLogger(__name__)


@dataclass
class Position:
    """Where a run stands: the data position and the early-stopping count (saved in checkpoints/last)."""

    epoch: int = 1
    batch: int = 0
    global_step: int = 0
    stale: int = 0
    finished: bool = False
    world_size: int = 1
    accumulation: int = 1
    global_batch: int | None = None  # examples per optimizer step (None: a source that does not say)

    @classmethod
    def from_saved(cls, saved: dict) -> "Position":
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in saved.items() if k in known})


@TRAINERS.register("default")
class Trainer:
    """The default trainer. ``options`` is the recipe's trainer block (``claf.config.specs.run.TrainerSpec``):
    validated once, its precision already resolved for this machine (``options.run_precision``)."""

    def __init__(self, options):
        self.options = options
        self.log_dir = Path(options.log_dir)
        self.num_epochs = options.num_epochs
        self.max_steps = options.max_steps
        self.metric_key = options.metric_key
        self.metric_mode = options.metric_mode
        self.early_stopping_threshold = options.early_stopping_threshold
        self.verbose_step_count = options.verbose_step_count
        self.eval_every = options.eval_and_save_step_count
        self.accumulation = options.gradient_accumulation_steps
        self.global_batch = options.global_batch_size
        self.step_log = options.step_log
        self.max_grad_norm = options.max_grad_norm
        self.precision = options.run_precision
        self.progress = options.progress
        set_progress(options.progress)  # the reading, featurizing and evaluation bars too
        self.resume = options.resume
        self.overwrite = options.overwrite  # run into a folder holding an earlier run, replacing it
        self.save_last = options.save_last
        self.num_threads = options.num_threads
        self.find_unused_parameters = options.find_unused_parameters

    def layout(self, batch_size, world_size):
        """The per-rank micro-batch for this world size; with ``global_batch_size``, also the accumulation
        that makes up the global batch (``self.accumulation``)."""
        if not self.global_batch:
            return batch_size
        micro, self.accumulation = elastic_layout(self.global_batch, batch_size, world_size)
        return micro

    def steps_per_epoch(self, num_batches):
        return self.options.steps_per_epoch(num_batches, self.accumulation)

    def total_steps(self, num_batches):
        """Optimizer steps of the run, from the micro-batches per epoch (on one rank)."""
        return self.options.total_steps(num_batches, self.accumulation)

    def train(
        self,
        model,
        batches,
        optimizer,
        scheduler=None,
        evaluate=None,
        save_best=None,
        writer=None,
        dist=None,
        on_save=None,
    ):
        """Train ``model`` on ``batches`` (a batch source, see claf.data.batch_source, or a list of batch dicts).

        ``evaluate()`` -> (scores, predictions) runs on every rank; ``save_best(predictions)``,
        ``on_save(step, last_dir)`` and ``writer`` (tensorboardX) are used on the main rank only.
        Returns the Metric Logs summary.
        """
        dist = dist or Distributed()
        source = as_batch_source(batches)
        per_epoch = len(source)
        total = self.total_steps(per_epoch)
        main = dist.is_main
        configured = self.options.precision
        if main:
            params = sum(p.numel() for p in model.parameters())
            trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
            logger.info(
                "run: log_dir %s, device %s, %d thread(s) x %d process(es), precision %s%s, "
                "%s parameters (%s trainable)",
                self.log_dir,
                f"{dist.device} ({describe_cpu()})" if dist.device.type == "cpu" else dist.device,
                torch.get_num_threads(),
                dist.world_size,
                self.precision,
                f" ({configured})" if configured != self.precision else "",
                f"{params:,}",
                f"{trainable:,}",
            )
        logs = MetricLogs(self.log_dir, self.metric_key, self.metric_mode, write=main)
        scaler = grad_scaler(self.precision)
        layout = {"world_size": dist.world_size, "accumulation": self.accumulation}
        position = Position(**layout, global_batch=getattr(source, "global_batch_size", None))
        last = find_last(self.resume, self.log_dir)
        if last is not None:
            saved_position, logs_state = load_last(last, model, optimizer, scheduler, scaler, dist.rank)
            saved = {k: saved_position.get(k, v) for k, v in layout.items()}
            global_batch = position.global_batch
            position = Position.from_saved(saved_position)
            # A source indexed by optimizer step re-slices for any layout, as long as a step holds the same
            # global batch (fine-tuning: the recorded size; pre-training: the schedule's, so None).
            elastic = hasattr(source, "position_at") and position.global_batch == global_batch
            if saved != layout and not elastic:
                raise ConfigError(
                    f"--trainer.resume {last}: saved with {saved}, now {layout}; the data position "
                    "counts micro-batches per rank, so resume with the same processes and accumulation, "
                    "or give trainer.global_batch_size to resume on another world size"
                )
            position.world_size, position.accumulation = dist.world_size, self.accumulation
            if hasattr(source, "position_at"):  # a source indexed by optimizer step: the epoch size and the
                position.epoch, position.batch = source.position_at(position.global_step)  # layout may change
            logs.load_state(logs_state)
            logger.info(
                "resumed from %s at epoch %d, batch %d, step %d",
                last,
                position.epoch,
                position.batch,
                position.global_step,
            )
        elif self.resume:
            logger.warning("trainer.resume: no checkpoint in %s yet; starting from scratch", self.log_dir)
        net = dist.wrap(model, self.find_unused_parameters)
        model.train()
        # A finished run stays finished unless it is extended (e.g. a larger max_steps) and did not stop early.
        early_stopped = bool(self.early_stopping_threshold) and position.stale >= self.early_stopping_threshold
        stop = position.global_step >= total or (position.finished and early_stopped)
        meter = _Meter()
        while not stop and position.epoch <= self.num_epochs:
            epoch = position.epoch
            bar = _progress(per_epoch, position.batch, f"epoch {epoch}", self.progress and main)
            for window in _windows(source.epoch(epoch, start=position.batch), self.accumulation):
                ids = step_log.window_ids(window) if self.step_log else None
                meter.add(*self._update(net, model, window, optimizer, scheduler, scaler, dist))
                position.batch += len(window)
                position.global_step = step = position.global_step + 1
                if ids is not None:
                    step_log.write(self.log_dir, step, epoch, ids, dist)
                if bar is not None:
                    bar.update(len(window))
                if self.verbose_step_count and step % self.verbose_step_count == 0:
                    self._log_train(meter, step, scheduler, dist, writer, bar)
                end_of_epoch = position.batch >= per_epoch
                due = end_of_epoch if self.eval_every == "epoch" else step % self.eval_every == 0
                stop = step >= total
                if end_of_epoch:
                    position.epoch, position.batch = epoch + 1, 0
                if due or stop:
                    stop = self._evaluate(evaluate, save_best, logs, position, epoch, meter, dist, writer) or stop
                    position.finished = stop
                    self._save_last(model, optimizer, scheduler, scaler, position, logs, dist, on_save)
                if stop:
                    break
                if dist.any(requested()):  # preempted: keep this step's state, then stop
                    if not due:
                        self._save_last(model, optimizer, scheduler, scaler, position, logs, dist, on_save)
                    raise Preempted(step, str(self.log_dir / "checkpoints" / "last"))
            if bar is not None:
                bar.close()
            if position.epoch == epoch:  # the source ran out before len(source) batches
                position.epoch, position.batch = epoch + 1, 0
        dist.barrier()
        return logs.finish()

    def _update(self, net, model, window, optimizer, scheduler, scaler, dist):
        """One optimizer step over a window of micro-batches; (weighted loss sum, units, rows)."""
        units = [count_units(batch, model) for batch in window]  # on the host copies: no device sync
        rows = sum(_rows(batch) for batch, u in zip(window, units) if u)
        if dist.enabled:  # the window's units over all ranks, kept on the device (no host sync per step)
            scale = dist.world_size / dist.sum_on_device(sum(units)).clamp(min=1)
        else:
            scale = dist.world_size / max(sum(units), 1)
        device = dist.device
        loss_sum = torch.zeros((), device=device)
        for i, (batch, u) in enumerate(zip(window, units)):
            batch = to_device(batch, device)  # pinned + asynchronous on CUDA
            with dist.no_sync(net, skip=i < len(window) - 1):
                with autocast(self.precision, device.type):
                    loss = net(batch).loss
                weight = u * scale
                weighted = loss.float() * (weight.float() if torch.is_tensor(weight) else weight)
                (scaler.scale(weighted) if scaler is not None else weighted).backward()
            loss_sum += loss.detach().float() * u
        # fp16: the gradients of the whole window are unscaled once, clipped unscaled, and the scaler steps and
        # updates once per optimizer step (a window with an inf/nan gradient skips the step, halving the scale)
        if scaler is not None:
            scaler.unscale_(optimizer)
        if self.max_grad_norm:
            torch.nn.utils.clip_grad_norm_(model.parameters(), self.max_grad_norm, foreach=True)
        if scaler is not None:
            scaler.step(optimizer)
            scaler.update()
        else:
            optimizer.step()
        if scheduler is not None:
            scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        return loss_sum, sum(units), rows

    def _log_train(self, meter, step, scheduler, dist, writer, bar):
        loss, rate = meter.interval(dist)
        lr = scheduler.get_last_lr()[0] if scheduler is not None else float("nan")
        if not dist.is_main:
            return
        logger.info("step %d loss %.4f lr %.2e %.1f samples/s", step, loss, lr, rate)
        if bar is not None:
            bar.set_postfix(loss=f"{loss:.4f}", samples_s=f"{rate:.1f}")
        if writer is not None:
            writer.add_scalar("train/loss", loss, step)
            writer.add_scalar("train/learning_rate", lr, step)
            writer.add_scalar("train/samples_per_second", rate, step)

    def _evaluate(self, evaluate, save_best, logs, position, epoch, meter, dist, writer):
        """Score, record, keep the best; True when early stopping says to stop."""
        train_rate, train_time = meter.since_eval(dist)
        if evaluate is None:
            return False
        step = position.global_step
        scores, predictions = evaluate()
        scores["train_samples_per_second"] = train_rate
        improved = logs.add(epoch, step, scores, train_time=train_time)
        if dist.is_main:
            logger.info("epoch %d step %d valid %s", epoch, step, _fmt(scores))
            if writer is not None:
                for key, value in scores.items():
                    writer.add_scalar(f"valid/{key}", value, step)
        if improved:
            position.stale = 0
            if save_best is not None and dist.is_main:
                save_best(predictions)
            return False
        position.stale += 1
        if self.early_stopping_threshold and position.stale >= self.early_stopping_threshold:
            logger.info("early stopping: no improvement in %d evaluations", position.stale)
            return True
        return False

    def _save_last(self, model, optimizer, scheduler, scaler, position, logs, dist, on_save):
        if not self.save_last:
            return
        rngs = dist.gather(rng_state())
        if dist.is_main:
            path = self.log_dir / "checkpoints" / "last"
            save_last(path, model, optimizer, scheduler, scaler, asdict(position), logs.state(), rngs)
            if on_save is not None:
                on_save(position.global_step, path)


class _Meter:
    """Training loss and throughput, kept on the device until logged (no per-step host sync)."""

    def __init__(self):
        self.loss, self.units, self.rows, self.eval_rows = 0.0, 0, 0, 0
        self.start = self.eval_start = time.perf_counter()

    def add(self, loss_sum, units, rows):
        self.loss = self.loss + loss_sum
        self.units += units
        self.rows += rows
        self.eval_rows += rows

    def interval(self, dist):
        loss, units, rows = dist.sum([float(self.loss), self.units, self.rows])
        rate = rows / max(time.perf_counter() - self.start, 1e-9)
        self.loss, self.units, self.rows, self.start = 0.0, 0, 0, time.perf_counter()
        return loss / max(units, 1), rate

    def since_eval(self, dist):
        seconds = time.perf_counter() - self.eval_start
        rows = dist.sum([self.eval_rows])[0]
        self.eval_rows, self.eval_start = 0, time.perf_counter()
        return rows / max(seconds, 1e-9), seconds


def _windows(batches, size):
    window = []
    for batch in batches:
        window.append(batch)
        if len(window) == size:
            yield window
            window = []
    if window:
        yield window


def _rows(batch):
    for value in batch.values():
        if torch.is_tensor(value) and value.dim() > 0:
            return len(value)
    return 1


def _progress(total, done, desc, enabled):
    if not enabled:
        return None
    progress = progress_bar(total=total, desc=desc, unit=" batches")
    progress.update(done)
    return progress


def _fmt(scores):
    return " ".join(f"{k}={v:.4f}" if isinstance(v, float) else f"{k}={v}" for k, v in scores.items())
