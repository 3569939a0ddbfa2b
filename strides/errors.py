"""The root of every error strides raises on purpose.

StridesError
├── ConfigError                     configuration missing or invalid
├── SourceError                     an organisation source could not be read at all
├── StoreError                      the database is unreachable or not migrated
├── strides.rules.RuleError         a rule file or rule is invalid (file, line, rule id)
└── strides.integrations.IntegrationError
    └── DeliveryError               a transport refused a message (message key, provider's answer)
"""

from __future__ import annotations


class StridesError(Exception):
    """Base class: catch this to handle anything strides raises deliberately."""


class ConfigError(StridesError, ValueError):
    pass


class SourceError(StridesError, OSError):
    pass


class StoreError(StridesError, RuntimeError):
    pass
