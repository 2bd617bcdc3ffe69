"""The check that a finished job's result belongs to that job.

    job_result(job, payload)            # -> ResultIn of that job; ValueError naming the field otherwise

A result must carry its job's benchmark, task, checkpoint (name and model) and seed: a worker that holds
one job's lease cannot store a result under another key. A payload without benchmark or task takes the job's.
"""

from pydantic import ValidationError

from claf.results.payloads import ResultIn


def _first_error(e: ValidationError, prefix: str) -> str:
    err = e.errors()[0]
    where = ".".join(str(p) for p in err["loc"])
    return f"{prefix}{'.' + where if where else ''}: {err['msg']}"


def job_result(job: dict, payload) -> ResultIn:
    """``payload`` as the result of ``job`` (a ``jobs.as_dict`` row); ValueError names the first wrong field."""
    if not isinstance(payload, dict):
        raise ValueError("outcome.result: an ok outcome needs the result payload (a JSON object)")
    try:
        result = ResultIn.model_validate(payload)
    except ValidationError as e:
        raise ValueError(_first_error(e, "outcome.result")) from None
    result = result.model_copy(
        update={"benchmark": result.benchmark or job["benchmark"], "task": result.task or job["task"]}
    )
    expected = {
        "benchmark": (result.benchmark, job["benchmark"]),
        "task": (result.task, job["task"]),
        "seed": (result.seed, job["seed"]),
        "checkpoint.model": (result.checkpoint.model, job["model"]),
        "checkpoint.name": (result.checkpoint.resolved_name(), job["checkpoint"]),
    }
    for field, (given, wanted) in expected.items():
        if given != wanted:
            raise ValueError(f"outcome.result.{field}: '{given}' is not job {job['id']}'s ('{wanted}')")
    return result
