"""Finds the Debian mirror in the host's apt configuration (pure parsing; reading the files is the caller's job)."""

from __future__ import annotations

from dataclasses import dataclass

from sanappliance.errors import SanError


@dataclass(frozen=True)
class AptSource:
    uri: str
    suites: tuple[str, ...]
    components: tuple[str, ...]


def parse_deb822(text: str) -> list[AptSource]:
    """Parse a .sources file (deb822 stanzas); only `Types: deb` stanzas that are not disabled are returned."""
    sources: list[AptSource] = []
    for stanza in text.split("\n\n"):
        fields: dict[str, str] = {}
        key = None
        for line in stanza.splitlines():
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            if line[0] in " \t" and key:
                fields[key] += " " + line.strip()
                continue
            key, _, value = line.partition(":")
            key = key.strip().lower()
            fields[key] = value.strip()
        if "deb" not in fields.get("types", "").split() or fields.get("enabled", "yes").lower() == "no":
            continue
        for uri in fields.get("uris", "").split():
            sources.append(AptSource(uri, tuple(fields.get("suites", "").split()),
                                     tuple(fields.get("components", "").split())))
    return sources


def parse_one_line(text: str) -> list[AptSource]:
    """Parse sources.list one-line entries: `deb [options] URI SUITE COMPONENT...`."""
    sources: list[AptSource] = []
    for line in text.splitlines():
        words = line.split("#", 1)[0].split()
        if not words or words[0] != "deb":
            continue
        words = words[1:]
        if words and words[0].startswith("["):
            while words and not words[0].endswith("]"):
                words.pop(0)
            words = words[1:]
        if len(words) >= 2:
            sources.append(AptSource(words[0], (words[1],), tuple(words[2:])))
    return sources


def pick_debian_mirror(sources: list[AptSource]) -> str:
    """The first plain Debian archive (not security, not a third-party repository) among the sources."""
    for src in sources:
        path = src.uri.rstrip("/")
        if not path.endswith("/debian"):
            continue
        if any(s.endswith("-security") for s in src.suites):
            continue
        return path
    raise SanError(
        "no Debian mirror found in the host's apt sources; set SANAPPLIANCE_MIRROR to the archive URI",
        field="mirror",
        value=[s.uri for s in sources],
    )
