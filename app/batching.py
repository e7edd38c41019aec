"""Dynamic batching: single-item requests that arrive together share one model call.

Live hover decoding sends one point per mouse move from every open page. A decoder call on one point costs
about as much as on thirty (the weights are read once either way), so the points waiting at the same
moment are decoded together; uploads waiting to be encoded likewise. Nothing waits on a timer: the batch
closes when the event loop has run every request that was ready, so a lone request pays one loop turn, and
a busy server batches itself."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")


class MicroBatcher(Generic[Item, Result]):
    """`await batcher(item)` for one item; `run` maps a list of items to their results, in order."""

    def __init__(self, run: Callable[[list[Item]], Sequence[Result]], max_batch: int = 256) -> None:
        if max_batch < 1:
            raise ValueError(f"max_batch must be >= 1, got {max_batch}")
        self._run = run
        self._max_batch = max_batch
        self._waiting: list[tuple[Item, asyncio.Future[Result]]] = []

    async def __call__(self, item: Item) -> Result:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Result] = loop.create_future()
        self._waiting.append((item, future))
        if len(self._waiting) == 1:
            loop.call_soon(self._flush)  # after the requests already made ready have queued theirs
        return await future

    def _flush(self) -> None:
        batch, self._waiting = self._waiting[: self._max_batch], self._waiting[self._max_batch :]
        if self._waiting:
            asyncio.get_running_loop().call_soon(self._flush)
        batch = [(item, future) for item, future in batch if not future.done()]  # drop cancelled
        if not batch:
            return
        try:
            results = self._run([item for item, _ in batch])
            paired = list(zip(batch, results, strict=True))
        except Exception as error:  # every waiter learns of it; the batcher keeps serving
            for _, future in batch:
                future.set_exception(error)
            return
        for (_, future), result in paired:
            future.set_result(result)
