"""benchmarks/gpu_suite.py --dry_run: the GPU check's code paths on the CPU (tiny shapes, a few steps and rows),
one JSON with every section; what needs a GPU is recorded as skipped with its reason (issue 27)."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from gpu_suite import SECTIONS, run_section  # noqa: E402
from gpu_suite_common import SectionTimeout, Settings, hard_cap  # noqa: E402


def number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value == value


@pytest.fixture(scope="module")
def dry_run(tmp_path_factory, mirror):
    out = tmp_path_factory.mktemp("gpu_suite") / "suite.json"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "CLAF_DATA_MIRROR": str(mirror), "HF_HUB_OFFLINE": "1"}
    env.pop("CLAF_SERVER_URL", None)
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "gpu_suite.py"), "--dry_run", "--out", str(out)],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(out.read_text()), done.stdout, out


@pytest.mark.slow
def test_every_section_ran_on_the_cpu(dry_run):
    report, printed, _ = dry_run
    assert report["schema"] == "claf.gpu_suite/v1" and report["dry_run"] and report["device"] == "cpu"
    assert number(report["peaks_tflops"]["fp32"]) and number(report["peaks_tflops"]["bf16"])
    assert set(report["sections"]) == set(SECTIONS)
    for name, section in report["sections"].items():
        assert section["status"] == "ok", (name, section.get("error"), section.get("traceback"))
        assert number(section["seconds"]) and number(section["cap_s"])
        assert f"## {name}: ok" in printed


@pytest.mark.slow
def test_finetune_runs_every_model_precision_and_framework(dry_run):
    section = dry_run[0]["sections"]["finetune"]
    runs = {(r["model"], r["framework"], r["precision"]): r for r in section["runs"]}
    assert set(runs) == {
        (m, f, p) for m in ("bert-base", "minilm") for f in ("claf", "hf") for p in ("fp32", "bf16", "fp16", "auto")
    }
    for (_model, _framework, precision), run in runs.items():
        if precision == "fp16":  # a CPU has no fp16 training: the reason is recorded
            assert "CUDA" in run["skipped"]
            continue
        assert run["run_precision"] in ("fp32", "bf16")
        for key in ("train_samples_per_s", "eval_samples_per_s", "mfu_percent"):
            assert number(run[key]) and run[key] > 0, (key, run)
        assert 0 <= run["dev_accuracy"] <= 100
    assert {(r["model"], r["precision"]) for r in section["ratios"]} == {
        (m, p) for m in ("bert-base", "minilm") for p in ("fp32", "bf16", "auto")
    }


@pytest.mark.slow
def test_pretrain_measures_ours_theirs_and_the_staged_rate(dry_run):
    section = dry_run[0]["sections"]["pretrain"]
    assert set(section["runs"]) == {"claf", "hf", "claf_staged"}
    for run in section["runs"].values():
        for key in ("sequences_per_s", "tokens_per_s", "mfu_percent", "busy_share_host_clock", "data_wait_share"):
            assert number(run[key]), (key, run)
        assert 0 < run["busy_share_host_clock"] <= 1 and 0 <= run["data_wait_share"] < 1
        assert run["losses"] and all(number(x) for x in run["losses"])
    assert section["runs"]["claf"]["attention"] == section["runs"]["hf"]["attention"] == "sdpa"
    assert number(section["speedup_vs_hf"]) and number(section["pipeline_share_of_staged_rate"])


@pytest.mark.slow
def test_serving_grid_and_reasons(dry_run):
    section = dry_run[0]["sections"]["serving"]
    assert section["backends"]["torch"] == {"ran": True}
    assert "CUDA" in section["backends"]["torch-fp16"]["skipped"]
    assert "skipped" in section["tensorrt"] or section["tensorrt"]["rows"]
    ran = [b for b, state in section["backends"].items() if state.get("ran")]
    cells = {(r["backend"], r["batch"], r["length"]) for r in section["rows"]}
    assert cells == {(b, batch, length) for b in ran for batch in (1, 2) for length in (16, 32)}
    assert all(number(r["p50_ms"]) and r["p50_ms"] > 0 for r in section["rows"])
    assert json.loads(Path(section["report"]).read_text())["schema"] == "claf.latency/v1"


@pytest.mark.slow
def test_factory_job_ran_through_one_worker(dry_run):
    section = dry_run[0]["sections"]["factory"]
    assert section["jobs_done"] == section["jobs_queued"] == 1 and section["jobs_failed"] == 0
    assert section["worker_env"] == {}  # no GPU: the job's environment is left alone
    assert number(section["jobs_per_minute"]) and section["jobs_per_minute"] > 0
    assert number(section["cpu_baseline"]["jobs_per_minute"])


def test_a_failing_section_is_recorded_and_the_suite_goes_on(tmp_path):
    settings = Settings.dry(tmp_path)

    def broken(_deadline):
        raise RuntimeError("no such kernel")

    result = run_section("finetune", settings, broken)
    assert result["status"] == "error" and result["error"] == "RuntimeError: no such kernel"
    assert "Traceback" in result["traceback"] and result["cap_s"] == settings.caps["finetune"]
    assert run_section("pretrain", settings, lambda deadline: {"left": deadline.left() > 0})["left"] is True


def test_hard_cap_stops_a_section():
    with pytest.raises(SectionTimeout):
        with hard_cap(0.2):
            time.sleep(5)
