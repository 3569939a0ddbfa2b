"""A recipient's preference page, in a real browser: reached from the link in a real email, it
changes what the next ticks send; forged and expired links are refused; axe-core finds nothing
serious; the screenshots in docs/ are taken here."""

from __future__ import annotations

import email
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from strides import engine
from strides.config import Settings
from strides.http.app import create_app
from strides.integrations.org_files import load_organisation
from strides.integrations.outbox import OutboxTransport
from strides.integrations.preference_links import PreferenceLinks
from strides.integrations.rule_files import LAST_GOOD, load_rules
from strides.store import Store, ledger, preferences, snapshot
from strides.store.tables import SkipRow

from ..conftest import FIXTURES, ROOT
from ..tools import free_port
from .conftest import Clock, serious_violations, serve

ORG = FIXTURES / "org-small"
RULES = FIXTURES / "rules-preferences"
SECRET = "a-test-secret-for-signed-links"
# Tuesday 1 December 2026, 10:00 UTC (11:00 in Berlin, where Ana lives).
START = datetime(2026, 11, 30, tzinfo=UTC)
NOW = datetime(2026, 12, 1, 10, tzinfo=UTC)
SCREENSHOTS = ROOT / "docs" / "screenshots"


@dataclass
class Installation:
    """strides as deployed: a store of a small organisation, its rules, the HTTP app on a socket."""

    settings: Settings
    store: Store
    clock: Clock
    base: str

    def ticks(self, until: datetime) -> None:
        """The ticks of a deployment that ticks every hour, from the last one (or START) to `until`."""
        with self.store.session() as session:
            moment = ledger.last_tick_end(session) or START
        while moment < until:
            moment += timedelta(hours=1)
            self.tick(moment)

    def tick(self, now: datetime) -> None:
        """One tick at `now`: plan the window since the last one, then deliver what is due."""
        from strides.flows.common import sender

        rules = load_rules(RULES)
        with self.store.session() as session:
            first = ledger.last_tick_end(session) is None
        # The first tick plans from the start of the week.
        window = engine.next_window(self.store, now, timedelta(days=1), since=START if first else None)
        assert window is not None
        basis = engine.plan_basis(self.store, rules)
        outcome = engine.plan_window(self.store, rules, window, now, basis=basis)
        sent = engine.drain(
            self.store, OutboxTransport(self.settings.outbox), sender(self.settings), now, 500
        )
        engine.record_tick(self.store, now, window, outcome.planned, sent, basis)

    def mail(self, recipient: str, rule: str) -> list[EmailMessage]:
        """The outbox's messages of `rule` to `recipient`, in the order they were sent."""
        found = []
        for path in sorted(self.settings.outbox.glob("*.eml")):
            message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
            assert isinstance(message, EmailMessage)
            if message["X-Strides-Person"] == recipient and message["X-Strides-Rule"] == rule:
                found.append(message)
        return sorted(found, key=lambda m: m["Date"].datetime)


@pytest.fixture
def installation(tmp_path: Path) -> Iterator[Installation]:
    port = free_port()
    settings = Settings(
        state_dir=tmp_path / "state",
        organisation=ORG,
        rules_dir=RULES,
        public_url=f"http://127.0.0.1:{port}",
        unsubscribe_secret=SECRET,
    )
    store = Store(settings.db_url)
    store.migrate()
    loaded = load_organisation(ORG)
    assert loaded.ok, loaded.rejected
    with store.session() as session:
        snapshot.save_organisation(session, loaded.organisation)
    app = create_app(settings)
    clock = Clock(NOW)
    app.state.clock = clock
    with serve(app, port) as base:
        yield Installation(settings, store, clock, base)
    store.engine.dispose()


def sent_at(message: EmailMessage) -> datetime:
    return message["Date"].datetime.astimezone(UTC)


