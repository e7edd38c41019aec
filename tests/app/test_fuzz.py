"""Property-based fuzzing of every operation in the app's own OpenAPI schema (schemathesis), against the
live server: no 5xx, and every response matches the documented status codes, content types and schemas."""

import schemathesis
from hypothesis import given, settings

from tests.conftest import examples

EXAMPLES_PER_OPERATION = 25  # in CI; bounded, and hypothesis shrinks any failure it finds


def test_no_server_errors_and_responses_match_the_schema(live_url: str) -> None:
    schema = schemathesis.openapi.from_url(f"{live_url}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 10
    calls: dict[str, int] = {}

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=examples(EXAMPLES_PER_OPERATION))
        def fuzz(case: schemathesis.Case) -> None:
            calls[case.operation.label] = calls.get(case.operation.label, 0) + 1
            case.call_and_validate()

        try:
            fuzz()
        except Exception as error:
            raise AssertionError(f"{operation.label}: {error}") from error
    # Operations without parameters have one example to give: on average at least two fifths of the count.
    least = len(operations) * examples(EXAMPLES_PER_OPERATION) * 2 // 5
    assert len(calls) == len(operations) and sum(calls.values()) >= least, calls
