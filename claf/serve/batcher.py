"""Micro-batching: concurrent requests gathered into one batch for the model.

The first waiting request opens a batch; it closes when ``max_batch`` requests are in or
``max_wait_ms`` have passed since it opened, whichever comes first. The batch runs on one worker
thread (model calls never overlap), and each caller's future gets its own row of the result.
While a batch runs, new requests queue up and form the next one, so under load batches fill
without waiting. (The server's ``Predictor`` then runs a batch in length-sorted chunks of
``--model_batch``: on a CPU compute grows with padded tokens, so one call over 16 inputs of mixed
length costs more than four calls over sorted groups of four.)
"""

import asyncio
import concurrent.futures
import time
from collections import Counter


class MicroBatcher:
    def __init__(self, run_batch, max_batch=16, max_wait_ms=5.0):
        """``run_batch(list of items) -> list of results`` (same length and order)."""
        if max_batch < 1 or max_wait_ms < 0:
            raise ValueError("max_batch must be >= 1 and max_wait_ms >= 0")
        self.run_batch = run_batch
        self.max_batch = max_batch
        self.max_wait = max_wait_ms / 1000.0
        self.sizes = Counter()  # batch size -> how many batches had it
        self.model_seconds = 0.0  # time spent in run_batch (where server time goes: see stats())
        self.gather_seconds = 0.0  # time from a batch's first request to closing it
        self._queue = None
        self._task = None
        self._executor = None

    async def start(self):
        self._queue = asyncio.Queue()
        self._executor = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="claf-model")
        self._task = asyncio.get_running_loop().create_task(self._loop())

    async def stop(self):
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
        if self._executor is not None:
            self._executor.shutdown(wait=True)

    async def submit(self, item):
        """Queue ``item``; returns its result once its batch has run (or raises the batch's error)."""
        future = asyncio.get_running_loop().create_future()
        await self._queue.put((item, future))
        return await future

    async def _gather(self):
        batch = [await self._queue.get()]
        loop = asyncio.get_running_loop()
        opened = loop.time()
        deadline = opened + self.max_wait
        while len(batch) < self.max_batch:
            if not self._queue.empty():
                batch.append(self._queue.get_nowait())
                continue
            left = deadline - loop.time()
            if left <= 0:
                break
            try:
                batch.append(await asyncio.wait_for(self._queue.get(), left))
            except TimeoutError:
                break
        self.gather_seconds += loop.time() - opened
        return batch

    async def _loop(self):
        loop = asyncio.get_running_loop()
        while True:
            batch = await self._gather()
            live = [(item, future) for item, future in batch if not future.cancelled()]  # callers that went away
            if not live:
                continue
            self.sizes[len(live)] += 1
            try:
                results = await loop.run_in_executor(self._executor, self._timed, [item for item, _ in live])
                if len(results) != len(live):
                    raise RuntimeError(f"run_batch returned {len(results)} results for {len(live)} inputs")
            except Exception as e:
                for _, future in live:
                    if not future.done():
                        future.set_exception(e)
                continue
            for (_, future), result in zip(live, results):
                if not future.done():
                    future.set_result(result)

    def _timed(self, items):
        start = time.perf_counter()
        try:
            return self.run_batch(items)
        finally:
            self.model_seconds += time.perf_counter() - start

    def stats(self):
        batches = sum(self.sizes.values())
        requests = sum(size * n for size, n in self.sizes.items())
        return {
            "batches": batches,
            "requests": requests,
            "mean_batch": requests / batches if batches else 0.0,
            "sizes": {str(k): v for k, v in sorted(self.sizes.items())},
            "model_seconds": self.model_seconds,
            "gather_seconds": self.gather_seconds,
        }
