"""The root of every error strides raises on purpose, and the rule language's own errors.

Each layer has its own root under `StridesError`, and each error carries where it happened:

StridesError
├── RuleError                              a rule file or rule is invalid (file:line:col, rule id)
├── RuleSetError                           several rule problems found in one pass
├── strides.config.ConfigError             configuration missing or invalid
├── strides.store.StoreError               the database is unreachable or not migrated
├── strides.integrations.IntegrationError  an edge failed
│   ├── SourceError                        an organisation source could not be read at all
│   ├── DeliveryError                      a transport refused a message (key, provider's answer)
│   ├── CalendarReadError                  a person's calendar could not be read (person, source)
│   ├── EventError                         an event strides does not know
│   ├── ReplyError, WebhookError, ...      input from outside that cannot be read
└── strides.flows.FlowError                the Prefect side: a server that does not come up
"""

from __future__ import annotations

from strides.domain.yamltext import Location


class StridesError(Exception):
    """Base class: catch this to handle anything strides raises deliberately."""


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
