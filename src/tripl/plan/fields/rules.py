"""Value rules shared by field and meta-field definitions, as pure functions.

Create schemas run them in their validators (422 with a pydantic error); updates run them in
the service on the merged stored + changed values, because a partial update can only be judged
against what is already stored (e.g. a new minimum against the stored maximum).
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, Field

# Orders stay far from the 32-bit column limit so "last + 1" and list indexes can never overflow.
ORDER_LIMIT = 1_000_000_000


class RuleError(ValueError):
    """A rule broken by a combination of values; `field` names the key to blame."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def no_nul(value: str) -> str:
    # PostgreSQL text cannot hold NUL; refusing it here keeps such input a 422, not a 500.
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


Text = Annotated[str, AfterValidator(no_nul)]
Order = Annotated[int, Field(ge=-ORDER_LIMIT, le=ORDER_LIMIT)]
Rate = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]
Bound = Annotated[float, Field(allow_inf_nan=False)]


def check_enum_options(options: list[str] | None) -> list[str] | None:
    if options is None:
        return None
    for option in options:
        no_nul(option)
    if len(set(options)) != len(options):
        raise ValueError("enum_options must not repeat a value")
    return options


def check_regex(pattern: str | None) -> str | None:
    """A blank pattern means no regex check; anything else must compile."""
    if pattern is None or not pattern.strip():
        return None
    no_nul(pattern)
    try:
        re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"contract_regex is not a valid regular expression: {exc}") from None
    return pattern


def normalize_enum_options(field_type: str, options: list[str] | None) -> list[str] | None:
    """Enum types need at least one option; other types carry none."""
    if field_type == "enum":
        if not options:
            raise RuleError("enum_options", "enum_options must list at least one value for enum fields")
        return options
    if options:
        raise RuleError("enum_options", "enum_options only apply to fields of type enum")
    return None


def check_bounds(min_value: float | None, max_value: float | None) -> None:
    if min_value is not None and max_value is not None and min_value > max_value:
        raise RuleError(
            "contract_min_value", "contract_min_value must not be greater than contract_max_value"
        )
