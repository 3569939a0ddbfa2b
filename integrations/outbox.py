"""The embedded default transport: standard `.eml` files in a folder, one per message."""

from __future__ import annotations

import os
import re
import tempfile
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path

_SAFE = re.compile(r"[^A-Za-z0-9._@+-]+")


class OutboxTransport:
    """Writes RFC 5322 files. The file name derives from the key, so a retry overwrites."""

    name = "outbox"

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    def path_for(self, key: str, label: str) -> Path:
        return self.folder / f"{_SAFE.sub('_', label)}-{key[:10]}.eml"

    def send(self, key: str, message: EmailMessage, label: str) -> str:
        self.folder.mkdir(parents=True, exist_ok=True)
        target = self.path_for(key, label)
        data = message.as_bytes(policy=SMTP)
        # Write then rename: a crash never leaves half a message behind.
        handle, temporary = tempfile.mkstemp(dir=self.folder, prefix=".tmp-", suffix=".eml")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(data)
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        return str(target)
