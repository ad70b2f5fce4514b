"""The parcel a session's messages travel in between instances (app/cluster/bus.py)."""

from app.cluster.bus import pack, unpack


def test_a_parcel_carries_every_message_and_the_span_unchanged():
    messages = {"state": '{"type":"state","é":"∂E/∂W"}', "frame": "{}", "losses": ""}
    parcel = unpack(pack(messages, (3, 7)))
    assert parcel.messages == messages and list(parcel.messages) == list(messages)
    assert parcel.span == (3, 7)
    assert unpack(pack({"end": "end"}, None)).span is None
