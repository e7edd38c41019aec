"""A training job's events as Server-Sent Events (text/event-stream): a running job's streamed as they are
written, an ended job's replayed. An ended job's events never change, so they are formatted once and a
replay costs a slice of bytes. Formatting every replay anew (reading the job's events file, parsing each
line and serialising each event again) let 300 replays of a finished job's 425 KB stream hold an unrelated
decode for 7.9 s on one worker (bench/event_replays.py)."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
from collections import OrderedDict
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from fastapi.sse import KEEPALIVE_COMMENT, format_sse_event
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from model.job_queue import Job, JobQueue
from model.records import ENDED_STATES

WAIT_SECONDS = 10.0  # an idle stream looks at its job again after this (notified or not), and pings
REPLAYS_KEPT = 16  # ended jobs whose formatted events are kept, the most recently replayed
# Proxies must pass the stream on as it comes, and nobody may cache a stream that is still growing.
STREAM_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


class EventStream(Response):
    """What the events route answers, as its documentation names it: a replay's bytes or a live stream.
    (FastAPI's EventSourceResponse would make the route a generator, with no way to answer a replay
    whole.)"""

    media_type = "text/event-stream"


def event_bytes(event: dict[str, Any]) -> bytes:
    """One event as the stream sends it: its type, its id (for Last-Event-ID) and its data as JSON."""
    data = json.dumps(event, separators=(",", ":"))
    return format_sse_event(data_str=data, event=event["type"], id=str(event["id"]))


@dataclass(frozen=True)
class _Replay:
    body: bytes  # every event, formatted
    starts: list[int]  # where event k + 1 begins in body (events are numbered from 1)


class EventStreams:
    """The event streams of one home's jobs."""

    def __init__(self, queue: JobQueue, changed: asyncio.Condition) -> None:
        self.queue = queue
        self.changed = changed  # notified whenever a job reports or changes state
        self._replays: OrderedDict[int, _Replay] = OrderedDict()
        self._formatting = asyncio.Lock()  # many replays asked for at once format a job once

    async def replay(self, job: Job, after: int) -> bytes | None:
        """An ended job's events after event `after`, formatted; None while it runs (or until the event
        that ends it is written)."""
        if not job.ended_state:
            return None
        job_id = job.id
        replay = self._replays.get(job_id)
        if replay is None:
            async with self._formatting:
                replay = self._replays.get(job_id) or await run_in_threadpool(self._format, job_id)
            if replay is None:
                return None
            self._replays[job_id] = replay
            while len(self._replays) > REPLAYS_KEPT:
                self._replays.popitem(last=False)
        self._replays.move_to_end(job_id)
        skipped = min(max(after, 0), len(replay.starts))
        if skipped == 0:
            return replay.body
        return replay.body[replay.starts[skipped] :] if skipped < len(replay.starts) else b""

    def _format(self, job_id: int) -> _Replay | None:
        events, _ = self.queue.read_events(job_id)
        if not events or events[-1]["type"] not in ENDED_STATES:  # still running, or ending right now
            return None
        parts = [event_bytes(event) for event in events]
        starts = list(itertools.accumulate((len(part) for part in parts[:-1]), initial=0))
        return _Replay(body=b"".join(parts), starts=starts)

    async def live(self, job: Job, after: int) -> AsyncIterator[bytes]:
        """The job's events after event `after`, then each one as it is written, until its end; a ping
        when nothing came for WAIT_SECONDS, so idle connections stay open through proxies."""
        seen, offset = after, 0
        while True:
            async with self.changed:  # read under the lock: a notification cannot slip between read and wait
                found, offset = self.queue.read_events(job.id, offset)
                if not found:
                    if (self.queue.get(job.id) or job).ended_state:  # its end was sent before
                        return
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self.changed.wait(), WAIT_SECONDS)
                        continue
            if not found:
                yield KEEPALIVE_COMMENT
                continue
            for event in found:
                if event["id"] <= seen:
                    continue
                seen = event["id"]
                yield event_bytes(event)
                if event["type"] in ENDED_STATES:
                    return
