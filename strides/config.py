"""Settings, read once in one documented order: CLI options, then STRIDES_* environment
variables, then `strides.toml` in the working directory, then these defaults.

Everything strides writes lives in one state folder inside the project (`.strides/`):
the SQLite store, Prefect's home and the outbox.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any, Literal

from pydantic import EmailStr, Field, SecretStr, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from strides.domain.errors import StridesError

CONFIG_FILE = "strides.toml"


class ConfigError(StridesError, ValueError):
    """Configuration missing or invalid."""


MASKED = "**********"  # how pydantic dumps a SecretStr in JSON mode


class _Unmasked(PydanticBaseSettingsSource):
    """Init values minus masked secrets: settings dumped for a flow run (`model_dump(mode="json")`)
    carry "**********" for each secret; dropping them lets the environment and strides.toml supply
    the real value inside the flow, and no secret ever enters Prefect's stored parameters."""

    def __init__(self, inner: PydanticBaseSettingsSource) -> None:
        super().__init__(inner.settings_cls)
        self.inner = inner

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        return {k: v for k, v in self.inner().items() if v != MASKED}


# Where `strides http --demo` listens by default: the demo's links point there.
DEMO_URL = "http://127.0.0.1:8765"
UNSUBSCRIBE_KEY_FILE = "unsubscribe.key"


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
    transport: Literal["outbox", "smtp", "sendgrid"] = "outbox"
    organiser_email: EmailStr = "growth@strides.example"
    organiser_name: str = "strides"
    meeting_location: str | None = None
    chunk_size: int = Field(default=500, ge=1, le=100_000)
    plan_chunk: int = Field(
        default=5000, ge=1, description="People per planning task: a tick plans in shards of about this many"
    )
    plan_processes: int = Field(
        default=1,
        ge=1,
        le=64,
        description="Processes planning a shard at once (forked, Linux only). Above 1 a large window "
        "plans faster, but the parts place meetings without seeing each other's, so a person may "
        "rarely get two meetings at one time",
    )
    deliver_processes: int = Field(
        default=2,
        ge=1,
        le=64,
        description="Processes a delivery task drains the ledger in at once, when it has several chunks "
        "(forked, Linux only; 1: in the task's own)",
    )
    first_window: timedelta = Field(default=timedelta(days=1), description="Look-back of the very first tick")
    # --- invites ---
    feed_base_url: str = Field(
        default="http://127.0.0.1:8765", description="Public base URL of `strides http`, for feed links"
    )
    inbound_secret: SecretStr | None = Field(
        default=None, description="Path secret of the Inbound Parse endpoint for replies; unset: no endpoint"
    )
    calendar_timeout: float = Field(
        default=5.0,
        gt=0,
        le=60,
        description="Seconds a person's calendar (ICS address or CalDAV account) may take to answer",
    )

    # --- orchestration ---
    claim_timeout: timedelta = Field(
        default=timedelta(minutes=10), description="A delivery claim older than this is taken over"
    )
    accept_mass_change: bool = Field(
        default=False,
        description="Apply an organisation snapshot that removes or rejects more than mass_change_share",
    )
    mass_change_share: float = Field(
        default=0.1, gt=0, le=1, description="Share of the organisation a snapshot may remove or reject"
    )
    retry_lifetime: timedelta = Field(
        default=timedelta(days=1),
        description="How long a message that failed for now is tried again (waits of 5 min doubling to 1 h)",
    )
    task_runner: Literal["thread", "dask"] = Field(
        default="thread", description="Prefect task runner of the flows: threads, or a Dask cluster"
    )
    dask_address: str | None = Field(
        default=None, description="Dask scheduler address (tcp://host:8786); None starts a LocalCluster"
    )
    event_path: Literal["listen", "trigger"] = Field(
        default="listen",
        description="How `strides serve` reacts to events: `listen` runs the on-event flow inside the "
        "serving process for each event from Prefect's event stream (flows/listen.py); `trigger` "
        "serves on-event with a deployment trigger (a new process per event)",
    )
    runner_poll_seconds: int = Field(
        default=1,
        ge=1,
        le=60,
        description="How often `strides serve` asks Prefect for runs to start; each triggered run waits "
        "up to this long (Prefect's own default is 10 s)",
    )
    stop_grace_seconds: float = Field(
        default=20.0,
        gt=0,
        le=600,
        description="How long `strides serve` and `strides listen` have to stop after SIGTERM before they "
        "stop the Prefect server they started and exit anyway (status 143); a second SIGTERM: at once",
    )
    hr_secret: SecretStr | None = Field(
        default=None, description="Shared secret of the HR event endpoint (HMAC-SHA256)"
    )
    notification_events: bool = Field(
        default=True, description="Emit strides.notification.sent to Prefect for each message sent"
    )
    hr_max_skew: timedelta = Field(
        default=timedelta(minutes=5), description="How old (or early) a signed HR request may be"
    )
    # --- email delivery (docs/email.md) ---
    smtp_host: str = Field(default="localhost", description="SMTP server")
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_security: Literal["starttls", "tls", "none"] = Field(
        default="starttls", description="STARTTLS upgrade, implicit TLS (465) or none (local relays only)"
    )
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_cafile: Path | None = Field(default=None, description="Extra CA bundle to trust (private relays)")
    smtp_timeout: float = Field(default=30.0, gt=0)
    sendgrid_api_key: SecretStr | None = Field(
        default=None, description="Else the env var SENDGRID_API_KEY, else the Prefect Secret block below"
    )
    sendgrid_api_key_block: str | None = Field(
        default=None, description="Name of a Prefect Secret block holding the API key"
    )
    sendgrid_host: str = Field(default="https://api.sendgrid.com", description="API base URL")
    sendgrid_sandbox: bool = Field(default=False, description="Validate only; SendGrid sends nothing")
    sendgrid_mode: Literal["rendered", "dynamic-template"] = "rendered"
    sendgrid_template_id: str | None = Field(
        default=None, pattern=r"^d-[0-9a-f]{32}$", description="Dynamic template for digests"
    )
    sendgrid_categories: list[str] = Field(default_factory=lambda: ["strides"], max_length=8)
    sendgrid_concurrency: int = Field(default=8, ge=1, le=64, description="Requests in flight (rendered)")
    sendgrid_max_attempts: int = Field(default=5, ge=1, le=20)
    sendgrid_timeout: float = Field(default=20.0, gt=0, description="Seconds per request")
    sendgrid_max_wait: float = Field(default=120.0, gt=0, description="Longest single back-off or 429 wait")
    sendgrid_webhook_public_key: str | None = Field(
        default=None, description="Event Webhook verification key (base64 DER, as SendGrid shows it)"
    )
    sendgrid_webhook_tolerance: timedelta = Field(
        default=timedelta(minutes=10), description="Oldest signed timestamp the webhook accepts"
    )
    max_message_bytes: int = Field(default=10_000_000, ge=10_000, description="Larger messages are dead")
    public_url: str | None = Field(
        default=None, description="Where strides' HTTP app is reachable; enables one-click unsubscribe links"
    )
    unsubscribe_secret: SecretStr | None = Field(
        default=None, description="Signs unsubscribe links and preference-page links"
    )
    preference_link_lifetime: timedelta = Field(
        default=timedelta(days=60),
        gt=timedelta(0),
        description="How long the preference-page link in a message keeps working",
    )
    sendgrid_asm_groups: dict[str, int] = Field(
        default_factory=dict, description="SendGrid unsubscribe group per category: digest, email, invite"
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
        return (_Unmasked(init_settings), env_settings, TomlConfigSettingsSource(settings_cls))

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

    def for_demo(self) -> Settings:
        """The demo's settings: its own store and outbox in a `demo` folder of the state folder,
        Prefect's home shared with these settings, and (unless configured) `strides http --demo`'s
        local address as the public URL: with the key the demo writes (`unsubscribe_key`), its
        emails carry one-click unsubscribe links."""
        folder = self.state_dir / "demo"
        return self.derived(
            state_dir=folder,
            database_url=None,
            outbox_dir=folder / "outbox",
            prefect_home=self.prefect_dir,
            public_url=self.public_url or DEMO_URL,
        )

    @property
    def unsubscribe_key(self) -> str | None:
        """The secret that signs unsubscribe links: `unsubscribe_secret`, else the key file the
        demo keeps in its state folder (`UNSUBSCRIBE_KEY_FILE`); secrets never travel as a flow
        run's parameters, so both are read where the links are made and checked."""
        if self.unsubscribe_secret is not None:
            return self.unsubscribe_secret.get_secret_value()
        path = self.state_dir / UNSUBSCRIBE_KEY_FILE
        return path.read_text(encoding="utf-8").strip() if path.is_file() else None
