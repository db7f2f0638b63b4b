"""The storage pages of the web page over stand-ins: every form creates what it says, every refused input is shown
next to its field with nothing changed, every POST needs the CSRF token, CHAP secrets never come back."""

from __future__ import annotations

import pytest

from sanappliance.service import iscsi, storage

from .test_ui_harness import DISK1, DISK2, I1, I2, SECRETS, T, Ui, errors, make_ui, route_urls, snapshot


@pytest.fixture
def ui() -> Ui:
    return make_ui()


def build(ui: Ui) -> None:
    """A pool, two volumes, a target with a LUN and an ACL with CHAP, through the forms."""
    for url, data in (
            ("/storage/pools", {"name": "p1", "disks": DISK1}),
            ("/storage/volumes", {"name": "v1", "size": "1G", "pool": "p1", "kind": ""}),
            ("/storage/volumes", {"name": "v2", "size": "64M", "pool": "", "kind": "fileio"}),
            ("/storage/targets", {"iqn": T}),
            (f"/storage/targets/{T}/tpg1/luns", {"volume": "v1", "lun": ""}),
            (f"/storage/targets/{T}/tpg1/acls", {"initiator": I1, "userid": "host1", "password": SECRETS[0],
                                                 "map_all": "on"})):
        response = ui.post(url, data)
        assert response.status_code == 303, (url, errors(response.get_data(as_text=True)))


def tpg(ui: Ui):
    return ui.store.config.target(T).tpgs[0]


# --- CSRF ---------------------------------------------------------------------------------------------------------

POSTS = [(url, endpoint) for method, url, endpoint in route_urls(make_ui(login=False).app) if method == "POST"]


@pytest.mark.parametrize("token", [False, "wrong-token", ""], ids=["missing", "wrong", "empty"])
@pytest.mark.parametrize("url,endpoint", POSTS)
def test_every_post_needs_the_csrf_token(ui, url, endpoint, token):
    build(ui)
    before = snapshot(ui)
    data = {"name": "p2", "disks": DISK2, "size": "2G", "iqn": T, "volume": "v2", "initiator": I2, "address":
            "192.0.2.1", "port": "3260", "generation": str(ui.store.config.generation), "tag": "1", "lun": "0"}
    response = ui.post(url, data, csrf=token)
    assert response.status_code == 400
    assert "security token is missing or out of date" in response.get_data(as_text=True)
    assert snapshot(ui) == before
    assert ui.get("/").status_code == 200  # still logged in


def test_the_csrf_token_of_another_session_is_refused(ui):
    other = make_ui()
    response = ui.post("/storage/pools", {"name": "p1", "disks": DISK1}, csrf=other.csrf())
    assert response.status_code == 400 and ui.store.saves == 0


def test_fetches_may_send_the_csrf_token_as_a_header(ui):
    response = ui.client.post("/storage/pools", data={"name": "p1", "disks": DISK1},
                              headers={"X-CSRF-Token": ui.csrf()})
    assert response.status_code == 303 and [p.name for p in ui.store.config.pools] == ["p1"]


# --- creating through the forms -----------------------------------------------------------------------------------

def test_building_through_the_forms(ui):
    build(ui)
    config = ui.store.config
    assert [(p.name, p.disks) for p in config.pools] == [("p1", (DISK1,))]
    assert [(v.name, v.kind.value, v.size) for v in config.volumes] == [("v1", "lv", 2**30),
                                                                      ("v2", "fileio", 64 * 2**20)]
    assert [(x.lun, x.volume) for x in tpg(ui).luns] == [(0, "v1")]
    (acl,) = tpg(ui).acls
    assert (acl.initiator, acl.chap.userid, acl.chap.password) == (I1, "host1", SECRETS[0])
    assert [(m.mapped_lun, m.tpg_lun) for m in acl.mapped_luns] == [(0, 0)]
    page = ui.get("/storage").get_data(as_text=True)
    for text in ("p1", "1 volume(s), 1GiB allocated, on virtio-data1", "1GiB lv in p1, exported 1x", T,
                 "tpg1: enabled, CHAP, 1 LUN(s), 1 ACL(s)", "Targets: 1, no discovery auth"):
        assert text in page, text
    page = ui.get(f"/storage/targets/{T}").get_data(as_text=True)
    for text in (I1, "lun0", "v1 (1GiB lv)", "0.0.0.0", "3260", "user <span class=\"mono\">host1</span>, secret (set)"):
        assert text in page, text


