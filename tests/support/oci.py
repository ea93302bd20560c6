"""Build a tiny OCI image layout with the stdlib only.

Why: pushing needs *some* image, and building one with Python keeps the tests free of a base image,
a network pull or umoci. The output is byte-for-byte deterministic (fixed mtimes, gzip mtime=0), so
the manifest digest is the same on every run and can be compared with what a registry reports.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
from dataclasses import dataclass
from pathlib import Path

MEDIA_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MEDIA_CONFIG = "application/vnd.oci.image.config.v1+json"
MEDIA_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
MEDIA_INDEX = "application/vnd.oci.image.index.v1+json"


@dataclass(frozen=True)
class OciImage:
    """An OCI image layout on disk with one tagged manifest."""

    path: Path
    tag: str
    manifest_digest: str
    config_digest: str
    layer_digest: str

    @property
    def ref(self) -> str:
        """The `oci:` transport reference skopeo understands (`oci:<dir>:<tag>`)."""
        return f"oci:{self.path}:{self.tag}"


def _sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _write_blob(layout: Path, data: bytes) -> str:
    digest = _sha256(data)
    algo, hexpart = digest.split(":", 1)
    blob = layout / "blobs" / algo / hexpart
    blob.parent.mkdir(parents=True, exist_ok=True)
    blob.write_bytes(data)
    return digest


def _canonical_json(obj: object) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()


def _layer_tar(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, content in sorted(files.items()):
            info = tarfile.TarInfo(name.lstrip("/"))
            info.size = len(content)
            info.mode = 0o644
            info.mtime = 0
            info.uid = info.gid = 0
            info.uname = info.gname = "root"
            tar.addfile(info, io.BytesIO(content))
    return buf.getvalue()


def build_oci_image(
    dest: Path,
    *,
    tag: str = "v1",
    files: dict[str, bytes] | None = None,
    architecture: str = "amd64",
) -> OciImage:
    """Write an OCI layout into `dest` (created if needed) and return where it is and its digests.

    `files` maps absolute paths in the image to their content; the default is one `/hello.txt`.
    Different contents give different digests, which is how a test can tell two pushes apart.
    """
    if files is None:
        files = {"/hello.txt": b"hello from conngen tests\n"}
    dest.mkdir(parents=True, exist_ok=True)

    layer_tar = _layer_tar(files)
    diff_id = _sha256(layer_tar)
    layer_gz = gzip.compress(layer_tar, compresslevel=6, mtime=0)
    layer_digest = _write_blob(dest, layer_gz)

    config = {
        "architecture": architecture,
        "os": "linux",
        "config": {},
        "rootfs": {"type": "layers", "diff_ids": [diff_id]},
        "history": [{"created_by": "tests/support/oci.py", "created": "1970-01-01T00:00:00Z"}],
        "created": "1970-01-01T00:00:00Z",
    }
    config_bytes = _canonical_json(config)
    config_digest = _write_blob(dest, config_bytes)

    manifest = {
        "schemaVersion": 2,
        "mediaType": MEDIA_MANIFEST,
        "config": {"mediaType": MEDIA_CONFIG, "digest": config_digest, "size": len(config_bytes)},
        "layers": [{"mediaType": MEDIA_LAYER_GZIP, "digest": layer_digest, "size": len(layer_gz)}],
    }
    manifest_bytes = _canonical_json(manifest)
    manifest_digest = _write_blob(dest, manifest_bytes)

    index = {
        "schemaVersion": 2,
        "mediaType": MEDIA_INDEX,
        "manifests": [
            {
                "mediaType": MEDIA_MANIFEST,
                "digest": manifest_digest,
                "size": len(manifest_bytes),
                "annotations": {"org.opencontainers.image.ref.name": tag},
            }
        ],
    }
    (dest / "index.json").write_bytes(_canonical_json(index))
    (dest / "oci-layout").write_bytes(_canonical_json({"imageLayoutVersion": "1.0.0"}))
    return OciImage(
        path=dest,
        tag=tag,
        manifest_digest=manifest_digest,
        config_digest=config_digest,
        layer_digest=layer_digest,
    )