def link_in(message: EmailMessage) -> str:
    """The preference link in the footer of a message's HTML, as a mail client shows it."""
    html = message.get_body(("html",))
    assert html is not None
    links = re.findall(r'href="([^"]*/preferences/[^"]+)"', html.get_content())
    assert len(links) == 1, links
    return links[0]


def open_page(browser: Any, url: str, width: int = 1280) -> Any:
    # axe-core is injected as an inline script, which the page's own Content-Security-Policy
    # forbids (as it should): the test context alone bypasses it.
    context = browser.new_context(viewport={"width": width, "height": 900}, bypass_csp=True)
    page = context.new_page()
    page.goto(url)
    return page


def test_a_recipient_changes_day_language_and_pause_and_the_next_ticks_honour_them(
    installation: Installation, browser: Any, axe_source: str
) -> None:
    # Monday's and Tuesday's ticks: Ana gets her digest on Monday, in English, with her link.
    installation.ticks(NOW)
    [monday] = installation.mail("ana", "weekly-digest")
    # Monday 08:00 in Berlin, sent by the tick of 08:00 UTC.
    assert sent_at(monday) == datetime(2026, 11, 30, 8, tzinfo=UTC)
    assert monday["Content-Language"] in (None, "en") and "Your week" in monday["Subject"]
    assert len(installation.mail("ana", "daily-reflection")) == 2
    url = link_in(monday)
    assert url.startswith(installation.base + "/preferences/")

    page = open_page(browser, url)
    assert page.title() == "Your preferences · strides"
    assert "Ana Alves" in page.content() and "Ben" not in page.content()
    assert serious_violations(page, axe_source) == []
    for width in (375, 1280):
        page.set_viewport_size({"width": width, "height": 900})
        # Readable at the width: nothing wider than the screen.
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"preferences-{width}.png"), full_page=True)

    # Wednesday at 07:30, in German; no daily reflection; away on Thursday and Friday, and what
    # falls due then is sent after.
    page.select_option("#digest_weekday", "3")
    page.fill("#digest_at", "07:30")
    page.select_option("#locale", "de")
    page.uncheck("#receive-daily-reflection")
    page.fill("#pause_from", "2026-12-03")
    page.fill("#pause_until", "2026-12-04")
    page.check("#pause-shift")
    page.click("button[type=submit] >> nth=0")
    page.wait_for_url(re.compile(r"\?saved=1$"))
    assert page.locator("html").get_attribute("lang") == "de"
    assert "Gespeichert" in page.locator("[role=status]").inner_text()
    assert page.input_value("#digest_at") == "07:30"
    assert page.input_value("#pause_from") == "2026-12-03"
    assert page.input_value("#pause_until") == "2026-12-04"
    assert not page.is_checked("#receive-daily-reflection")
    assert serious_violations(page, axe_source) == []

    with installation.store.session() as session:
        audit = {(c.setting, c.new, c.changed_by) for c in preferences.changes(session, "ana")}
    assert {s for s, _, _ in audit} == {"digest_weekday", "digest_at", "locale", "declined", "pause"}
    assert ("locale", "de", "person (preference page)") in audit

    # The ticks of the rest of the week.
    installation.ticks(datetime(2026, 12, 6, tzinfo=UTC))

    digests = installation.mail("ana", "weekly-digest")
    assert len(digests) == 2
    wednesday = digests[1]
    # Wednesday 07:30 in Berlin (06:30 UTC, sent by the tick of 07:00), and in German.
    assert sent_at(wednesday) == datetime(2026, 12, 2, 7, tzinfo=UTC)
    assert wednesday["Subject"].startswith("Deine Woche")
    assert link_in(wednesday).startswith(installation.base + "/preferences/")
    # No reflection prompt after the change (Monday's and Tuesday's came before it); Ben, who
    # changed nothing, has his every day.
    assert len(installation.mail("ana", "daily-reflection")) == 2
    assert len(installation.mail("ben", "daily-reflection")) >= 6
    with installation.store.session() as session:
        causes = {row.cause for row in session.query(SkipRow).filter(SkipRow.rule_id == "daily-reflection")}
        rows = ledger.messages(session)
        [digest] = [
            r for r in rows if r.rule_id == "weekly-digest" and r.recipient == "ana" and r.send_at > NOW
        ]
        [wrap_up] = [r for r in rows if r.rule_id == "friday-wrap-up" and r.recipient == "ana"]
    assert digest.send_at == datetime(2026, 12, 2, 6, 30, tzinfo=UTC)
    assert causes == {"opted-out"}
    # Friday's wrap-up (15:00 in Berlin) fell in the pause: shifted to the first day after it.
    assert wrap_up.status == "sent"
    assert wrap_up.sent_at is not None and wrap_up.sent_at.date().isoformat() == "2026-12-05"
    [sent_wrap_up] = installation.mail("ana", "friday-wrap-up")
    assert sent_at(sent_wrap_up) == datetime(2026, 12, 5, 14, tzinfo=UTC)


