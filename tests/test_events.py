"""Reading Zalo events and their signature."""

import hashlib

import pytest

from bot.zalo import signature
from bot.zalo.events import MalformedEvent, parse_event

TEXT_EVENT = {
    "event_name": "user_send_text",
    "app_id": "50554360515256678",
    "sender": {"id": "5510185758261927916"},
    "recipient": {"id": "1646843870823903717"},
    "message": {"text": "Helo", "msg_id": "e2a641af6661713b2874"},
    "timestamp": "1717061839659",
    "user_id_by_app": "3611371994410983884",
}


def test_signature_is_plain_sha256_of_app_id_body_timestamp_secret() -> None:
    body = b'{"a": 1}'
    expected = hashlib.sha256(b"app" + body + b"123" + b"secret").hexdigest()
    assert signature.compute("app", body, "123", "secret") == expected
    assert signature.is_valid("mac=" + expected, "app", body, "123", "secret")
    assert not signature.is_valid("mac=" + expected, "app", body + b" ", "123", "secret")
    assert not signature.is_valid(expected, "app", body, "123", "secret")  # no "mac=" prefix
    assert not signature.is_valid(None, "app", body, "123", "secret")


def test_text_event_is_keyed_by_msg_id() -> None:
    event = parse_event(TEXT_EVENT)
    assert (event.key, event.user_id, event.text) == (
        "e2a641af6661713b2874",
        "5510185758261927916",
        "Helo",
    )


def test_follow_has_no_msg_id_so_its_key_is_name_user_and_time() -> None:
    event = parse_event(
        {
            "oa_id": "1",
            "follower": {"id": "42"},
            "event_name": "follow",
            "app_id": "a",
            "timestamp": "1717061839659",
        }
    )
    assert (event.key, event.user_id) == ("follow:42:1717061839659", "42")
    assert event.request_id == "follow:1717061839659"  # logs never carry the user's id


def test_a_text_event_is_logged_under_its_msg_id() -> None:
    assert parse_event(TEXT_EVENT).request_id == "e2a641af6661713b2874"


def test_oa_echo_is_addressed_to_the_recipient_user() -> None:
    echo = {
        **TEXT_EVENT,
        "event_name": "oa_send_text",
        "sender": {"id": "oa", "admin_id": "7"},
        "recipient": {"id": "99"},
    }
    event = parse_event(echo)
    assert event.user_id == "99" and event.is_echo_or_receipt
    assert event.key != parse_event(TEXT_EVENT).key


@pytest.mark.parametrize(
    "payload",
    [
        [],
        "text",
        {"timestamp": "1"},
        {"event_name": "follow"},
        {"event_name": "follow", "timestamp": "yesterday"},
        {"event_name": "user_send_text", "timestamp": "1", "sender": {"id": ["x"]}},
        {"event_name": "user_send_text", "timestamp": "1", "sender": {"id": "\ud800"}},
        {"event_name": "user_send_text", "timestamp": "1" * 400, "sender": {"id": "1"}},
        {"event_name": "user_send_text", "timestamp": "1" * 17, "sender": {"id": "1"}},
    ],
)
def test_malformed_events_raise_a_clear_error(payload) -> None:
    with pytest.raises(MalformedEvent):
        parse_event(payload)


@pytest.mark.parametrize("name", ["user_received_message", "user_seen_message"])
def test_a_receipt_belongs_to_the_citizen_who_received_the_message(name: str) -> None:
    """The OA sent the message, the citizen received or saw it: sender is the OA."""
    receipt = {
        "event_name": name,
        "app_id": "50554360515256678",
        "sender": {"id": "1646843870823903717"},  # the OA
        "recipient": {"id": "5510185758261927916"},  # the citizen
        "message": {"msg_ids": ["e2a641af6661713b2874"]},
        "timestamp": "1717061839659",
    }
    event = parse_event(receipt)
    assert event.user_id == "5510185758261927916" and event.is_echo_or_receipt


@pytest.mark.parametrize(
    "shape",
    [
        {"sender": {"id": "123"}, "recipient": {"id": "oa"}},
        {"follower": {"id": "123"}, "oa_id": "oa"},
        {"user_id": "123", "oa_id": "oa"},
    ],
)
def test_user_withdraw_takes_the_oa_scoped_id_before_the_app_scoped_one(shape: dict) -> None:
    event = {"event_name": "user_withdraw", "timestamp": "1", "user_id_by_app": "456", **shape}
    assert parse_event(event).user_id == "123"


def test_user_withdraw_with_only_the_app_scoped_id_uses_it() -> None:
    event = {"event_name": "user_withdraw", "timestamp": "1", "user_id_by_app": "456"}
    assert parse_event(event).user_id == "456"
