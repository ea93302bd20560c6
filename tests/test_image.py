"""The image's inputs, checked without building it (building needs a Docker engine; see the report
of issue #20): every dependency pinned with hashes, one Python, OCI labels, licence files shipped.
"""

from __future__ import annotations

import configparser
import re

from conftest import REPO

DOCKERFILE = (REPO / "Dockerfile").read_text(encoding="utf-8")
LOCK = (REPO / "requirements.lock").read_text(encoding="utf-8")


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~\[; ]", requirement.strip(), maxsplit=1)[0].lower().replace(".", "-").replace("_", "-")


def test_the_lock_pins_every_dependency_with_hashes() -> None:
    setup = configparser.ConfigParser()
    setup.read(REPO / "setup.cfg")
    declared = {_name(r) for r in setup["options"]["install_requires"].split("\n") if r.strip()}
    build = set(map(_name, re.findall(r'"([^"]+)"', (REPO / "pyproject.toml").read_text().split("requires", 1)[1]
                                       .split("]", 1)[0])))
    pins = dict(re.findall(r"^([A-Za-z0-9_.-]+)==(\S+) \\$", LOCK, re.M))
    assert declared | build <= {_name(n) for n in pins}, (declared | build) - {_name(n) for n in pins}
    for block in re.split(r"\n(?=[A-Za-z])", LOCK.strip()):
        if not block.startswith("#"):
            assert "--hash=sha256:" in block, block


def test_the_dockerfile_installs_only_from_the_lock_and_keeps_one_python() -> None:
    assert "--require-hashes --only-binary=:all: -r /src/requirements.lock" in DOCKERFILE
    assert "--no-deps --no-index --no-build-isolation /src" in DOCKERFILE
    final = DOCKERFILE.rsplit("\nFROM ", 1)[1]
    assert "rm -rf /usr/local/bin/python* " in final and "/usr/local/lib/python3.11 " in final  # one Python left
    assert re.search(r"^ARG BASE=\S+@sha256:[0-9a-f]{64}$", DOCKERFILE, re.M)
    ignored = (REPO / ".dockerignore").read_text(encoding="utf-8").split()
    for needed in ("!requirements.lock", "!LICENSE", "!NOTICE"):
        assert needed in ignored


def test_the_image_carries_oci_labels() -> None:
    labels = dict(re.findall(r"(org\.opencontainers\.image\.[a-z.]+)=\"([^\"]*)\"", DOCKERFILE))
    for key in ("title", "description", "version", "revision", "licenses", "base.name"):
        assert f"org.opencontainers.image.{key}" in labels
    assert labels["org.opencontainers.image.licenses"] == "Apache-2.0"


def test_the_licence_setup_cfg_declares_ships_with_its_notice() -> None:
    setup = configparser.ConfigParser()
    setup.read(REPO / "setup.cfg")
    assert setup["metadata"]["license"] == "Apache-2.0"
    assert setup["metadata"]["license_files"].split() == ["LICENSE", "NOTICE"]
    assert "Apache License\n                           Version 2.0" in (REPO / "LICENSE").read_text(encoding="utf-8")
    assert "cp /src/LICENSE /src/NOTICE /opt/conngen/" in DOCKERFILE
