"""Registry URLs and image names: the auths key and the destination, for any input."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from generator.registry import AddressError, destinations, parse_registry_url

LABEL = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?", fullmatch=True)
HOST = st.builds(lambda parts, port: ".".join(parts) + (f":{port}" if port else ""),
                 st.lists(LABEL, min_size=1, max_size=3), st.one_of(st.none(), st.integers(1, 65535)))
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
