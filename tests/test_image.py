"""The image: its inputs read as data (every dependency pinned with hashes, OCI labels, licence files),
then the Dockerfile built with the Docker engine the tests start and the image run.

No image can be pulled here, so the build gets `--build-arg BASE=` a stand-in for
python:3.11-slim-bookworm made by tests/support/python_base.py (its docstring says exactly how it
differs); everything after FROM is the Dockerfile a user builds, with pip reaching PyPI.
"""

from __future__ import annotations

import configparser
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import FIXTURES, REPO, require_tool
from support.clients import require_binaries
from support.engine import DOCKER, Engine, engine_fixture
from support.python_base import ensure_base

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


def test_the_version_label_defaults_to_the_package_version() -> None:
    version = re.search(r'^__version__ = "(.+)"$', (REPO / "generator/__init__.py").read_text(), re.M).group(1)
    assert f"ARG VERSION={version}\n" in DOCKERFILE


# ---- built and run ------------------------------------------------------------------------------

BASE = "conngen-test/python:3.11-slim-bookworm"  # the stand-in's name; the Dockerfile's default is public
TAG = "conngen-test/conngen:built"
REVISION = "0123456789abcdef0123456789abcdef01234567"
#: the files .dockerignore lets through, and the Dockerfile
CONTEXT = ("Dockerfile", ".dockerignore", "setup.cfg", "pyproject.toml", "README.md", "LICENSE", "NOTICE",
           "requirements.lock", "generator", "templates")


def _build(engine: Engine, context: Path, *args: str) -> subprocess.CompletedProcess:
    """The legacy builder (Debian's docker.io has no BuildKit), with the host's network for apt and PyPI."""
    return engine.docker("build", "--network", "host", "--build-arg", f"BASE={BASE}", *args, str(context),
                         check=False, timeout=1500)


def _run(engine: Engine, *args: str, entrypoint: str | None = None) -> subprocess.CompletedProcess:
    """`docker run` of the built image as kustomize runs a function: no network, read-only root."""
    extra = ("--entrypoint", entrypoint) if entrypoint else ()
    return engine.docker("run", "--rm", "--network", "none", "--read-only", *extra, TAG, *args, check=False)


#: an engine of this module's own, on overlay2: the legacy builder makes a container per instruction,
#: and vfs copies the whole file system for each (the build took 387 s on vfs, 31 s on overlay2)
engine = engine_fixture(scope="module", name="engine", storage_driver="overlay2")


@pytest.fixture(scope="module")
def image(engine: Engine) -> str:
    require_binaries("debootstrap", "chroot")
    ensure_base(engine, BASE)
    built = _build(engine, REPO, "--build-arg", f"REVISION={REVISION}", "-t", TAG)
    assert built.returncode == 0, built.stdout[-6000:] + built.stderr[-3000:]
    return TAG


@pytest.mark.e2e
def test_the_built_image_renders_the_seed_example_byte_for_byte(engine: Engine, image: str) -> None:
    version = _run(engine, "--version", entrypoint="conngen")
    assert version.returncode == 0 and version.stdout.startswith("conngen 0.1.0\n"), version
    seed = FIXTURES / "seed"
    rendered = engine.docker("run", "--rm", "--network", "none", "--read-only", "-v", f"{seed}:/work:ro",
                             "--entrypoint", "conngen", image, "render", "generator.yaml", check=False)
    assert rendered.returncode == 0, rendered.stderr
    assert rendered.stdout == (seed / "expected.yaml").read_text(encoding="utf-8")


@pytest.mark.e2e
def test_the_built_image_has_one_python_and_runs_unprivileged(engine: Engine, image: str) -> None:
    found = _run(engine, "-c", "find / -xdev \\( -name 'python*' -o -name 'libpython*' -o -name 'pip*' \\) "
                 "-not -path '/opt/conngen/lib/python3.11/*' -not -path '/usr/share/*' -not -path '/etc/*'"
                 " | sort", entrypoint="/bin/sh")
    assert found.returncode == 0, found.stderr
    assert found.stdout.split() == ["/opt/conngen/bin/python", "/opt/conngen/bin/python3.11",
                                    "/opt/conngen/lib/libpython3.11.so", "/opt/conngen/lib/libpython3.11.so.1.0",
                                    "/opt/conngen/lib/python3.11"]
    ident = _run(engine, "-c", "id -u; id -g", entrypoint="/bin/sh")
    assert ident.stdout.split() == ["65532", "65532"], ident
    config = json.loads(engine.docker("image", "inspect", "--format", "{{json .Config}}", image).stdout)
    assert config["User"] == "65532:65532"
    assert config["Entrypoint"] == ["/opt/conngen/bin/python3.11", "-I", "-m", "generator.kustomize.plugin"]


