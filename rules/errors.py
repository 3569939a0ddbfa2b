"""Errors of the rule language; each carries where it happened."""

from __future__ import annotations

from strides.errors import StridesError
from strides.yamltext import Location


class RuleError(StridesError, ValueError):
    """A rule file or rule is invalid: `file:line:col: rule ID: message`."""

    def __init__(
        self, location: Location | None, rule_id: str | None, message: str, hint: str | None = None
    ) -> None:
        self.location = location
        self.rule_id = rule_id
        self.message = message
        self.hint = hint
        where = f"{location}: " if location else ""
        who = f"rule {rule_id}: " if rule_id else ""
        super().__init__(f"{where}{who}{message}")


class RuleSetError(StridesError, ValueError):
    """Several rule problems found in one pass."""

    def __init__(self, errors: list[RuleError]) -> None:
        self.errors = errors
        super().__init__("\n".join(str(e) for e in errors))
