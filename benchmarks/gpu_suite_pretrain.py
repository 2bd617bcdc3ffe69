"""Pre-training section of benchmarks/gpu_suite.py: the BERT-base shape, masked LM at one length, bf16 (SDPA
attention), through this framework's step (the trainer's own update over the LaRva stream) and through
transformers' ``BertForMaskedLM`` fed by ``DataCollatorForLanguageModeling`` on the same instances, from the
same initial weights. Per implementation: sequences/s, tokens/s, MFU against the measured bf16 matmul peak,
the GPU's busy share (CUDA events), the host's time waiting for data, and the rate with the batches already
on the device (the data pipeline taken away)."""

import copy
import time
from pathlib import Path

from gpu_suite_common import StepClock, mirror, slice_or_mirror, synchronize

CORPUS = "corpus/ko/nsmc_raw_reviews.txt"
TOKENIZER = "vocab/koelectra"


def batch_stats(config, batch):
    """(rows, real tokens, useful training FLOPs) of a batch on the host: 6 x encoder matmul parameters per real
    token, the attention matmuls over the padded length, and the LM head on the masked tokens only (what either
    implementation must compute)."""
    h, layers, inter, vocab = config.hidden_size, config.num_hidden_layers, config.intermediate_size, config.vocab_size
    ids = batch["input_ids"]
    mask = batch.get("attention_mask")
    tokens = int(mask.sum()) if mask is not None else int((ids != config.pad_token_id).sum())
    masked = int((batch["labels"] != -100).sum())
    encoder = layers * (4 * h * h + 2 * h * inter)
    work = tokens * (6 * encoder + 12 * layers * h * ids.shape[1]) + masked * 6 * (h * h + h * vocab)
    return ids.shape[0], tokens, work


def corpus_file(settings, slices):
    """The carried slice of the corpus, else the first ``pt_corpus_lines`` lines of the mirror's copy written
    to the work folder (the whole 57 MB file is neither read nor checksummed for a slice of it)."""
    carried = slice_or_mirror(slices, CORPUS)
    if carried != CORPUS:
        return carried
    head = Path(settings.work) / "corpus_head.txt"
    if not head.is_file():
        with open(mirror() / CORPUS, encoding="utf-8") as src:
            lines = [line for _, line in zip(range(settings.pt_corpus_lines or 10**9), src)]
        head.write_text("".join(lines), encoding="utf-8")
    return str(head)


def stream(settings, slices):
    from claf.config.specs.pretrain import InstancesSpec
    from claf.pretrain.instances import Specials
    from claf.pretrain.masking import Masker
    from claf.pretrain.prepare import prepare_corpus
    from claf.pretrain.schedules import LengthSchedule, MaskSchedule
    from claf.pretrain.stream import PretrainBatches, StepLayout
    from claf.pretrain.tokenizer import load_tokenizer

    tokenizer, folder = load_tokenizer(str(mirror() / TOKENIZER))
    corpus = prepare_corpus(
        files=[corpus_file(settings, slices)],
        tokenizer=tokenizer,
        tokenizer_folder=folder,
        output_dir=str(Path(settings.work) / "pretrain_corpus"),
        shard_size_mb=64.0,
        line_limit=settings.pt_corpus_lines,
    )
    specials = Specials(tokenizer)
    batches = PretrainBatches(
        corpus,
        specials,
        LengthSchedule([[None, settings.pt_length, settings.pt_batch]]),
        Masker(specials, "subword"),
        MaskSchedule(),
        StepLayout(steps_per_epoch=10**6),
        InstancesSpec(format="full_sentence"),
    )
    return tokenizer, batches