def test_a_change_says_what_was_done(ui):
    response = ui.post("/storage/pools", {"name": "p1", "disks": DISK1}, follow=True)
    page = response.get_data(as_text=True)
    assert "Created pool p1." in page and "create volume group san-p1" in page


def test_a_target_gets_a_name_when_none_is_given(ui):
    response = ui.post("/storage/targets", {"iqn": ""})
    (target,) = ui.store.config.targets
    assert target.iqn.startswith("iqn.2026-11.org.sanappliance:")
    assert response.location == f"/storage/targets/{target.iqn}"


def test_resize_grows_a_volume(ui):
    build(ui)
    assert ui.post("/storage/volumes/v1/resize", {"size": "2G"}).status_code == 303
    assert ui.store.config.volume("v1").size == 2 * 2**30


def test_portals_groups_tpgs_and_chap(ui):
    build(ui)
    assert ui.post(f"/storage/targets/{T}/tpg1/portals", {"address": "192.0.2.10", "port": "3261"}).status_code == 303
    assert ui.post(f"/storage/targets/{T}/tpg1/groups", {"name": "web", "initiators": f"{I2}, iqn.2001-04.com.ex:a",
                                                         "userid": "web", "password": SECRETS[1]}).status_code == 303
    assert ui.post(f"/storage/targets/{T}/tpg1/acls/auth", {"initiator": I1, "userid": "host1b",
                                                            "password": SECRETS[1], "mutual_userid": "target",
                                                            "mutual_password": SECRETS[2]}).status_code == 303
    assert ui.post(f"/storage/targets/{T}/tpgs").status_code == 303
    config = ui.store.config
    g = config.target(T).tpgs[0]
    assert [str(p) for p in g.portals] == ["0.0.0.0:3260", "192.0.2.10:3261"]
    assert [(x.name, x.initiators, x.chap.userid) for x in g.groups] == [
        ("web", (I2, "iqn.2001-04.com.ex:a"), "web")]
    assert (g.acls[0].chap.userid, g.acls[0].chap.mutual_userid) == ("host1b", "target")
    assert [x.tag for x in config.target(T).tpgs] == [1, 2]
    page = ui.get(f"/storage/targets/{T}").get_data(as_text=True)
    assert "TPG 2" in page and "192.0.2.10" in page and "iqn.2001-04.com.ex:a" in page


# --- refused input: the error next to its field, nothing changed --------------------------------------------------

