"""One factory job in its own process: ``python -m claf.factory.job <log_dir>/factory_job.json``.

The job file holds the job (as claimed from the queue) plus ``log_dir`` and ``threads``. The run is
``Experiment("train", base_config, overrides)`` with the checkpoint as the model's
``pretrained_model_name``, ``trainer.log_dir`` = the job's folder and ``trainer.resume true``: a
job killed mid-way continues from ``checkpoints/last`` and ends with the metrics of an uninterrupted
run; a finished one only re-reads its Metric Logs. After an out-of-memory failure the job's
``oom_retries`` halves ``iterator.batch_size`` and doubles ``trainer.gradient_accumulation_steps``
(same examples per update); the resume then starts afresh in a separate folder.

SIGTERM and SIGINT are a stop request (``claf.learn.preempt``): the trainer saves ``checkpoints/last``
after its current step and the process exits 76, so the next worker to take the job resumes there.

Exit status: 0 done (``factory_result.json`` written: the result payload), 75 out of memory,
76 preempted (checkpoint saved), 1 other.
"""

import json
import logging
import os
import sys
import time
from pathlib import Path

from claf.atomic import atomic_dir
from claf.factory.recipe import RANDOM, random_source  # the random-init prefix: one home

STARTED = time.time()  # the process start, for the factory's overhead figures

EXIT_OOM = 75
EXIT_PREEMPTED = 76
RESULT_FILE = "factory_result.json"
logger = logging.getLogger("claf.factory.job")


def is_oom(exc: BaseException) -> bool:
    return isinstance(exc, MemoryError) or type(exc).__name__ == "OutOfMemoryError" or "out of memory" in str(exc)


def memory_probe(batch_size: int) -> None:
    """Test hook (``CLAF_FACTORY_MEMORY_PROBE=<headroom MB>:<MB per example>``): cap the address space
    at the current size + headroom (RLIMIT_AS), allocate ``batch_size`` x MB-per-example, lift the cap."""
    probe = os.environ.get("CLAF_FACTORY_MEMORY_PROBE")
    if not probe:
        return
    import resource

    headroom, per_example = (float(x) for x in probe.split(":"))
    vm = next(int(line.split()[1]) * 1024 for line in open("/proc/self/status") if line.startswith("VmSize:"))
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    resource.setrlimit(resource.RLIMIT_AS, (int(vm + headroom * 2**20), hard))
    try:
        block = bytearray(int(batch_size * per_example * 2**20))
        del block
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def random_init(source: str, folder: Path, seed: int = 0) -> str:
    """The checkpoint's architecture and tokenizer with random weights (weight seed ``seed``), saved once
    in ``folder``."""
    import shutil

    import torch
    from transformers import AutoConfig, AutoModel

    from claf.hub.resolve import resolve_pretrained

    if (folder / "config.json").is_file():
        return str(folder)
    model_dir = Path(resolve_pretrained(source))
    torch.manual_seed(seed)
    # Workers starting random-init jobs at once each build their own copy; the same seed makes the same
    # weights, so the first to finish wins and a folder another job reads is never replaced.
    with atomic_dir(folder, replace=False) as tmp:
        AutoModel.from_config(AutoConfig.from_pretrained(model_dir)).save_pretrained(tmp)
        for f in model_dir.iterdir():  # the tokenizer travels with the weights
            if f.is_file() and not f.name.endswith((".safetensors", ".bin")) and f.name != "config.json":
                shutil.copy2(f, tmp / f.name)
    return str(folder)


