"""The training loop: optimizer steps, scheduled LR, periodic evaluation, best checkpoint, logs."""

import logging
import math
import time

import torch

from claf.data.batching import batch_order, collate
from claf.learn.metric_logs import MetricLogs
from claf.learn.precision import autocast, check_precision
from claf.registry import TRAINERS

logger = logging.getLogger(__name__)


@TRAINERS.register("default")
class Trainer:
    def __init__(self, log_dir, num_epochs=3, max_steps=None, metric_key="loss", metric_mode="auto",
                 early_stopping_threshold=None, verbose_step_count=100, eval_and_save_step_count="epoch",
                 gradient_accumulation_steps=1, max_grad_norm=1.0, precision="fp32", progress=True):
        check_precision(precision)
        if eval_and_save_step_count != "epoch" and not (isinstance(eval_and_save_step_count, int) and eval_and_save_step_count > 0):
            raise ValueError(f"trainer.eval_and_save_step_count must be 'epoch' or a positive int, got {eval_and_save_step_count!r}")
        self.log_dir = log_dir
        self.num_epochs = num_epochs
        self.max_steps = max_steps
        self.metric_key = metric_key
        self.metric_mode = metric_mode
        self.early_stopping_threshold = early_stopping_threshold
        self.verbose_step_count = verbose_step_count
        self.eval_every = eval_and_save_step_count
        self.accumulation = max(1, int(gradient_accumulation_steps))
        self.max_grad_norm = max_grad_norm
        self.precision = precision
        self.progress = progress

    def steps_per_epoch(self, num_batches):
        return math.ceil(num_batches / self.accumulation)

    def total_steps(self, num_batches):
        total = self.steps_per_epoch(num_batches) * self.num_epochs
        return min(total, self.max_steps) if self.max_steps else total

    def train(self, model, features, batch_size, pad_token_id, optimizer, scheduler, evaluate, save_best,
              seed=42, group_by_length=True, writer=None):
        """Train; ``evaluate()`` -> (scores, predictions); ``save_best(predictions)`` saves the model."""
        logs = MetricLogs(self.log_dir, self.metric_key, self.metric_mode)
        lengths = [len(f["input_ids"]) for f in features]
        num_batches = len(batch_order(lengths, batch_size, shuffle=False, group_by_length=False))
        total = self.total_steps(num_batches)
        device = next(model.parameters()).device
        step, stale, stop = 0, 0, False
        model.train()
        for epoch in range(1, self.num_epochs + 1):
            batches = batch_order(lengths, batch_size, shuffle=True, seed=seed + epoch, group_by_length=group_by_length)
            bar = _progress(len(batches), f"epoch {epoch}", self.progress)
            start, seen, running = time.perf_counter(), 0, []
            for b, indices in enumerate(batches):
                batch = {k: v.to(device) for k, v in collate(features, indices, pad_token_id).items()}
                with autocast(self.precision):
                    loss = model(batch).loss
                (loss / self.accumulation).backward()
                running.append(float(loss.detach()))
                seen += len(indices)
                if (b + 1) % self.accumulation and b + 1 < len(batches):
                    continue
                if self.max_grad_norm:
                    torch.nn.utils.clip_grad_norm_(model.parameters(), self.max_grad_norm)
                optimizer.step()
                scheduler.step()
                optimizer.zero_grad(set_to_none=True)
                step += 1
                rate = seen / (time.perf_counter() - start)
                if bar is not None:
                    bar.update(b + 1 - bar.n)
                    bar.set_postfix(loss=f"{running[-1]:.4f}", samples_s=f"{rate:.1f}")
                if writer is not None:
                    writer.add_scalar("train/loss", running[-1], step)
                    writer.add_scalar("train/learning_rate", scheduler.get_last_lr()[0], step)
                if self.verbose_step_count and step % self.verbose_step_count == 0:
                    logger.info("step %d loss %.4f lr %.2e %.1f samples/s", step, sum(running) / len(running),
                                scheduler.get_last_lr()[0], rate)
                    running = []
                if (self.eval_every == "epoch" and b + 1 == len(batches)) or (
                        self.eval_every != "epoch" and (step % self.eval_every == 0 or step >= total)):
                    scores, predictions = evaluate()
                    scores["train_samples_per_second"] = rate
                    improved = logs.add(epoch, step, scores, train_time=time.perf_counter() - start)
                    if writer is not None:
                        for key, value in scores.items():
                            writer.add_scalar(f"valid/{key}", value, step)
                    logger.info("epoch %d step %d valid %s", epoch, step, _fmt(scores))
                    if improved:
                        save_best(predictions)
                        stale = 0
                    else:
                        stale += 1
                        if self.early_stopping_threshold and stale >= self.early_stopping_threshold:
                            logger.info("early stopping: no improvement in %d evaluations", stale)
                            stop = True
                if step >= total or stop:
                    stop = True
                    break
            if bar is not None:
                bar.close()
            if stop:
                break
        return logs.finish()


def _progress(total, desc, enabled):
    if not enabled:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, leave=False, dynamic_ncols=True)


def _fmt(scores):
    return " ".join(f"{k}={v:.4f}" if isinstance(v, float) else f"{k}={v}" for k, v in scores.items())