REFUSALS = [
    # (url, data, "<form id>-<field>" where the error shows, part of the message, status)
    ("/storage/targets", {"iqn": "not-an-iqn"}, "target-create-iqn", "not an iSCSI qualified name", 400),
    ("/storage/targets", {"iqn": T}, "target-create-iqn", "a target with this name exists already", 409),
    (f"/storage/targets/{T}/tpg1/acls", {"initiator": "host1", "userid": "", "password": ""},
     "acl-create-1-initiator", "not an iSCSI initiator name", 400),
    (f"/storage/targets/{T}/tpg1/acls", {"initiator": I1}, "acl-create-1-initiator",
     "this initiator has an ACL or group membership already", 409),
    (f"/storage/targets/{T}/tpg1/acls", {"initiator": I2, "userid": "host2", "password": "short"},
     "acl-create-1-password", "a CHAP secret is 12-255 printable characters", 400),
    (f"/storage/targets/{T}/tpg1/acls", {"initiator": I2}, "acl-create-1-userid",
     "LIO requires CHAP for all or none of a TPG's initiators", 400),
    (f"/storage/targets/{T}/tpg1/acls", {"initiator": I2, "userid": "h2", "password": SECRETS[1],
                                         "mutual_userid": "t", "mutual_password": SECRETS[1]},
     "acl-create-1-mutual_password", "the mutual secret must differ", 400),
    (f"/storage/targets/{T}/tpg1/luns", {"volume": "v2", "lun": "0"}, "lun-create-1-lun", "this LUN number is taken",
     409),
    (f"/storage/targets/{T}/tpg1/luns", {"volume": "v2", "lun": "x"}, "lun-create-1-lun", "a whole number", 400),
    (f"/storage/targets/{T}/tpg1/luns", {"volume": "v1", "lun": ""}, "lun-create-1-volume",
     "the volume is exported twice in this TPG", 400),
    (f"/storage/targets/{T}/tpg1/luns", {"volume": "ghost", "lun": ""}, "lun-create-1-volume", "no such volume", 404),
    ("/storage/volumes", {"name": "big", "size": "10G", "pool": "p1", "kind": ""}, "volume-create-size",
     "the pool's volumes need 11GiB but it holds 4GiB", 400),
    ("/storage/volumes", {"name": "v3", "size": "lots", "pool": "p1", "kind": ""}, "volume-create-size",
     "a size is a number of bytes", 400),
    ("/storage/volumes", {"name": "v 3", "size": "1G", "pool": "p1", "kind": ""}, "volume-create-name",
     "names are 1-63 characters", 400),
    ("/storage/volumes", {"name": "v1", "size": "1G", "pool": "p1", "kind": ""}, "volume-create-name",
     "a volume with this name exists already", 409),
    ("/storage/volumes", {"name": "v3", "size": "1G", "pool": "nope", "kind": ""}, "volume-create-pool",
     "no such pool", 400),
    ("/storage/volumes", {"name": "v3", "size": "1G", "pool": "", "kind": "tape"}, "volume-create-kind",
     "kind is lv, fileio or ramdisk", 400),
    ("/storage/volumes/v1/resize", {"size": "4M"}, "resize-v1-size", "volumes grow, they do not shrink", 400),
    ("/storage/volumes/v1/resize", {"size": "9G"}, "resize-v1-size", "the pool's volumes need", 400),
    ("/storage/pools", {"name": "p2"}, "pool-create-disks", "give at least one disk", 400),
    ("/storage/pools", {"name": "p2", "disks": DISK1}, "pool-create-disks", "disk already in pool p1", 400),
    ("/storage/pools", {"name": "p1", "disks": DISK2}, "pool-create-name", "a pool with this name exists already",
     409),
    (f"/storage/targets/{T}/tpg1/portals", {"address": "192.0.2.300", "port": "3260"}, "portal-create-1-address",
     "not an IPv4 or IPv6 address", 400),
    (f"/storage/targets/{T}/tpg1/portals", {"address": "0.0.0.0", "port": "3260"}, "portal-create-1-address",
     "this portal exists already", 409),
    (f"/storage/targets/{T}/tpg1/portals", {"address": "192.0.2.1", "port": "70000"}, "portal-create-1-port",
     "a TCP port is 1-65535", 400),
    (f"/storage/targets/{T}/tpg1/groups", {"name": "g1", "initiators": "bogus", "userid": "g",
                                           "password": SECRETS[1]}, "group-create-1-initiators",
     "not an iSCSI initiator name", 400),
    (f"/storage/targets/{T}/tpg1/groups", {"name": "g1", "initiators": I1, "userid": "g", "password": SECRETS[1]},
     "group-create-1-initiators", "the initiator has an ACL or group membership already", 400),
    (f"/storage/targets/{T}/tpg1/groups", {"name": "g1", "initiators": I2}, "group-create-1-userid",
     "LIO requires CHAP for all or none", 400),
]


@pytest.mark.parametrize("url,data,where,message,status", REFUSALS, ids=[r[2] + ":" + r[3][:24] for r in REFUSALS])
def test_refused_input_is_shown_next_to_its_field(ui, url, data, where, message, status):
    build(ui)
    before = snapshot(ui)
    response = ui.post(url, data)
    page = response.get_data(as_text=True)
    assert response.status_code == status
    shown = errors(page)
    assert list(shown) == [where], shown
    assert message in shown[where]
    assert f'id="{where}"' in page and 'aria-invalid="true"' in page  # the field itself, marked
    assert snapshot(ui) == before
    for secret in SECRETS:
        assert secret not in page


def test_typed_values_are_kept_but_secrets_are_not(ui):
    build(ui)
    response = ui.post(f"/storage/targets/{T}/tpg1/acls", {"initiator": "bad name", "userid": "someone",
                                                           "password": SECRETS[1], "mutual_userid": "tgt",
                                                           "mutual_password": SECRETS[2]})
    page = response.get_data(as_text=True)
    assert 'value="bad name"' in page and 'value="someone"' in page and 'value="tgt"' in page
    assert SECRETS[1] not in page and SECRETS[2] not in page


def test_an_unknown_target_in_a_form_is_a_form_level_error(ui):
    build(ui)
    before = snapshot(ui)
    response = ui.post(f"/storage/targets/{T}/tpg7/luns", {"volume": "v2", "lun": ""})
    assert response.status_code == 404
    assert errors(response.get_data(as_text=True)) == {"": "tpg: no such TPG"}
    assert snapshot(ui) == before


