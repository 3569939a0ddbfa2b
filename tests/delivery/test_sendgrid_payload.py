"""Step one (build the payload) is pure: the JSON SendGrid gets for each kind of message."""

from __future__ import annotations

import base64
from dataclasses import replace

import pytest

from strides.domain.schema import Kind
from strides.integrations.compose import outgoing
from strides.integrations.preference_links import PreferenceLinks
from strides.integrations.sendgrid_payload import (
    MAX_PERSONALIZATIONS,
    Options,
    build_payload,
    build_template_payload,
    template_item,
)

from .conftest import NOW, SENDER, composed, intent


def test_a_notification_is_plain_then_html_with_the_key_rule_and_person_as_custom_args(outgoing_by_kind):
    item = outgoing_by_kind["notification"]
    payload = build_payload(item.message, Options(categories=("strides",)))
    assert [c["type"] for c in payload["content"]] == ["text/plain", "text/html"]
    assert payload["personalizations"] == [
        {
            "to": [{"email": "arjun.hoffmann.p003@example.com", "name": "Arjun Hoffmann"}],
            "custom_args": {
                "strides_key": item.key,
                "strides_rule": "review-reminder",
                "strides_person": "p003",
                "strides_kind": "email",
            },
        }
    ]
    assert payload["from"] == {"email": "growth@strides.example", "name": "strides growth"}
    assert payload["categories"] == ["strides", "email", "review-reminder"]
    assert payload["headers"]["Message-ID"] == item.message["Message-ID"]
    assert not {"From", "To", "Subject", "Date", "X-Strides-Key"} & set(payload["headers"])
    assert "mail_settings" not in payload and "tracking_settings" not in payload


@pytest.mark.parametrize("kind", ["invite", "cancel"])
def test_an_invite_carries_the_calendar_as_content_and_as_an_ics_attachment(outgoing_by_kind, kind):
    method = "REQUEST" if kind == "invite" else "CANCEL"
    payload = build_payload(outgoing_by_kind[kind].message, Options())
    types = [c["type"] for c in payload["content"]]
    assert types == ["text/plain", "text/html", f"text/calendar; method={method}"]
    calendar = payload["content"][2]["value"]
    assert f"METHOD:{method}" in calendar
    [attachment] = payload["attachments"]
    assert attachment["type"] == "application/ics"
    assert attachment["filename"] == ("invite.ics" if kind == "invite" else "cancel.ics")
    assert base64.b64decode(attachment["content"]).decode().replace("\r\n", "\n") == calendar.replace(
        "\r\n", "\n"
    )
    assert payload["tracking_settings"]["click_tracking"] == {"enable": False, "enable_text": False}


def test_sandbox_mode_is_one_switch(outgoing_by_kind):
    payload = build_payload(outgoing_by_kind["digest"].message, Options(sandbox=True))
    assert payload["mail_settings"] == {"sandbox_mode": {"enable": True}}


def test_categories_never_exceed_ten(outgoing_by_kind):
    many = tuple(f"c{i}" for i in range(15))
    assert (
        len(build_payload(outgoing_by_kind["digest"].message, Options(categories=many))["categories"]) == 10
    )


def test_a_dynamic_template_digest_replaces_content_with_data(outgoing_by_kind):
    item = outgoing_by_kind["digest"]
    entry = template_item(item.message, item.template_data or {})
    payload = build_template_payload([entry], {"email": "growth@strides.example"}, "d-" + "0" * 32, Options())
    assert "content" not in payload and payload["template_id"] == "d-" + "0" * 32
    [person] = payload["personalizations"]
    assert person["custom_args"]["strides_key"] == item.key
    data = person["dynamic_template_data"]
    assert data["subject"].startswith("Your week in growth")
    assert data["first_name"] == "Chen" and data["meetings"] == ["Check-in: Thursday"]
    assert "Message-ID" not in person.get("headers", {})


def test_a_template_request_holds_at_most_1000_personalizations(outgoing_by_kind):
    item = outgoing_by_kind["digest"]
    entry = template_item(item.message, item.template_data or {})
    with pytest.raises(ValueError, match="1 to 1000"):
        build_template_payload([entry] * (MAX_PERSONALIZATIONS + 1), {"email": "a@b.co"}, "d-x", Options())


@pytest.mark.parametrize("kind", ["digest", "notification", "invite"])
def test_the_fast_path_from_structured_content_builds_the_same_payload_as_from_mime(outgoing_by_kind, kind):
    item = outgoing_by_kind[kind]
    assert item.content is not None
    from_content = build_payload(item.content, Options())
    from_mime = build_payload(item.message, Options())

    def normalised(payload):
        for entry in payload["content"]:
            # MIME stores text with a final newline and the calendar with CRLF: the same text.
            entry["value"] = entry["value"].replace("\r\n", "\n").rstrip("\n")
        return payload

    assert normalised(from_content) == normalised(from_mime)


def test_a_dynamic_template_digest_carries_the_recipient_s_preference_link(sample_org):
    links = PreferenceLinks("https://strides.example", "secret")
    sender = replace(SENDER, preferences=links)
    digest = intent(Kind.DIGEST, "p001", "weekly-digest", "Weekly digest")
    item = outgoing(digest, sample_org, sender, NOW, [], with_data=True, digest=composed(digest, sample_org))
    url = (item.template_data or {})["preferences_url"]
    assert url.startswith("https://strides.example/preferences/")
    assert links.read(url.rsplit("/", 1)[1], NOW)[0] == "p001"
