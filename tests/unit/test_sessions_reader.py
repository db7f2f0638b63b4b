"""The live session reader over a configfs-shaped tree (the real one is read in tests/vm/test_ui.py)."""

from sanappliance.apply import sessions

INFO = """InitiatorName: iqn.1994-05.com.example:host1
InitiatorAlias:
LIO Session ID: 3   ISID: 0x23d000000   TSIH: 3   SessionType: Normal
Session State: TARG_SESS_STATE_LOGGED_IN
---------------------[iSCSI Session Values]-----------------------
----------------------[iSCSI Connections]-------------------------
CID: 0  Connection State: TARG_CONN_STATE_LOGGED_IN
   Address 10.20.30.1 TCP  StatSN: 0x2
"""


def test_sessions_of_acls_and_of_demo_mode(tmp_path):
    tpg = tmp_path / "iscsi" / "iqn.2026-11.org.example:t1" / "tpgt_1"
    (tpg / "acls" / "iqn.1994-05.com.example:host1").mkdir(parents=True)
    (tpg / "acls" / "iqn.1994-05.com.example:host1" / "info").write_text(INFO)
    (tpg / "acls" / "iqn.1994-05.com.example:idle").mkdir()
    (tpg / "acls" / "iqn.1994-05.com.example:idle" / "info").write_text("No active iSCSI Session for Initiator"
                                                                        " Endpoint: iqn.1994-05.com.example:idle\n")
    (tpg / "dynamic_sessions").write_text("iqn.1994-05.com.example:demo\n")
    found = sessions.read(tmp_path)
    assert found == [
        {"target": "iqn.2026-11.org.example:t1", "tpg": 1, "initiator": "iqn.1994-05.com.example:host1",
         "addresses": ("10.20.30.1",), "state": "logged_in"},
        {"target": "iqn.2026-11.org.example:t1", "tpg": 1, "initiator": "iqn.1994-05.com.example:demo",
         "state": "logged_in (no ACL)"}]
    assert sessions.read(tmp_path / "absent") == []
