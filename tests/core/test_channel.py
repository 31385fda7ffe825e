"""The link between a server process and its query processes (core/channel.py ``Channel``)."""

from __future__ import annotations

import threading

import pytest

from nhs_ai_workforce.core.channel import channel_pair


def test_messages_sent_back_to_back_arrive_whole_and_in_order():
    one, other = channel_pair()
    big = bytes(range(256)) * 4096  # 1 MB: more than one read
    messages = [("ready", 1), big, {"n": 2}, b"", ("ok", "x" * 70_000)]
    sender = threading.Thread(target=lambda: [one.send(m) for m in messages])
    sender.start()
    received = [other.recv() for _ in messages]
    sender.join()
    assert received == messages
    assert not other.poll(0)


def test_poll_waits_for_a_message_and_recv_ends_when_the_other_end_closes():
    one, other = channel_pair()
    assert not other.poll(0.05)
    one.send("x")
    assert other.poll(1) and other.recv() == "x"
    one.close()
    assert other.poll(1)  # the end is there to read
    with pytest.raises(EOFError):
        other.recv()
    other.close()
    with pytest.raises(OSError):
        other.poll(0)


def test_a_message_read_ahead_is_ready_without_waiting():
    one, other = channel_pair()
    one.send("first")
    one.send("second")  # both wait in the socket when the first is read: one read takes both
    assert other.recv() == "first"
    assert other.poll(0)
    assert other.recv() == "second"
    assert not other.poll(0)
