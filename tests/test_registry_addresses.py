"""Registry URLs and image names: the auths key and the destination, for any input."""

from __future__ import annotations

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from generator.model.registry import DOCKER_HUB_AUTH_KEY as DOCKER_HUB_KEY, AddressError, destinations, parse_registry_url

LABEL = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?", fullmatch=True)
HOST = st.builds(lambda parts, port: ".".join(parts) + (f":{port}" if port else ""),
                 st.lists(LABEL, min_size=1, max_size=3), st.one_of(st.none(), st.integers(1, 65535))
                 ).filter(lambda h: "." in h or ":" in h)  # what docker reads as a registry (bare names: below)
COMPONENT = st.from_regex(r"[a-z0-9]+([._-][a-z0-9]+)?", fullmatch=True)
PATH = st.lists(COMPONENT, max_size=3).map("/".join)
SCHEME = st.sampled_from(["", "https://", "http://", "HTTPS://"])


@settings(max_examples=300)
@given(SCHEME, HOST, PATH, st.sampled_from(["", "/"]), COMPONENT, st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,10}", fullmatch=True))
def test_destination_is_host_path_image_and_never_has_a_scheme(scheme: str, host: str, path: str, slash: str,
                                                                name: str, tag: str) -> None:
    url = f"{scheme}{host}" + (f"/{path}" if path else "") + slash
    address = parse_registry_url(url)
    dests = destinations(address, f"org/{name}:{tag}", ())
    assert "://" not in dests[0]
    if not address.docker_hub:
        assert address.auth_key == host.lower()
        assert dests[0] == f"{host}" + (f"/{path}" if path else "") + f"/org/{name}:{tag}"


@pytest.mark.parametrize("url", ["docker.io", "https://index.docker.io/v1/", "registry-1.docker.io/acme",
                                 "https://registry.hub.docker.com", "index.docker.io/v2/acme"])
def test_docker_hub_is_keyed_v1_and_pushed_to_docker_io(url: str) -> None:
    address = parse_registry_url(url)
    assert address.auth_key == "https://index.docker.io/v1/"
    assert destinations(address, "acme/app:1", ())[0].startswith("docker.io/")


def test_host_port_registry_is_not_mistaken_for_docker_hub() -> None:
    address = parse_registry_url("https://docker.io.mirror.acme:5000/hub")
    assert address.auth_key == "docker.io.mirror.acme:5000"


def test_docker_hub_without_namespace_is_refused() -> None:
    with pytest.raises(AddressError, match="namespace"):
        destinations(parse_registry_url("docker.io"), "app:1", ())


@pytest.mark.parametrize("url", ["ftp://x.com", "https://u:p@x.com", "x.com/Org", "x.com:0", "x.com:99999", "x.com?a=1",
                                 " x.com", "", "https://", "x..com"])
def test_bad_urls_are_refused(url: str) -> None:
    with pytest.raises(AddressError):
        parse_registry_url(url)


@pytest.mark.parametrize("image", ["https://x.com/app:1", "x.com/app:1", "localhost/app", "App:1", "app@sha256:" + "a" * 64,
                                   "app:bad tag", "app:" + "t" * 129, "a//b"])
def test_bad_images_are_refused(image: str) -> None:
    with pytest.raises(AddressError):
        destinations(parse_registry_url("myregistry.com"), image, ())


def test_extra_tags_follow_the_image_tag_once_each() -> None:
    dests = destinations(parse_registry_url("r.io/o"), "app:1.0", ("latest", "1.0", "latest"))
    assert dests == ["r.io/o/app:1.0", "r.io/o/app:latest"]


@pytest.mark.parametrize("url, prefix", [("org/repo", "docker.io/org/repo"), ("destination", "docker.io/destination"),
                                         ("my_org/team", "docker.io/my_org/team")])
def test_a_url_without_a_registry_host_is_a_docker_hub_path(url: str, prefix: str) -> None:
    address = parse_registry_url(url)
    assert (address.auth_key, address.repository_prefix, address.hub_by_default) == (DOCKER_HUB_KEY, prefix, True)


@pytest.mark.parametrize("url", ["https://org/repo", "http://registry:/x", "Org/repo", "MyRegistry"])
def test_a_bare_name_that_docker_would_not_read_as_written_is_refused(url: str) -> None:
    with pytest.raises(AddressError):
        parse_registry_url(url)


# -- the property: whatever url the catalog accepts, docker pushes where the Secret's auths key answers --

_LABEL = st.from_regex(r"[a-zA-Z0-9]([a-zA-Z0-9-]{0,6}[a-zA-Z0-9])?", fullmatch=True)
_FIRST = st.one_of(
    st.lists(_LABEL, min_size=1, max_size=3).map(".".join),  # bare names (Docker Hub paths) and dotted hosts
    st.sampled_from(["localhost", "LOCALHOST", "docker.io", "index.docker.io", "registry-1.docker.io",
                     "registry.hub.docker.com", "127.0.0.1", "[::1]", "[fd00::5]", "quay.io", "ghcr.io"]),
    st.from_regex(r"[a-z0-9_.-]{1,12}", fullmatch=True),  # anything a first component might be
)
_URL = st.builds(lambda scheme, first, port, path, slash: scheme + first + (f":{port}" if port is not None else "")
                 + "".join(f"/{p}" for p in path) + slash,
                 st.sampled_from(["", "https://", "http://", "HTTPS://"]), _FIRST,
                 st.one_of(st.none(), st.integers(0, 70000)),
                 st.lists(st.one_of(COMPONENT, st.sampled_from(["v1", "v2", "Org", "a__b", "x..y"])), max_size=3),
                 st.sampled_from(["", "/"]))