def test_forged_and_expired_links_are_refused_with_a_clear_page(
    installation: Installation, browser: Any, axe_source: str
) -> None:
    links = PreferenceLinks(installation.base, SECRET)
    good = links.token("ana", NOW)
    forged = PreferenceLinks(installation.base, "someone-elses-secret").token("ana", NOW)
    # Another person's name with Ana's signature: the signature covers the whole payload.
    swapped = links.token("ben", NOW).split(".")[0] + "." + good.split(".")[1]

    for token in (forged, swapped, good[:-3] + "abc", "not-a-token"):
        page = open_page(browser, f"{installation.base}/preferences/{token}")
        answer = page.request.get(f"{installation.base}/preferences/{token}")
        assert answer.status == 403
        assert "not valid" in page.content() and "Ana" not in page.content()
        page.context.close()

    expired = links.token("ana", NOW - timedelta(days=61))
    page = open_page(browser, f"{installation.base}/preferences/{expired}")
    assert page.request.get(f"{installation.base}/preferences/{expired}").status == 410
    assert "expired" in page.content() and "Ana" not in page.content()
    assert serious_violations(page, axe_source) == []
    page.context.close()

    # A link still good at 59 days; past the configured lifetime it is not.
    installation.clock.now = NOW + timedelta(days=59)
    page = open_page(browser, f"{installation.base}/preferences/{good}")
    assert "Ana Alves" in page.content()
    installation.clock.now = NOW + timedelta(days=60)
    assert page.request.get(f"{installation.base}/preferences/{good}").status == 410
    page.context.close()


def test_a_form_not_sent_from_the_page_changes_nothing(installation: Installation, browser: Any) -> None:
    token = PreferenceLinks(installation.base, SECRET).token("ana", NOW)
    page = open_page(browser, f"{installation.base}/preferences/{token}")
    other = PreferenceLinks(installation.base, SECRET).token("ben", NOW)
    ben_page = open_page(browser, f"{installation.base}/preferences/{other}")
    ben_csrf = ben_page.input_value("input[name=csrf] >> nth=0")
    for csrf in ("", "guessed", ben_csrf):
        answer = page.request.post(
            f"{installation.base}/preferences/{token}", form={"csrf": csrf, "locale": "de"}
        )
        assert answer.status == 403
    with installation.store.session() as session:
        assert preferences.changes(session, "ana") == []
        assert preferences.choices(session, "ana").locale is None

    # What is typed comes back escaped, never as markup.
    csrf = page.input_value("input[name=csrf] >> nth=0")
    answer = page.request.post(
        f"{installation.base}/preferences/{token}",
        form={"csrf": csrf, "digest_at": "<script>alert(1)</script>", "locale": "<b>x</b>"},
    )
    assert answer.status == 400
    assert "<script>alert" not in answer.text() and "<b>x</b>" not in answer.text()


