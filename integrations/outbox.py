"""The embedded default transport: standard `.eml` files in a folder, one per message."""

from __future__ import annotations

import os
import re
import tempfile
import time
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path

from strides.integrations import DeliveryError

_SAFE = re.compile(r"[^A-Za-z0-9._@+-]+")
# A temporary file this old was left by a process that died while writing it (a write takes
# milliseconds; a claim is taken over after ten minutes).
STALE_TEMPORARY_SECONDS = 600


class OutboxTransport:
    """Writes RFC 5322 files. The file name derives from the key, so a retry overwrites."""

    name = "outbox"

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self._swept = False

    def sweep(self) -> int:
        """Remove the temporary files of writes that never finished; how many."""
        removed = 0
        cutoff = time.time() - STALE_TEMPORARY_SECONDS
        for path in self.folder.glob(".tmp-*.eml"):
            try:
                if path.stat().st_mtime < cutoff:
                    path.unlink()
                    removed += 1
            except FileNotFoundError:
                pass  # another worker swept it
        return removed

    def path_for(self, key: str, label: str) -> Path:
        return self.folder / f"{_SAFE.sub('_', label)}-{key[:10]}.eml"

    def send(self, key: str, message: EmailMessage, label: str) -> str:
        target = self.path_for(key, label)
        data = message.as_bytes(policy=SMTP)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            if not self._swept:
                self._swept = True
                self.sweep()
            # Write then rename: a crash never leaves half a message behind.
            handle, temporary = tempfile.mkstemp(dir=self.folder, prefix=".tmp-", suffix=".eml")
        except OSError as exc:
            # A read-only or full outbox: the message is tried again later (not lost, not sent).
            raise DeliveryError(key, f"outbox {self.folder}: {exc.strerror or exc}") from exc
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(data)
            os.replace(temporary, target)
        except BaseException as exc:
            Path(temporary).unlink(missing_ok=True)
            if isinstance(exc, OSError):
                raise DeliveryError(key, f"outbox {self.folder}: {exc.strerror or exc}") from exc
            raise
        return str(target)
