"""A stand-in for the Dockerfile's base, python:3.11-slim-bookworm, made here (no image can be pulled).

The Dockerfile copies the base's Python (/usr/local/bin/python3.11, libpython, the stdlib) into
/opt/conngen and deletes it from the final stage, so the stand-in must be laid out as the published
image is: Debian bookworm from `debootstrap --variant=minbase` (debian:bookworm-slim is made that
way), the runtime packages that image keeps, and CPython built by the steps of docker-library's
3.11/slim-bookworm/Dockerfile (`--enable-shared`, `--with-system-expat`, the `python` binary
relinked with RUNPATH `$ORIGIN/../lib`, `make install` into /usr/local, test dirs and .pyc removed,
`python`/`pydoc`/`idle`/`python-config` links). What differs, and only this:

* CPython 3.11.2, upstream's tarball as Debian's source package ships it (checked against the
  sha256 in Debian's Sources index), instead of the newest 3.11 from python.org;
* no `--enable-optimizations`/`--with-lto` (PGO takes most of the build time), no tk;
* pip and setuptools from `ensurepip` (those CPython 3.11.2 bundles) instead of get-pip.py;
* the runtime libraries are listed here, not found with ldd and apt-mark; docs and locales stay;
* at import, the host's CA bundle and `PIP_CERT` naming it (see `ensure_base`).

It is built in two debootstrap trees (one with the compilers, one without), cached as one tarball
keyed by every input, and imported in one layer, like the builder images.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import ssl
import tempfile
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from .builder_images import IMAGE_CACHE, KEY_LABEL, MIRROR, SUITE, _candidates, _locked, _run
from .engine import Engine

SOURCE = "python3.11_3.11.2.orig.tar.gz"  # Python-3.11.2/ inside
SOURCE_SHA256 = "2411c74bda5bbcfcddaf4531f66d1adc73f247f529aee981b029513aefdbf849"
SOURCE_URL = f"{MIRROR}/pool/main/p/python3.11/{SOURCE}"
#: what the published image installs (ca-certificates, netbase, tzdata) and the libraries its
#: extension modules link, which its apt-mark step keeps
RUNTIME = ("ca-certificates", "netbase", "tzdata", "libssl3", "libffi8", "libsqlite3-0", "libbz2-1.0",
           "liblzma5", "libreadline8", "libncursesw6", "libuuid1", "libgdbm6", "libgdbm-compat4", "libdb5.3",
           "libexpat1")
#: docker-library's build dependencies less gnupg and wget (the source comes checked) and tk-dev
BUILD = ("dpkg-dev", "gcc", "libbluetooth-dev", "libbz2-dev", "libc6-dev", "libdb-dev", "libexpat1-dev",
         "libffi-dev", "libgdbm-dev", "liblzma-dev", "libncursesw5-dev", "libreadline-dev", "libsqlite3-dev",
         "libssl-dev", "make", "uuid-dev", "xz-utils", "zlib1g-dev")
BUILD_SCRIPT = r"""set -eux
cd /usr/src/python
./configure --build="$(dpkg-architecture --query DEB_BUILD_GNU_TYPE)" --enable-loadable-sqlite-extensions \
  --enable-option-checking=fatal --enable-shared --with-system-expat --with-ensurepip=install
EXTRA_CFLAGS="$(dpkg-buildflags --get CFLAGS)"
LDFLAGS="$(dpkg-buildflags --get LDFLAGS)"
make -j "$(nproc)" "EXTRA_CFLAGS=$EXTRA_CFLAGS" "LDFLAGS=$LDFLAGS,--strip-all"
rm python
make -j "$(nproc)" "EXTRA_CFLAGS=$EXTRA_CFLAGS" "LDFLAGS=$LDFLAGS,-rpath='\$\$ORIGIN/../lib'" python
make install
find /usr/local -depth \( \( -type d -a \( -name test -o -name tests -o -name idle_test \) \) \
  -o \( -type f -a \( -name '*.pyc' -o -name '*.pyo' -o -name 'libpython*.a' \) \) \) -exec rm -rf '{}' +
