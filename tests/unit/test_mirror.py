import pytest

from sanappliance.errors import SanError
from sanappliance.images.mirror import parse_deb822, parse_one_line, pick_debian_mirror

DEB822 = """Types: deb
# http://snapshot.example/archive/debian/20250520T000000Z
URIs: http://mirror.example/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://mirror.example/debian-security
Suites: bookworm-security
Components: main

Types: deb-src
URIs: http://src.example/debian
Suites: bookworm
"""


def test_deb822_stanzas():
    sources = parse_deb822(DEB822)
    assert [s.uri for s in sources] == ["http://mirror.example/debian", "http://mirror.example/debian-security"]
    assert sources[0].suites == ("bookworm", "bookworm-updates")


def test_disabled_stanza_is_skipped():
    assert parse_deb822("Types: deb\nURIs: http://x/debian\nSuites: a\nEnabled: no\n") == []


def test_one_line_with_options():
    text = "# comment\ndeb [arch=amd64 signed-by=/k.gpg] http://m.example/debian/ bookworm main contrib\n" \
           "deb-src http://m.example/debian bookworm main\n"
    (src,) = parse_one_line(text)
    assert src.uri == "http://m.example/debian/"
    assert src.components == ("main", "contrib")


def test_pick_skips_security_and_third_party():
    sources = parse_one_line("deb https://packages.example.com/apt cloud main\n"
                             "deb http://m.example/debian-security bookworm-security main\n"
                             "deb http://m.example/debian/ bookworm main\n")
    assert pick_debian_mirror(sources) == "http://m.example/debian"


def test_no_mirror_names_the_field():
    with pytest.raises(SanError) as err:
        pick_debian_mirror(parse_one_line("deb https://packages.example.com/apt cloud main\n"))
    assert err.value.field == "mirror"
    assert "SANAPPLIANCE_MIRROR" in str(err.value)
