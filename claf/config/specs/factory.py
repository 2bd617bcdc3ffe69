"""The factory recipe (``claf factory``): which checkpoints x which task BaseConfigs x seeds, and how to run them."""

from typing import Annotated, Any, Literal

from pydantic import Field, field_validator

from claf.config.specs.base import Block, Recipe, fail
from claf.config.specs.run import PositiveInt

Seconds = Annotated[float, Field(gt=0)]


class CheckpointsSpec(Block):
    names: list[Annotated[str, Field(min_length=1)]] = []  # names, globs (larva-kor-tiny-*), URLs or folders
    # true: one random init; n: n inits (weight seeds 0 .. n-1); [3, 4, 5]: inits with those weight seeds
    random_init: bool | PositiveInt | Annotated[list[Annotated[int, Field(ge=0)]], Field(min_length=1)] = False

    @field_validator("random_init")
    @classmethod
    def _distinct(cls, value):
        if isinstance(value, list) and len(set(value)) != len(value):
            raise fail("", f"weight seeds repeat in {value}: give each seed once, e.g. [3, 4, 5]")
        return value


class SuiteTask(Block):
    task: Annotated[str, Field(min_length=1)]
    base_config: Annotated[str, Field(min_length=1)]
    seeds: PositiveInt | Annotated[list[Annotated[int, Field(ge=0)]], Field(min_length=1)] = 1
    overrides: dict[str, Any] = {}
    cost: Annotated[float, Field(gt=0)] | None = None


class SuiteSpec(Block):
    tasks: list[SuiteTask]
    # options for every task's head, as model.<head>.<key>: {"encoder_dropout": 0.1, "reinit_pooler": true};
    # a task's own overrides win
    head_options: dict[str, Any] = {}

    @field_validator("tasks")
    @classmethod
    def _some(cls, tasks: list) -> list:
        if not tasks:
            raise fail(
                "", 'empty: list the task BaseConfigs to run, e.g. [{"task": "nsmc", "base_config": "klue/nsmc_bert"}]'
            )
        return tasks


class BenchmarkRef(Block):
    name: str = "klue"
    server: str | None = None
    db: str | None = None


class RayOptions(Block):
    address: str | None = None
    num_cpus: Annotated[float, Field(ge=0)] = 1
    num_gpus: Annotated[float, Field(ge=0)] = 0
    node_ip: str | None = None  # this driver's address as the cluster reaches it (a host with several interfaces)


class ExecutorSpec(Block):
    name: Literal["local", "ray"] = "local"
    workers: PositiveInt | None = None
    threads: PositiveInt | None = None
    lease_seconds: Seconds = 120
    heartbeat_seconds: Seconds = 10
    max_attempts: PositiveInt = 3
    work_dir: str | None = None
    poll_seconds: Seconds = 60
    ray: RayOptions = RayOptions()


class SlackSpec(Block):
    webhook_env: str = "CLAF_SLACK_WEBHOOK_URL"


class NotifySpec(Block):
    enabled: bool = True
    slack: SlackSpec = SlackSpec()
    dashboard_url: str | None = None


class FactorySpec(Recipe):
    name: str | None = None
    checkpoints: CheckpointsSpec = CheckpointsSpec()
    suite: SuiteSpec
    benchmark: BenchmarkRef = BenchmarkRef()
    executor: ExecutorSpec = ExecutorSpec()
    notify: NotifySpec = NotifySpec()