# --- destructive actions: plan first, then confirm ----------------------------------------------------------------

def test_the_confirm_page_shows_the_plan_and_changes_nothing(ui):
    build(ui)
    before, calls = snapshot(ui), ui.system.calls
    response = ui.get(f"/confirm/target-delete?iqn={T}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f"Delete target {T}?" in page
    assert f"delete target {T}" in page  # the dry run's plan
    assert 'name="generation" value="6"' in page
    assert snapshot(ui) == before and ui.system.calls == calls


DELETIONS = [
    # (action, parameters, what is gone afterwards)
    ("acl-delete", {"iqn": T, "tag": "1", "initiator": I1}, lambda c: not c.target(T).tpgs[0].acls),
    ("lun-delete", {"iqn": T, "tag": "1", "lun": "0"}, lambda c: not c.target(T).tpgs[0].luns),
    ("portal-delete", {"iqn": T, "tag": "1", "address": "0.0.0.0", "port": "3260"},
     lambda c: not c.target(T).tpgs[0].portals),
    ("group-delete", {"iqn": T, "tag": "1", "name": "web"}, lambda c: not c.target(T).tpgs[0].groups),
    ("tpg-delete", {"iqn": T, "tag": "2"}, lambda c: [g.tag for g in c.target(T).tpgs] == [1]),
    ("target-delete", {"iqn": T}, lambda c: not c.targets),
    ("volume-delete", {"name": "v2"}, lambda c: [v.name for v in c.volumes] == ["v1"]),
]


@pytest.mark.parametrize("action,params,gone", DELETIONS, ids=[d[0] for d in DELETIONS])
def test_each_delete_through_its_confirm_page(ui, action, params, gone):
    build(ui)
    env = ui.env()
    iscsi.create_group(env, T, "web", [I2], userid="web", password=SECRETS[1])
    iscsi.create_tpg(env, T)
    preview = ui.get(f"/confirm/{action}", query_string=params)
    assert preview.status_code == 200, errors(preview.get_data(as_text=True))
    generation = ui.store.config.generation
    response = ui.post(f"/confirm/{action}", {**params, "generation": str(generation)})
    assert response.status_code == 303
    assert gone(ui.store.config)
    page = ui.get(response.location).get_data(as_text=True)
    assert "Deleted" in page


def test_deleting_everything_in_order(ui):
    build(ui)
    steps = [("lun-delete", {"iqn": T, "tag": "1", "lun": "0"}), ("acl-delete", {"iqn": T, "tag": "1",
                                                                                 "initiator": I1}),
             ("target-delete", {"iqn": T}), ("volume-delete", {"name": "v1"}), ("volume-delete", {"name": "v2"}),
             ("pool-delete", {"name": "p1"})]
    for action, params in steps:
        response = ui.post(f"/confirm/{action}", {**params, "generation": str(ui.store.config.generation)})
        assert response.status_code == 303, errors(response.get_data(as_text=True))
    config = ui.store.config
    assert not config.pools and not config.volumes and not config.targets
    assert not ui.system.lio.targets and not ui.system.lio.storage and not ui.system.lvm.vgs


def test_deleting_an_exported_volume_is_refused_next_to_it(ui):
    build(ui)
    before = snapshot(ui)
    response = ui.get("/confirm/volume-delete?name=v1")
    page = response.get_data(as_text=True)
    assert response.status_code == 409
    assert errors(page) == {"confirm-name": f"the volume is still exported ({T} tpg1 lun0); delete those LUNs first"}
    assert 'id="confirm"' not in page  # no button to go ahead
    response = ui.post("/confirm/volume-delete", {"name": "v1", "generation": str(ui.store.config.generation)})
    assert response.status_code == 409 and "confirm-name" in errors(response.get_data(as_text=True))
    assert snapshot(ui) == before


def test_deleting_a_pool_with_volumes_is_refused(ui):
    build(ui)
    before = snapshot(ui)
    response = ui.get("/confirm/pool-delete?name=p1")
    assert response.status_code == 409
    assert errors(response.get_data(as_text=True)) == {"confirm-name": "the pool still holds volumes: v1"}
    assert snapshot(ui) == before


def test_deleting_what_does_not_exist(ui):
    build(ui)
    response = ui.get("/confirm/volume-delete?name=ghost")
    assert response.status_code == 404 and errors(response.get_data(as_text=True)) == {
        "confirm-name": "no such volume"}
    response = ui.get(f"/confirm/acl-delete?iqn={T}&tag=1&initiator={I2}")
    assert response.status_code == 404 and errors(response.get_data(as_text=True)) == {
        "confirm-initiator": "no such ACL"}


def test_a_plan_made_stale_by_another_change_is_not_carried_out(ui):
    build(ui)
    generation = ui.store.config.generation
    storage.create_volume(ui.env(), "v3", "8M", kind="ramdisk")  # someone else, meanwhile (sanctl, the API)
    before = snapshot(ui)
    response = ui.post("/confirm/volume-delete", {"name": "v2", "generation": str(generation)})
    page = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "the configuration changed since this plan was shown" in page
    assert f'name="generation" value="{generation + 1}"' in page  # the new plan, to confirm again
    assert snapshot(ui) == before


@pytest.mark.parametrize("query", ["", "?name=", "?iqn=x&tag=one&lun=0"])
def test_confirm_pages_need_their_parameters(ui, query):
    action = "lun-delete" if "lun" in query else "volume-delete"
    assert ui.get(f"/confirm/{action}{query}").status_code == 400
    assert ui.post(f"/confirm/{action}", {"generation": "0"}).status_code == 400


def test_confirm_needs_the_generation(ui):
    build(ui)
    before = snapshot(ui)
    assert ui.post("/confirm/volume-delete", {"name": "v2"}).status_code == 400
    assert snapshot(ui) == before


# --- secrets ------------------------------------------------------------------------------------------------------

def test_chap_secrets_never_appear_in_any_page(ui):
    build(ui)
    env = ui.env()
    iscsi.create_group(env, T, "web", [I2], userid="web", password=SECRETS[1])
    iscsi.set_acl_auth(env, T, I1, "host1", SECRETS[0], "target", SECRETS[2])
    iscsi.set_tpg_auth(env, T, "demo", SECRETS[1])
    for url in ("/", "/storage", f"/storage/targets/{T}", "/sessions", "/cluster", "/api/summary",
                f"/confirm/acl-delete?iqn={T}&tag=1&initiator={I1}", f"/confirm/group-delete?iqn={T}&tag=1&name=web",
                f"/confirm/target-delete?iqn={T}"):
        assert ui.get(url).status_code == 200, url
    ui.post(f"/storage/targets/{T}/tpg1/acls/auth", {"initiator": I1, "userid": "x y", "password": SECRETS[0]})
    ui.post(f"/storage/targets/{T}/tpg1/groups", {"name": "g 2", "initiators": "", "userid": "g",
                                                  "password": SECRETS[1]})
    assert len(ui.pages) > 12
    for page in ui.pages:
        for secret in SECRETS:
            assert secret not in page
    target_page = ui.get(f"/storage/targets/{T}").get_data(as_text=True)
    assert target_page.count("(set)") >= 4


# --- the live system refusing, and big changes --------------------------------------------------------------------

def test_a_failure_of_the_live_system_is_shown_and_rolled_back(ui):
    from sanappliance.lio import plan as P

    build(ui)
    config = ui.store.config
    ui.system.fail_on = P.CreateTpg
    response = ui.post("/storage/targets", {"iqn": "iqn.2026-11.org.example:other"})
    assert response.status_code == 400
    assert errors(response.get_data(as_text=True)) == {"": "lio: LIO refused"}
    assert ui.store.config.targets == config.targets and ui.store.config.volumes == config.volumes
    assert [t.wwn for t in ui.system.lio.targets.values()] == [T]


def test_the_message_after_a_big_change_keeps_the_cookie_small(ui):
    from flask import session

    from sanappliance.service.commit import Outcome
    from sanappliance.ui.app import done

    steps = tuple(f"delete mapped LUN {n} of ACL iqn.1994-05.com.example:host-{n:04d} in {T} tpg1 " + "x" * 300
                  for n in range(500))
    with ui.app.test_request_context("/"):
        done("Deleted everything.", Outcome(ui.store.config, steps))
        cookie = ui.app.session_interface.get_signing_serializer(ui.app).dumps(dict(session))
        ((category, message),) = session["_flashes"]
    assert len(cookie) < 3000
    assert category == "done" and len(message["plan"]) == 13 and message["plan"][-1] == "... and 488 more steps"
    assert all(len(step) <= 200 for step in message["plan"])