def test_the_calendar_feed_link_is_issued_and_rotated_from_the_page(
    installation: Installation, browser: Any
) -> None:
    token = PreferenceLinks(installation.base, SECRET).token("ana", NOW)
    page = open_page(browser, f"{installation.base}/preferences/{token}")
    page.click("text=Issue a new feed link")
    first = page.input_value("#feed-url")
    assert page.request.get(first).status == 200
    assert "BEGIN:VCALENDAR" in page.request.get(first).text()
    page.click("text=Issue a new feed link")
    second = page.input_value("#feed-url")
    assert second != first
    assert page.request.get(first).status == 404
    assert page.request.get(second).status == 200
    # Only its hash is stored: the page shows the address once, not on a later visit.
    page.goto(f"{installation.base}/preferences/{token}")
    assert page.locator("#feed-url").count() == 0
    with installation.store.session() as session:
        assert [c.setting for c in preferences.changes(session, "ana")] == ["calendar_feed"] * 2


def test_an_oversized_form_is_refused_before_it_is_read(installation: Installation, browser: Any) -> None:
    token = PreferenceLinks(installation.base, SECRET).token("ana", NOW)
    page = open_page(browser, f"{installation.base}/preferences/{token}")
    answer = page.request.post(
        f"{installation.base}/preferences/{token}", form={"csrf": "x", "filler": "a" * 100_000}
    )
    assert answer.status == 413


def test_with_the_rule_files_unreadable_the_page_keeps_the_person_s_optional_choices(
    installation: Installation, browser: Any, tmp_path: Path
) -> None:
    token = PreferenceLinks(installation.base, SECRET).token("ana", NOW)
    page = open_page(browser, f"{installation.base}/preferences/{token}")
    page.uncheck("#receive-daily-reflection")
    page.click("button[type=submit] >> nth=0")
    page.wait_for_url(re.compile(r"\?saved=1$"))

    # The admin breaks the rule files, and no good rule set was ever saved for this state folder.
    broken = tmp_path / "broken-rules"
    broken.mkdir()
    (broken / "bad.yaml").write_text("rules:\n  - id: Bad Id\n", encoding="utf-8")
    (installation.settings.state_dir / LAST_GOOD).unlink()
    installation.settings.rules_dir = broken
    page.goto(f"{installation.base}/preferences/{token}")
    assert "cannot be shown right now" in page.content()
    page.select_option("#digest_weekday", "5")
    page.click("button[type=submit] >> nth=0")
    page.wait_for_url(re.compile(r"\?saved=1$"))
    with installation.store.session() as session:
        chosen = preferences.choices(session, "ana")
    assert (chosen.digest_weekday, chosen.declined) == (5, ("daily-reflection",))


def test_someone_who_unsubscribed_sees_it_and_can_take_it_back(
    installation: Installation, browser: Any
) -> None:
    from strides.integrations.unsubscribe import UnsubscribeLinks

    unsubscribe = UnsubscribeLinks(installation.base, SECRET).url("ana", "digest")
    token = PreferenceLinks(installation.base, SECRET).token("ana", NOW)
    page = open_page(browser, f"{installation.base}/preferences/{token}")
    assert page.request.post(unsubscribe, form={"List-Unsubscribe": "One-Click"}).status == 200
    page.reload()
    assert not page.is_checked("#category-digest") and page.is_checked("#category-email")
    page.check("#category-digest")
    page.uncheck("#category-invite")
    page.click("button[type=submit] >> nth=0")
    page.wait_for_url(re.compile(r"\?saved=1$"))
    assert page.is_checked("#category-digest") and not page.is_checked("#category-invite")
    with installation.store.session() as session:
        row = preferences.get(session, "ana")
        audit = [(c.setting, c.new) for c in preferences.changes(session, "ana")]
    assert row is not None and set(row.opted_out) == {"invite"}
    assert audit == [("receive:digest", "receives"), ("receive:invite", "opted out")]
