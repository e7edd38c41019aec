"""MicroBatcher: requests that wait together run together, each gets its own answer, failures reach every
waiter, and the batcher keeps serving."""

import asyncio

import pytest

from app.batching import MicroBatcher


class Recorder:
    """A batch function that squares its items and records the batches it was given."""

    def __init__(self, fail_on: int | None = None) -> None:
        self.batches: list[list[int]] = []
        self.fail_on = fail_on

    def __call__(self, items: list[int]) -> list[int]:
        self.batches.append(items)
        if self.fail_on in items:
            raise RuntimeError(f"cannot square {self.fail_on}")
        return [item * item for item in items]


def test_requests_waiting_together_share_one_call_and_keep_their_own_results() -> None:
    run = Recorder()
    batcher = MicroBatcher(run)

    async def main() -> list[int]:
        return await asyncio.gather(*(batcher(i) for i in range(20)))

    assert asyncio.run(main()) == [i * i for i in range(20)]
    assert run.batches == [list(range(20))]


def test_a_lone_request_is_answered_without_waiting_for_company() -> None:
    batcher = MicroBatcher(Recorder())

    async def main() -> int:
        return await asyncio.wait_for(batcher(7), timeout=1)

    assert asyncio.run(main()) == 49


def test_batches_are_cut_at_max_batch() -> None:
    run = Recorder()
    batcher = MicroBatcher(run, max_batch=8)

    async def main() -> list[int]:
        return await asyncio.gather(*(batcher(i) for i in range(20)))

    assert asyncio.run(main()) == [i * i for i in range(20)]
    assert [len(batch) for batch in run.batches] == [8, 8, 4]


def test_a_failing_batch_fails_each_of_its_waiters_and_the_next_batch_runs() -> None:
    batcher = MicroBatcher(Recorder(fail_on=3))

    async def main() -> tuple[list[int | BaseException], int]:
        failed = await asyncio.gather(*(batcher(i) for i in range(5)), return_exceptions=True)
        return failed, await batcher(4)

    failed, later = asyncio.run(main())
    assert all(isinstance(outcome, RuntimeError) and "cannot square 3" in str(outcome) for outcome in failed)
    assert later == 16


def test_a_cancelled_waiter_is_left_out_and_the_others_are_answered() -> None:
    run = Recorder()
    batcher = MicroBatcher(run)

    async def main() -> list[int]:
        doomed = asyncio.ensure_future(batcher(99))
        others = [asyncio.ensure_future(batcher(i)) for i in range(3)]
        await asyncio.sleep(0)  # every call has queued its item
        doomed.cancel()
        return await asyncio.gather(*others)

    assert asyncio.run(main()) == [0, 1, 4]
    assert run.batches == [[0, 1, 2]]


def test_a_batch_function_returning_the_wrong_count_fails_its_waiters_instead_of_hanging() -> None:
    batcher = MicroBatcher(lambda items: items[:-1])

    async def main() -> list[int]:
        return await asyncio.wait_for(asyncio.gather(batcher(1), batcher(2)), timeout=1)

    with pytest.raises(ValueError, match="zip"):
        asyncio.run(main())


def test_max_batch_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_batch must be >= 1"):
        MicroBatcher(Recorder(), max_batch=0)