def measure(step, next_batch, settings, stats, peak):
    """Time ``step(batch)`` over warm-up + measured steps: rates, MFU, busy share and data wait. ``next_batch()``
    gives (batch, its host copy or None) so the counts never read device memory."""
    clock = StepClock(settings.device)
    losses, seconds_data, rows, tokens, work = [], 0.0, 0, 0, 0
    for i in range(settings.pt_warmup + settings.pt_steps):
        if i == settings.pt_warmup:
            synchronize(settings.device)
            start = time.perf_counter()
        before = time.perf_counter()
        batch, host = next_batch()
        waited = time.perf_counter() - before
        mark = clock.begin()
        loss = step(batch)
        if i >= settings.pt_warmup:
            clock.end(mark)
            seconds_data += waited
            n, t, w = stats(batch if host is None else host)
            rows, tokens, work = rows + n, tokens + t, work + w
            losses.append(loss)
    synchronize(settings.device)
    wall = time.perf_counter() - start
    busy = clock.busy_share()
    return {
        "sequences_per_s": round(rows / wall, 1),
        "tokens_per_s": round(tokens / wall, 1),
        "mfu_percent": round(100 * work / wall / 1e12 / peak, 2) if peak else None,
        "gpu_busy_share" if clock.cuda else "busy_share_host_clock": round(busy, 3) if busy is not None else None,
        "data_wait_share": round(seconds_data / wall, 3),
        "losses": [round(float(x), 4) for x in losses[:: max(1, len(losses) // 6)]],
    }


def pretrain(settings, deadline, peaks, slices=None):
    import torch
    from transformers import BertConfig, BertForMaskedLM, DataCollatorForLanguageModeling

    from claf.config.specs.run import TrainerSpec
    from claf.learn.distributed import Distributed, to_device
    from claf.learn.optimizers import adamw
    from claf.learn.precision import autocast
    from claf.learn.trainers.default import Trainer
    from claf.pretrain.model import PretrainModel

    tokenizer, batches = stream(settings, slices)
    device = torch.device(settings.device)
    config = BertConfig(
        vocab_size=len(tokenizer),
        max_position_embeddings=512,
        pad_token_id=tokenizer.pad_token_id,
        attn_implementation="sdpa",
        **settings.pt_shape,
    )
    torch.manual_seed(0)
    net = BertForMaskedLM(config)
    theirs = copy.deepcopy(net).to(device)
    ours = PretrainModel(net).to(device)
    peak = peaks.get("bf16")
    stats = lambda batch: batch_stats(config, batch)  # noqa: E731
    trainer = Trainer(TrainerSpec(log_dir=str(Path(settings.work) / "pretrain_log"), precision="bf16", progress=False))
    dist = Distributed(device=device)
    runner = torch.compile(ours) if settings.pt_compile else ours
    opt_ours = adamw(ours, 1e-4)

    def our_step(batch):  # the trainer's own optimizer step (autocast, clipping, fused AdamW)
        loss_sum, units, _rows = trainer._update(runner, ours, [batch], opt_ours, None, None, dist)
        return loss_sum / max(units, 1)

    source = batches.epoch(1)
    results = {"claf": measure(our_step, lambda: (next(source), None), settings, stats, peak)}
    results["claf"]["attention"] = ours.net.config._attn_implementation
    results["claf"]["torch_compile"] = settings.pt_compile

    # the same instances for HF, unmasked again (the collator masks them its own way), built before timing
    need = settings.pt_warmup + settings.pt_steps
    instances = [batches.micro_batch(10_000 + i) for i in range(need)]
    rows = [
        [
            {"input_ids": row[: int(mask.sum())].tolist()}
            for row, mask in zip(
                torch.where(b["labels"] != -100, b["labels"], b["input_ids"]).numpy(), b["attention_mask"].numpy()
            )
        ]
        for b in instances
    ]
    collator = DataCollatorForLanguageModeling(tokenizer, mlm_probability=0.15)
    opt_theirs = adamw(theirs, 1e-4)
    feed = iter(rows)

    def hf_batch():
        return collator(next(feed)), None

    def hf_step(batch):
        batch = to_device({k: v for k, v in batch.items()}, device)
        with autocast("bf16", device.type):
            loss = theirs(**batch).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(theirs.parameters(), 1.0, foreach=True)
        opt_theirs.step()
        opt_theirs.zero_grad(set_to_none=True)
        return loss.detach()

    if deadline.over():
        results["hf"] = {"skipped": f"time cap of {deadline.seconds:.0f} s reached"}
    else:
        results["hf"] = measure(hf_step, hf_batch, settings, stats, peak)
        results["hf"]["attention"] = theirs.config._attn_implementation

    # our step with the batches already on the device: what the data pipeline and copies cost
    if deadline.over():
        results["claf_staged"] = {"skipped": f"time cap of {deadline.seconds:.0f} s reached"}
    else:
        # the loss units go along as a number, so the trainer does not count them on the device (a sync)
        staged = iter([(to_device(b, device), b, int((b["labels"] != -100).sum())) for b in instances])

        def staged_batch():
            batch, host, units = next(staged)
            return dict(batch, loss_units=units), host

        results["claf_staged"] = measure(our_step, staged_batch, settings, stats, peak)
    out = {
        "shape": settings.pt_shape,
        "batch": settings.pt_batch,
        "length": settings.pt_length,
        "steps": settings.pt_steps,
        "warmup_steps": settings.pt_warmup,
        "precision": "bf16",
        "bf16_peak_tflops": round(peak, 1) if peak else None,
        "runs": results,
    }
    if "sequences_per_s" in results.get("hf", {}):
        out["speedup_vs_hf"] = round(results["claf"]["sequences_per_s"] / results["hf"]["sequences_per_s"], 2)
    if "sequences_per_s" in results.get("claf_staged", {}):
        out["pipeline_share_of_staged_rate"] = round(
            results["claf"]["sequences_per_s"] / results["claf_staged"]["sequences_per_s"], 3
        )
    return out
