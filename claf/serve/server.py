"""The inference server: FastAPI over a ``Predictor``, requests micro-batched.

    POST /predict          one input (its fields depend on the task: see claf.serve.inputs)
    POST /predict/batch    {"inputs": [...]}: each input joins the micro-batches like a request
    GET  /health           {"status": "ok"}
    GET  /metadata         model, task, labels, input fields, backend, batching settings and counts

A response is the head's prediction (``label`` / ``score`` / ``tags`` + ``entities`` / ``answer``)
plus how the reader cut the input (``truncated``, token counts, QA ``windows``). Invalid bodies get
422 with ``error`` naming the field.
"""

import itertools
import os
import platform
from contextlib import asynccontextmanager

from claf.serve.batcher import MicroBatcher
from claf.serve.inputs import batch_model, missing_task_fields, request_model, truncation


def create_app(predictor, max_batch=16, max_wait_ms=5.0):
    from fastapi import FastAPI, HTTPException
    from fastapi.encoders import jsonable_encoder
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse

    reader, tokenizer, model = predictor.reader, predictor.tokenizer, predictor.model
    Item = request_model(reader)
    Batch = batch_model(Item)
    batcher = MicroBatcher(predictor.predict, max_batch=max_batch, max_wait_ms=max_wait_ms)
    counter = itertools.count(1)

    @asynccontextmanager
    async def lifespan(app):
        await batcher.start()
        yield
        await batcher.stop()

    app = FastAPI(title="claf serve", lifespan=lifespan)
    app.state.batcher = batcher

    @app.exception_handler(RequestValidationError)
    async def invalid(request, exc):
        errors = exc.errors()
        fields = [".".join(str(p) for p in e["loc"] if p != "body") or "body" for e in errors]
        message = "; ".join(f"{field}: {e['msg']}" for field, e in zip(fields, errors))
        return JSONResponse(
            status_code=422, content={"error": message, "fields": fields, "detail": jsonable_encoder(errors)}
        )

    async def answer(item):
        record = item.model_dump(exclude_none=True)
        record.setdefault("id", f"req-{next(counter)}")
        missing = missing_task_fields(reader, record)
        if missing:
            raise HTTPException(
                422, {"error": f"task {record['task']!r} needs {', '.join(missing)}", "fields": missing}
            )
        note = truncation(reader, tokenizer, record)
        try:
            result = await batcher.submit(record)
        except ValueError as e:  # the reader refused the input
            raise HTTPException(422, {"error": str(e)}) from None
        return {**result, **note}

    @app.post("/predict")
    async def predict(item: Item):
        return await answer(item)

    @app.post("/predict/batch")
    async def predict_batch(body: Batch):
        import asyncio

        return {"outputs": await asyncio.gather(*(answer(item) for item in body.inputs))}

    @app.get("/health")
    async def health():
        return {"status": "ok"}

    @app.get("/metadata")
    async def metadata():
        import torch

        tasks = getattr(reader, "names", None) if reader.task == "multi_task" else None
        return {
            "checkpoint": str(predictor.checkpoint),
            "model": type(model).__name__,
            "task": reader.task,
            "tasks": tasks,
            "labels": getattr(model, "labels", None),
            "input_fields": sorted(Item.model_fields),
            "required_fields": sorted(k for k, f in Item.model_fields.items() if f.is_required()),
            "max_seq_length": getattr(reader, "max_seq_length", None),
            "backend": predictor.backend,
            "batching": {"max_batch": max_batch, "max_wait_ms": max_wait_ms, **batcher.stats()},
            "process": os.getpid(),
            "versions": {"python": platform.python_version(), "torch": torch.__version__},
        }

    return app


def serve(predictor, host="127.0.0.1", port=8766, max_batch=16, max_wait_ms=5.0):
    import uvicorn

    uvicorn.run(
        create_app(predictor, max_batch, max_wait_ms), host=host, port=port, log_level="warning", access_log=False
    )


WORKER_SETTINGS = "CLAF_SERVE_WORKER"  # JSON of the Predictor and batching settings, for each worker


def serve_workers(workers, host="127.0.0.1", port=8766, **settings):
    """``workers`` processes on one port (uvicorn's), each with its own model, batcher and event loop.

    ``settings``: checkpoint, backend, threads (per worker), model_batch, max_batch, max_wait_ms.
    On a CPU one process's model runs one batch at a time; N workers of T threads each keep N batches
    in flight (N x T should not pass the cores).
    """
    import json

    import uvicorn

    os.environ[WORKER_SETTINGS] = json.dumps({k: str(v) if k == "checkpoint" else v for k, v in settings.items()})
    uvicorn.run(
        "claf.serve.server:worker_app",
        factory=True,
        workers=workers,
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
    )


def worker_app():
    """The app of one worker process (uvicorn calls this factory in each)."""
    import json

    from claf.predictor import Predictor

    s = json.loads(os.environ[WORKER_SETTINGS])
    predictor = Predictor(s["checkpoint"], batch_size=s["model_batch"], backend=s["backend"], threads=s["threads"])
    return create_app(predictor, s["max_batch"], s["max_wait_ms"])
