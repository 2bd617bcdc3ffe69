"""Every command line the documentation shows is one the code takes: README.md and docs/ (not the generated
docs/results/) are read, each ``python <script>.py``, ``python -m claf`` and ``claf`` line in a shell code block
is parsed in-process with the CLI's own tables, and every BaseConfig and override key it names must resolve.
A failure names the file and line."""

import textwrap

import pytest
from doc_commands import ROOT, Command, check, collect, doc_files

# Lines that cannot be checked as written, because a placeholder stands where a real value must go:
# the command text (as in the failure message) -> why it is skipped. Keep it small; prefer a concrete line.
SKIP: dict[str, str] = {}

COMMANDS = [command for path in doc_files() for command in collect(path)]


def _ids(commands: list[Command]) -> list[str]:
    seen: dict[str, int] = {}
    ids = []
    for command in commands:
        seen[command.where] = seen.get(command.where, 0) + 1
        ids.append(command.where + (f"#{seen[command.where]}" if seen[command.where] > 1 else ""))
    return ids


@pytest.mark.parametrize("command", COMMANDS, ids=_ids(COMMANDS))
def test_the_documented_command_parses(command):
    if command.text in SKIP:
        pytest.skip(SKIP[command.text])
    problem = check(command)
    assert problem is None, f"{command.where}: {command.text}\n    {problem}"


def test_the_skip_list_names_only_lines_the_documentation_has():
    stale = set(SKIP) - {command.text for command in COMMANDS}
    assert not stale, f"SKIP names lines no document shows any more: {sorted(stale)}; remove them"


def test_the_documentation_is_read():
    kinds = {command.kind for command in COMMANDS}
    assert len(COMMANDS) >= 10 and {"claf", "script"} <= kinds, [c.where for c in COMMANDS]
    assert all(not c.where.startswith("docs/results/") for c in COMMANDS)


SAMPLE = """\
    Text with `python train.py --not-in-a-block` inline.

    ```bash
    $ python train.py --base_config klue/nsmc_bert \\
        --trainer.num_epochs 1   # one epoch
    CLAF_X=1 python -m claf list && python -m claf server --port 8765 | tee log
    torchrun --nproc_per_node 2 train.py --base_config klue/nsmc_bert
    export TOKEN=$(python -c "import secrets; print(secrets.token_hex())")
    flock /tmp/lock python benchmarks/tokenize_speed.py --lines 10
    # python train.py --commented-out
    ```

    ```python
    python train.py --in-a-python-block
    ```

    ```
    claf/experiment.py   Experiment("train", ...)
    python -m pytest -q tests
    ```
"""


def test_commands_are_collected_from_shell_blocks_only(tmp_path):
    doc = tmp_path / "doc.md"
    doc.write_text(textwrap.dedent(SAMPLE), encoding="utf-8")
    found = [(c.where.rsplit(":", 1)[1], c.kind, c.target, c.args) for c in collect(doc, root=tmp_path)]
    assert found == [
        ("4", "script", "train.py", ["--base_config", "klue/nsmc_bert", "--trainer.num_epochs", "1"]),
        ("6", "claf", "claf", ["list"]),
        ("6", "claf", "claf", ["server", "--port", "8765"]),
        ("7", "script", "train.py", ["--base_config", "klue/nsmc_bert"]),
        ("9", "script", "benchmarks/tokenize_speed.py", ["--lines", "10"]),
        ("19", "module", "pytest", ["-q", "tests"]),
    ]


@pytest.mark.parametrize(
    "line, said",
    [
        ("python train.py --base_config klue/nsmc_bert --trainer.num_epoch 3", "trainer.num_epoch"),
        ("python train.py --base_config klue/nsmc_bert --trainer.num_epochs many", "num_epochs"),
        ("python train.py --base_config klue/nsmc_bertt", "klue/nsmc_bertt"),
        ("python train.py --base_config pretrain/larva_kor_tiny", "not a shipped finetune BaseConfig"),
        ("python pretrain.py --base_config klue/nsmc_bert", "not a shipped pretrain BaseConfig"),
        ("python pretrain.py --base_config pretrain/larva_kor_tiny --factory factory/nope", "factory/nope"),
        ("python -m claf factory run --base_config factory/larva_kor_tiny_klue --executor.workerz 2", "workerz"),
        ("python -m claf export logs/run --formt onnx", "--formt"),
        ("python -m claf fatory run", "no command 'fatory'"),
        ("python -m claf bench", "needs one of"),
        ("python predict.py", "checkpoint"),
        ("python benchmarks/no_such_script.py", "does not exist"),
        ("python benchmarks/tokenize_speed.py --linez 5", "--linez"),
        ("python -m no_such_module_here", "no such module"),
        ('python -m claf server --db "unclosed', "cannot split"),
    ],
)
def test_a_wrong_command_is_named_with_what_is_wrong(tmp_path, line, said):
    doc = tmp_path / "doc.md"
    doc.write_text(f"```bash\n{line}\n```\n", encoding="utf-8")
    (command,) = collect(doc, root=tmp_path)
    problem = check(command)
    assert problem is not None and said in problem, problem


def test_a_right_command_passes(tmp_path):
    doc = tmp_path / "doc.md"
    doc.write_text(
        "```bash\n"
        "python train.py --base_config klue/nsmc_bert --help\n"
        "python -m claf bench latency --help\n"
        "python benchmarks/tokenize_speed.py --help\n"
        "python -m claf factory status --recipe larva_kor_tiny_klue --json\n"
        "```\n",
        encoding="utf-8",
    )
    commands = collect(doc, root=tmp_path)
    assert len(commands) == 4
    assert [check(c) for c in commands] == [None] * 4
    assert (ROOT / "benchmarks" / "tokenize_speed.py").is_file()
