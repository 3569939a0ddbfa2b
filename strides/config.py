"""Settings, read once in one documented order: CLI options, then STRIDES_* environment
variables, then `strides.toml` in the working directory, then these defaults.

Everything strides writes lives in one state folder inside the project (`.strides/`):
the SQLite store, Prefect's home and the outbox.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Literal

from pydantic import EmailStr, Field, SecretStr, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

CONFIG_FILE = "strides.toml"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="STRIDES_", extra="forbid", toml_file=CONFIG_FILE)

    state_dir: Path = Field(default=Path(".strides"), description="Where strides keeps its state")
    database_url: str | None = Field(default=None, description="SQLAlchemy URL; default SQLite in state_dir")
    outbox_dir: Path | None = Field(default=None, description="Where the outbox writes .eml files")
    prefect_home: Path | None = Field(default=None, description="PREFECT_HOME; default state_dir/prefect")
    organisation: Path = Field(default=Path("examples/org"), description="Folder of people/goals/milestones")
    rules_dir: Path | None = Field(
        default=None, description="Folder of rule files; default the built-in pack"
    )
    transport: Literal["outbox"] = "outbox"
    organiser_email: EmailStr = "growth@strides.example"
    organiser_name: str = "strides"
    meeting_location: str | None = None
    chunk_size: int = Field(default=500, ge=1, le=100_000)
    first_window: timedelta = Field(default=timedelta(days=1), description="Look-back of the very first tick")
    # --- invites ---
    feed_base_url: str = Field(
        default="http://127.0.0.1:8765", description="Public base URL of `strides http`, for feed links"
    )
    inbound_secret: SecretStr | None = Field(
        default=None, description="Path secret of the Inbound Parse endpoint for replies; unset: no endpoint"
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls))

    @field_validator("state_dir", "organisation")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        return value.expanduser().resolve()

    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{self.state_dir / 'strides.db'}"

    @property
    def outbox(self) -> Path:
        return (self.outbox_dir or self.state_dir / "outbox").expanduser().resolve()

    @property
    def prefect_dir(self) -> Path:
        return (self.prefect_home or self.state_dir / "prefect").expanduser().resolve()

    def derived(self, **changes: object) -> Settings:
        """A copy with some fields replaced (validated again)."""
        return Settings.model_validate({**self.model_dump(exclude_unset=False), **changes})