def build_overrides(job: dict, log_dir: Path, threads: int | None) -> tuple[str, dict]:
    from claf.config import resolve_config

    spec = job["spec"]
    overrides = dict(spec["overrides"])
    source = spec["source"]
    if source.startswith(RANDOM):
        of, seed = random_source(source)
        source = random_init(of, log_dir.parent / f"random-init-{job['checkpoint_sha256'][:16]}", seed)
    overrides.update(
        {
            spec["pretrained_key"]: source,
            "trainer.log_dir": str(log_dir),
            "trainer.resume": True,
            "trainer.progress": False,
        }
    )
    if threads:
        overrides["trainer.num_threads"] = int(threads)
    halvings = int(job.get("oom_retries") or 0)
    if halvings:
        cfg = resolve_config(spec["base_config"], overrides, kind="finetune")
        batch, accumulation = cfg.iterator.batch_size, cfg.trainer.gradient_accumulation_steps
        factor = 2**halvings
        if batch < factor:
            raise MemoryError(f"out of memory at iterator.batch_size {batch}: cannot halve it further")
        overrides.update(
            {"iterator.batch_size": batch // factor, "trainer.gradient_accumulation_steps": accumulation * factor}
        )
    return spec["base_config"], overrides


def result_for(job: dict, log_dir: Path) -> dict:
    from claf.results.run_payloads import result_payload

    payload = result_payload(log_dir)
    spec = job["spec"]
    random = spec["source"].startswith(RANDOM)
    sha = job["checkpoint_sha256"] if len(job["checkpoint_sha256"]) == 64 else ""
    payload["checkpoint"] = {
        "model": job["model"],
        "step": 0 if random else int(spec.get("checkpoint_step") or 0),
        "name": job["checkpoint"],
        "url": "" if random else spec.get("url", ""),
        "sha256": sha,
    }
    if not random and spec.get("checkpoint_metrics"):  # its pre-training compute, for the dashboard's budget chart
        payload["checkpoint"]["metrics"] = dict(spec["checkpoint_metrics"])
    payload["benchmark"], payload["task"] = job["benchmark"], job["task"]
    payload["provenance"] = dict(
        payload.get("provenance") or {},
        factory_job=job["key"],
        recipe=job["recipe"],
        checkpoint_source=spec["source"],
        attempts=job.get("attempts"),
        oom_retries=job.get("oom_retries", 0),
    )
    return payload


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    from claf.learn import preempt

    preempt.install()  # before the slow imports: a stop request during them stops at the first step
    job_file = Path(argv[0])
    job = json.loads(job_file.read_text(encoding="utf-8"))
    log_dir, threads = Path(job["log_dir"]), job.get("threads")
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", datefmt="%H:%M:%S"
    )
    os.environ.pop("CLAF_SERVER_URL", None)  # the factory posts the result itself, under the job's names
    devices = os.environ.get("CUDA_VISIBLE_DEVICES")  # the worker's GPU (claf.factory.executors.worker_env)
    logger.info("job %s: CUDA_VISIBLE_DEVICES=%s", job["key"][:12], "(not set)" if devices is None else devices)
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()
        from claf.atomic import atomic_write_text
        from claf.config import resolve_config
        from claf.data.locate import file_problem
        from claf.experiment import Experiment

        base, overrides = build_overrides(job, log_dir, threads)
        spec = resolve_config(base, overrides, kind="finetune", files=file_problem)  # once, for the probe and the run
        memory_probe(spec.iterator.batch_size)
        logger.info(
            "job %s: %s on %s (seed %s), attempt %s",
            job["key"][:12],
            job["task"],
            job["checkpoint"],
            job["seed"],
            job.get("attempts"),
        )
        began = time.time()
        Experiment("train", spec)()
        payload = result_for(job, log_dir)
        payload["provenance"].update(
            experiment_s=round(time.time() - began, 3),
            process_start_s=round(began - STARTED, 3),
            **({"cuda_visible_devices": devices} if devices is not None else {}),
        )
        atomic_write_text(log_dir / RESULT_FILE, json.dumps(payload, ensure_ascii=False))
        return 0
    except preempt.Preempted as e:
        logger.warning("%s", e)
        return EXIT_PREEMPTED
    except BaseException as e:  # noqa: B036 -- the status tells the worker what happened
        if is_oom(e):
            logger.error("out of memory: %s: %s", type(e).__name__, e)
            return EXIT_OOM
        logger.exception("job failed: %s: %s", type(e).__name__, e)
        return 1


if __name__ == "__main__":
    sys.exit(main())
