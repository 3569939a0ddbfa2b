"""The official client against SendGrid's own API description, served by Prism on 127.0.0.1.

Prism validates every request against tsg_mail_v3 (tests/fixtures/sendgrid/) and answers 202, or 422
naming each violation.
"""

from __future__ import annotations

import pytest

from strides.integrations import DeliveryError
from strides.integrations.sendgrid_mail import SendGridTransport
from strides.integrations.sendgrid_payload import Options

TEMPLATE = "d-0123456789abcdef0123456789abcdef"


def transport(host: str, **kw) -> SendGridTransport:
    return SendGridTransport("SG.test-key", host=host, options=Options(sandbox=False), **kw)


@pytest.mark.parametrize("kind", ["digest", "notification", "invite", "cancel"])
def test_every_rendered_kind_is_accepted(prism, outgoing_by_kind, kind):
    item = outgoing_by_kind[kind]
    ref = transport(prism).send(item.key, item.message, item.label)
    assert ref == f"sendgrid:{item.key}"  # Prism sends no X-Message-Id; SendGrid does


def test_sandbox_payloads_are_accepted(prism, outgoing_by_kind):
    item = outgoing_by_kind["invite"]
    sandboxed = SendGridTransport("SG.k", host=prism, options=Options(sandbox=True))
    assert sandboxed.send(item.key, item.message, item.label)


def test_dynamic_template_digests_go_1000_to_a_request_and_invites_stay_rendered(prism, outgoing_by_kind):
    from dataclasses import replace

    digest = outgoing_by_kind["digest"]
    digests = [replace(digest, key=f"{digest.key[:24]}{i:08d}") for i in range(1001)]
    items = [*digests, outgoing_by_kind["invite"]]
    sender = transport(prism, mode="dynamic-template", template_id=TEMPLATE)
    results = sender.send_many(items)
    assert all(isinstance(r, str) for r in results), results
    assert sender.requests == 3  # 1000 + 1 digests, and the invite alone


def test_an_invalid_payload_is_rejected_with_the_violation_named_and_not_retried(prism, outgoing_by_kind):
    sender = transport(prism)
    too_many = {
        "personalizations": [{"to": [{"email": f"p{i}@example.com"}]} for i in range(1001)],
        "from": {"email": "growth@strides.example"},
        "subject": "x",
        "content": [{"type": "text/plain", "value": "x"}],
    }
    with pytest.raises(DeliveryError) as caught:
        sender.deliver("k1", too_many)
    assert caught.value.permanent
    assert "SendGrid 422" in caught.value.answer
    assert "personalizations must NOT have more than 1000 items" in caught.value.answer
    assert sender.requests == 1


def test_a_bad_address_is_named_by_field(prism):
    sender = transport(prism)
    payload = {
        "personalizations": [{"to": [{"email": "not-an-address"}]}],
        "from": {"email": "growth@strides.example"},
        "subject": "x",
        "content": [{"type": "text/plain", "value": "x"}],
    }
    with pytest.raises(DeliveryError, match=r"body\.personalizations\.0\.to\.0\.email: .*format"):
        sender.deliver("k2", payload)


def test_a_digest_with_one_click_unsubscribe_and_an_unsubscribe_group_is_accepted(prism, sample_org):
    from dataclasses import replace

    from strides.domain.schema import Kind
    from strides.integrations.compose import outgoing
    from strides.integrations.unsubscribe import UnsubscribeLinks

    from .conftest import NOW, SENDER, composed, intent

    sender = replace(SENDER, links=UnsubscribeLinks("https://strides.example.com", "s"))
    digest = intent(Kind.DIGEST, "p003", "weekly-digest", "Digest")
    item = outgoing(digest, sample_org, sender, NOW, digest=composed(digest, sample_org))
    grouped = SendGridTransport("SG.k", host=prism, options=Options(asm_groups=(("digest", 4242),)))
    assert grouped.send(item.key, item.message, item.label)
