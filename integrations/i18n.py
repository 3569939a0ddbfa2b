"""Translation catalogues: gettext `.po` files read with Babel at run time (no compile step).

`integrations/locales/strides.pot` is extracted from the templates and Python sources
(`babel.cfg`; `tests/delivery/test_i18n.py` fails when it is out of date). Each language has
`locales/<lang>/LC_MESSAGES/strides.po`; English is the source language, so its catalogue is the
messages themselves. A person's `locale` ("de", "de-AT", "de_DE") picks the closest catalogue,
else English.

To add or refresh a language:
    .venv/bin/pybabel extract -F babel.cfg -o integrations/locales/strides.pot \
        --omit-header --no-location --sort-output .
    .venv/bin/pybabel update -i integrations/locales/strides.pot -d integrations/locales -D strides
    .venv/bin/pybabel init -i integrations/locales/strides.pot -d integrations/locales -D strides -l fr
"""

from __future__ import annotations

import functools
import gettext
from io import BytesIO
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

LOCALES = Path(__file__).resolve().parent / "locales"
DOMAIN = "strides"
SOURCE_LANGUAGE = "en"


def catalogue_path(lang: str) -> Path:
    return LOCALES / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


@functools.cache
def available() -> frozenset[str]:
    """The languages with a catalogue."""
    return frozenset(p.parent.parent.name for p in LOCALES.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))


@functools.cache
def language(locale: str | None) -> str:
    """The catalogue for a person's locale: exact ("de_AT"), then the language ("de"), else English."""
    if not locale:
        return SOURCE_LANGUAGE
    wanted = locale.strip().replace("-", "_")
    for candidate in (wanted, wanted.split("_")[0].lower()):
        if candidate in available():
            return candidate
    return SOURCE_LANGUAGE


@functools.cache
def translations(lang: str) -> gettext.NullTranslations:
    """The compiled catalogue for `lang` (a `language(...)` result), read from its `.po` file."""
    path = catalogue_path(lang)
    if not path.exists():
        return gettext.NullTranslations()
    with path.open("rb") as source:
        catalog = read_po(source, locale=lang, domain=DOMAIN)
    compiled = BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)
