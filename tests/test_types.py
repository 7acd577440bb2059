"""Plain data types: Filters.parse, the one reader of retrieval filters for every front end."""

from __future__ import annotations

import pytest

from assistant.errors import AssistantError, FilterError
from assistant.types import Filters


def test_parse_spec() -> None:
    f = Filters.parse("doc=a,b issuer=广东省人民政府 from=2024-01-01 to=2024-12-31 as_of=2024-06-30")
    assert f == Filters(
        doc_ids=["a", "b"], issuers=["广东省人民政府"], date_from="2024-01-01", date_to="2024-12-31", as_of="2024-06-30"
    )
    assert Filters.parse("").is_empty()


def test_parse_values_from_widgets() -> None:
    f = Filters.parse(doc_ids=["a", ""], issuers=[], date_from="2024-02-03 00:00:00", date_to="")
    assert f == Filters(doc_ids=["a"], date_from="2024-02-03")


@pytest.mark.parametrize(
    ("spec", "reason"),
    [
        ("doc", "syntax"),
        ("title=x", "key"),
        ("from=2024-13-01", "date"),
        ("to=2024-02-30", "date"),
        ("from=20240101", "date"),
        ("from=yesterday", "date"),
        ("from=2025-01-01 to=2024-01-01", "range"),
    ],
)
def test_parse_rejects(spec: str, reason: str) -> None:
    with pytest.raises(FilterError) as err:
        Filters.parse(spec)
    assert err.value.reason == reason
    assert isinstance(err.value, AssistantError) and isinstance(err.value, ValueError)
