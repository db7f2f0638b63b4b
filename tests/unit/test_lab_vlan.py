"""The lab's VLAN relay tags and untags frames exactly (the relay itself runs in the VM tests' namespace)."""

from sanappliance.lab.vlan import tag, untag

FRAME = bytes(range(6)) + bytes(range(6, 12)) + b"\x08\x00" + b"payload"


def test_tag_then_untag_gives_the_frame_back():
    tagged = tag(FRAME, 100)
    assert tagged[12:16] == b"\x81\x00\x00\x64" and len(tagged) == len(FRAME) + 4
    assert untag(tagged, 100) == FRAME


def test_other_vlans_and_untagged_frames_are_not_ours():
    assert untag(tag(FRAME, 200), 100) is None
    assert untag(FRAME, 100) is None
    assert untag(b"\x00" * 10, 100) is None