for src in idle3 pydoc3 python3 python3-config; do ln -svT "$src" "/usr/local/bin/$(echo "$src" | tr -d 3)"; done
"""
#: run in the finished tree: every extension module the Dockerfile's final check imports must load
CHECK = ("python3", "-c", "import hashlib, ssl, zlib, ctypes, bz2, lzma, sqlite3, readline, uuid, dbm.gnu, "
         "pyexpat, pip")
CHANGES = ("ENV PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin", "ENV LANG=C.UTF-8",
           'CMD ["python3"]')
LAYOUT = 1  # bump when how the tree is made changes


def _source() -> Path:
    """The CPython source tarball, downloaded once and checked against its pinned sha256."""
    path = IMAGE_CACHE / "src" / SOURCE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        with urllib.request.urlopen(SOURCE_URL, timeout=120) as response, open(f"{path}.part", "wb") as fh:
            shutil.copyfileobj(response, fh)
        os.replace(f"{path}.part", path)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != SOURCE_SHA256:
        path.unlink()
        raise RuntimeError(f"{SOURCE_URL}: sha256 {digest}, expected {SOURCE_SHA256}")
    return path


def key() -> str:
    debootstrap = _run(["debootstrap", "--version"], "debootstrap --version").strip()
    text = json.dumps([LAYOUT, SUITE, debootstrap, _candidates(RUNTIME + BUILD), SOURCE_SHA256, BUILD_SCRIPT,
                       CHECK, CHANGES])
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def _debootstrap(packages: tuple[str, ...], target: Path) -> None:
    debs = IMAGE_CACHE / "debs"
    debs.mkdir(parents=True, exist_ok=True)
    _run(["debootstrap", "--variant=minbase", f"--cache-dir={debs}", f"--include={','.join(packages)}", SUITE,
          str(target), MIRROR], "debootstrap")


def _chroot(root: Path, *argv: str) -> None:
    _run(["chroot", str(root), *argv], f"chroot {argv[0]}",
         env={"PATH": "/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME": "/root", "LANG": "C.UTF-8"})


def rootfs(tree_key: str) -> Path:
    """The stand-in's root file system tarball, made when missing (several minutes: two debootstraps
    and a CPython build)."""
    tarball = IMAGE_CACHE / f"python-3.11-slim-{SUITE}-{tree_key}.tar"
    if tarball.exists():
        return tarball
    source = _source()
    with tempfile.TemporaryDirectory(prefix="python-base-", dir=IMAGE_CACHE) as work:
        build, runtime = Path(work) / "build", Path(work) / "runtime"
        _debootstrap(RUNTIME + BUILD, build)
        (build / "usr/src/python").mkdir(parents=True)
        _run(["tar", "-C", str(build / "usr/src/python"), "--strip-components=1", "-xzf", str(source)], "tar -x")
        with ThreadPoolExecutor(1) as pool:  # the runtime tree (cached debs, mostly I/O) while CPython compiles
            runtime_done = pool.submit(_debootstrap, RUNTIME, runtime)
            _chroot(build, "sh", "-c", BUILD_SCRIPT)
            runtime_done.result()
        _run(["cp", "-a", f"{build}/usr/local/.", str(runtime / "usr/local")], "cp /usr/local")
        _chroot(runtime, "ldconfig")
        _chroot(runtime, *CHECK)
        for junk in ("var/cache/apt/archives", "var/lib/apt/lists"):
            shutil.rmtree(runtime / junk, ignore_errors=True)
        (runtime / "var/lib/apt/lists/partial").mkdir(parents=True)
        _run(["tar", "-C", str(runtime), "--numeric-owner", "-cf", f"{tarball}.part", "."], "tar -c")
        for old in IMAGE_CACHE.glob(f"python-3.11-slim-{SUITE}-*.tar"):
            old.unlink()
        os.replace(f"{tarball}.part", tarball)
    return tarball


def host_ca_bundle() -> Path:
    """The CA bundle this machine's pip trusts: PyPI may be reached through a proxy whose CA only it has."""
    return Path(os.environ.get("PIP_CERT") or ssl.get_default_verify_paths().openssl_cafile)


def ensure_base(engine: Engine, tag: str) -> str:
    """Make `tag` the stand-in base on `engine` (built once per key, imported per engine); return the key.

    On top of the imported tree, one layer trusts what the host trusts: the host's CA bundle in
    place of Debian's, and PIP_CERT naming it (pip reads its own certifi bundle otherwise), so the
    Dockerfile's unchanged `pip install` reaches PyPI from this network.
    """
    bundle = host_ca_bundle().read_bytes()
    with _locked():
        tree_key = key()
        tag_key = f"{tree_key}-{hashlib.sha256(bundle).hexdigest()[:12]}"
        if (engine.image_labels(tag) or {}).get(KEY_LABEL) != tag_key:
            engine.docker("import", *[a for c in CHANGES for a in ("--change", c)], str(rootfs(tree_key)),
                          f"{tag}-rootfs")
            with tempfile.TemporaryDirectory(prefix="python-base-") as context:
                Path(context, "ca-certificates.crt").write_bytes(bundle)
                Path(context, "Dockerfile").write_text(
                    f"FROM {tag}-rootfs\nCOPY ca-certificates.crt /etc/ssl/certs/ca-certificates.crt\n"
                    f"ENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt\nLABEL {KEY_LABEL}={tag_key}\n")
                engine.docker("build", "-t", tag, context)
    return tag_key


if __name__ == "__main__":  # build the tarball ahead of a test run: python -m support.python_base (from tests/)
    print(rootfs(key()))