def _catalog_accepts(url: str):
    from generator.read.catalog import check_connections
    from generator.read.spec import Ctx

    ctx = Ctx("catalog.yaml")
    found = check_connections([{"name": "r", "kind": "registry", "schema": {"url": url}, "secret": {"name": "conf"}}],
                              ctx, ("connections",))
    return found if not [i for i in ctx.issues if i.severity == "error"] else None


@settings(max_examples=400, deadline=None)
@given(_URL, st.sampled_from(["team/app:1.0", "team/sub/app", "app:v2"]))
def test_the_destination_registry_and_the_auths_key_are_one_host(url: str, image: str) -> None:
    import base64
    import json
    from pathlib import Path

    from generator.errors import UserError
    from generator.pipeline import generate, load
    from support.dockerref import auth_entry_key, lookup_key, registry_of

    assume(_catalog_accepts(url) is not None)
    data = {"apiVersion": "conngen.dev/v1", "kind": "ConnectionGenerator", "metadata": {"name": "p"},
            "connections": [{"name": "r", "kind": "registry", "schema": {"url": url}, "secret": {"name": "conf"}}],
            "credentials": {"conf": {"username": {"env": "U"}, "password": {"env": "P"}}},
            "builds": [{"name": "b", "connection": "r", "image": image, "context": "dir:///w", "tags": ["latest"]}]}
    config, _ = load(data, "generator.yaml", Path("/nonexistent"))
    try:
        result = generate(config, {"U": "robot", "P": "not-a-real-password"})
    except UserError as exc:  # a build the registry would refuse (Docker Hub without a namespace, ...)
        assert all("namespace" in i.message for i in exc.issues if i.severity == "error"), exc.issues
        return
    secret = next(o for o in result.objects if o["kind"] == "Secret")
    auths = json.loads(base64.b64decode(secret["data"][".dockerconfigjson"]))["auths"]
    job = next(o for o in result.objects if o["kind"] == "Job")
    dests = [a.split("=", 1)[1] for a in job["spec"]["template"]["spec"]["containers"][0]["args"]
             if a.startswith("--destination=")]
    assert len(dests) == 2
    for dest in dests:
        assert list(auths) == [lookup_key(registry_of(dest))], (url, dest, list(auths))
        assert auth_entry_key(auths, dest) is not None


def _parsed(url: str) -> object:
    try:
        return parse_registry_url(url)
    except AddressError as exc:
        return str(exc)


_NEAR_PLAIN = st.builds(
    lambda scheme, labels, port, parts, tail: scheme + ".".join(labels) + port + "".join("/" + p for p in parts) + tail,
    st.sampled_from(["", "http://", "https://", "HTTPS://", "oci://", " "]),
    st.one_of(st.lists(st.one_of(LABEL, st.sampled_from(["Reg", "-x", "a_b", ""])), min_size=1, max_size=3),
              st.sampled_from([["docker", "io"], ["index", "docker", "io"], ["registry-1", "docker", "io"]])),
    st.sampled_from(["", ":5000", ":"]),
    st.lists(st.one_of(COMPONENT, st.sampled_from(["v1", "v2", "Org", "..", "a__b", "a--b", "", "_x", "x."])), max_size=3),
    st.sampled_from(["", "/", " ", "//"]),
)


@settings(max_examples=500)
@given(_NEAR_PLAIN)
def test_the_usual_url_parses_in_one_match_as_the_general_rules_parse_it(url: str) -> None:
    """`parse_registry_url` takes the usual form (https, lowercase dotted host, clean path) in one regular
    expression; with that shortcut disabled, every url near that form gets the same address or message."""
    from unittest import mock

    from generator.model import registry

    fast = _parsed(url)
    with mock.patch.object(registry, "_PLAIN", registry.re.compile(r"(?!)")):
        assert _parsed(url) == fast


def _split(image: str) -> object:
    from generator.model.registry import split_image

    try:
        return split_image(image)
    except AddressError as exc:
        return str(exc), exc.hint


_NEAR_IMAGE = st.builds(
    lambda parts, tag: "/".join(parts) + tag,
    st.lists(st.one_of(COMPONENT, st.sampled_from(["localhost", "reg.io", "reg:5000", "Org", "a__b", "a--b", "", "_x",
                                                   "x.", "h://x", "a@sha256"])), min_size=1, max_size=3),
    st.one_of(st.sampled_from(["", ":", ":1.0", ":v1.2-rc_3", ":-x", ":.x", ":" + "t" * 128, ":" + "t" * 129, ":a:b",
                               "@sha256:" + "a" * 64]), st.from_regex(r":[\w.-]{1,12}", fullmatch=True)),
)


@settings(max_examples=500)
@given(_NEAR_IMAGE)
def test_the_usual_image_splits_in_one_match_as_the_general_rules_split_it(image: str) -> None:
    """`split_image` takes a valid image in one regular expression; with that shortcut disabled, every
    image near that form gets the same repository and tag, or the same message and hint."""
    from unittest import mock

    from generator.model import registry

    fast = _split(image)
    with mock.patch.object(registry, "_IMAGE", registry.re.compile(r"(?!)")):
        assert _split(image) == fast