@pytest.mark.e2e
def test_the_built_image_holds_exactly_the_locked_distributions(engine: Engine, image: str) -> None:
    listed = _run(engine, "-I", "-c", "import importlib.metadata as m; "
                  "print('\\n'.join(sorted(f\"{d.metadata['Name']}=={d.version}\" for d in m.distributions())))",
                  entrypoint="/opt/conngen/bin/python3.11")
    assert listed.returncode == 0, listed.stderr
    installed = {_name(n): v for n, v in (line.split("==") for line in listed.stdout.split())}
    pins = {_name(n): v for n, v in re.findall(r"^([A-Za-z0-9_.-]+)==(\S+) \\$", LOCK, re.M)}
    build_only = {"setuptools", "wheel", "packaging"}  # uninstalled after conngen is built
    assert installed == {**{n: v for n, v in pins.items() if n not in build_only}, "conngen": "0.1.0"}


@pytest.mark.e2e
def test_the_built_image_carries_its_oci_labels(engine: Engine, image: str) -> None:
    labels = engine.image_labels(image)
    assert labels is not None
    assert {k: v for k, v in labels.items() if k.startswith("org.opencontainers.")} == {
        "org.opencontainers.image.title": "conngen",
        "org.opencontainers.image.description": re.search(r'image\.description="([^"]+)"', DOCKERFILE).group(1),
        "org.opencontainers.image.version": "0.1.0",
        "org.opencontainers.image.revision": REVISION,
        "org.opencontainers.image.licenses": "Apache-2.0",
        "org.opencontainers.image.base.name": BASE,  # the base it was built from, here the stand-in
    }


@pytest.mark.e2e
def test_a_lock_hash_that_does_not_match_fails_the_build(engine: Engine, image: str, tmp_path: Path) -> None:
    for name in CONTEXT:
        (shutil.copytree if (REPO / name).is_dir() else shutil.copyfile)(REPO / name, tmp_path / name)
    lock = tmp_path / "requirements.lock"
    click, rest = LOCK.split("\njinja2==", 1)  # every file of click, the first pin, no longer matches
    lock.write_text(re.sub("[0-9a-f]{64}", "0" * 64, click) + "\njinja2==" + rest, encoding="utf-8")
    built = _build(engine, tmp_path, "--target", "build")
    assert built.returncode != 0
    assert "DO NOT MATCH THE HASHES" in built.stdout + built.stderr, built.stdout[-3000:]


FUNCTION = """\
  annotations:
    config.kubernetes.io/function: |
      container:
        image: {image}
        mounts:
          - {{type: bind, src: ./connections.yaml, dst: /work/connections.yaml}}
          - {{type: bind, src: ./creds, dst: /work/creds}}
"""


@pytest.mark.e2e
def test_kustomize_runs_the_built_image_as_a_container_function(engine: Engine, image: str, tmp_path: Path) -> None:
    """docs/integrations/kustomize.md section 3, as written: kubectl's kustomize runs `docker run` of the
    image (`--user nobody`, no network, the two mounts) and gives the seed's golden objects."""
    kubectl = require_tool("kubectl")
    app = shutil.copytree(FIXTURES / "seed", tmp_path / "app")
    config = (app / "generator.yaml").read_text(encoding="utf-8")
    (app / "generator.yaml").write_text(config.replace("  name: seed\n", "  name: seed\n" + FUNCTION.format(image=image)),
                                        encoding="utf-8")
    env = {**engine.env, "PATH": f"{Path(DOCKER).parent}:{engine.env['PATH']}"}  # Debian's docker CLI first
    built = subprocess.run([kubectl, "kustomize", "--enable-alpha-plugins", str(app)], env=env, capture_output=True,
                           text=True, timeout=300)
    assert built.returncode == 0, built.stderr
    assert built.stdout == (FIXTURES / "seed" / "expected-kustomize.yaml").read_text(encoding="utf-8")
