# syntax=docker/dockerfile:1
# conngen image: the KRM function (ENTRYPOINT: ResourceList on stdin and stdout), the ArgoCD CMP
# sidecar (`conngen` on PATH, /bin/sh for the plugin's `generate`), and the source of the
# self-contained runtime that the ArgoCD build-options recipe copies into argocd-repo-server.
#
#   docker build -t conngen:0.1.0 .
#
# Dependencies come from requirements.lock: exact versions with sha256 hashes (pip checks every
# file it installs against them), made by pip-tools (7.6.2, on Python 3.11) from setup.cfg and
# pyproject.toml, in a checkout:
#   pip-compile --generate-hashes --allow-unsafe --all-build-deps --strip-extras --no-header \
#     --no-emit-find-links -o requirements.lock pyproject.toml
# (tests/test_image.py checks that it pins every dependency setup.cfg declares.)
#
# The base is pinned by digest. To move it, look the digest up with
#   docker buildx imagetools inspect python:3.11-slim-bookworm
# and pass --build-arg BASE=python:3.11-slim-bookworm@sha256:<digest> (or edit the line below).
#
# The tests build this file unchanged, with Debian's Docker 20.10 (legacy builder, `--network host`
# for apt and PyPI), on one difference: no registry is reachable there, so BASE is a stand-in for
# python:3.11-slim-bookworm built by tests/support/python_base.py (debootstrap bookworm minbase and
# CPython 3.11.2 compiled by the published image's steps, plus the host's CA bundle for pip);
# that module and docs/testing.md say exactly what differs.
ARG BASE=python:3.11-slim-bookworm@sha256:2e32f7d302adc1c37428355c1e646897c0c53f4fd60b6a551245fb90ee129f91

FROM ${BASE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN apt-get update \
 && apt-get install -y --no-install-recommends patchelf \
 && rm -rf /var/lib/apt/lists/*
COPY . /src
# /opt/conngen is a relocatable Python: interpreter, libpython (found through an $ORIGIN rpath),
# stdlib and site-packages all under one directory, so the same tree runs in this image and,
# copied into a shared volume, in another container (docs/integrations/argocd.md).
# Dependencies (and the build's setuptools and wheel) are installed from hashed wheels only
# (PyPI's PyYAML wheel carries libyaml): no compiler runs. conngen itself is then built offline.
RUN mkdir -p /opt/conngen/bin /opt/conngen/lib \
 && cp -a /usr/local/bin/python3.11 /opt/conngen/bin/ \
 && ln -s python3.11 /opt/conngen/bin/python \
 && cp -a /usr/local/lib/libpython3.11.so* /usr/local/lib/python3.11 /opt/conngen/lib/ \
 && patchelf --set-rpath '$ORIGIN/../lib' /opt/conngen/bin/python3.11 \
 && /opt/conngen/bin/python3.11 -m pip install --require-hashes --only-binary=:all: -r /src/requirements.lock \
 && /opt/conngen/bin/python3.11 -m pip install --no-deps --no-index --no-build-isolation /src \
 && /opt/conngen/bin/python3.11 -m pip uninstall -y pip setuptools wheel packaging \
 && rm -rf /opt/conngen/lib/python3.11/test /opt/conngen/lib/python3.11/ensurepip \
           /opt/conngen/lib/python3.11/idlelib /opt/conngen/lib/python3.11/tkinter \
 && /opt/conngen/bin/python3.11 -m compileall -q /opt/conngen/lib/python3.11 \
 && cp /src/LICENSE /src/NOTICE /opt/conngen/ \
 && chmod -R a+rX,go-w /opt/conngen

FROM ${BASE}
ARG BASE
ARG VERSION=0.1.0
ARG REVISION=unknown
LABEL org.opencontainers.image.title="conngen" \
      org.opencontainers.image.description="Registry Secrets and image-builder Jobs from a Polyaxon connections catalog (KRM function, ArgoCD CMP sidecar)" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.base.name="${BASE}"
# One Python on the final filesystem: the base's interpreter goes (its shared libraries stay, which
# the relocatable copy's extension modules need); the build fails if that copy lacks one of them.
RUN rm -rf /usr/local/bin/python* /usr/local/bin/pip* /usr/local/bin/idle* /usr/local/bin/pydoc* \
           /usr/local/lib/python3.11 /usr/local/lib/libpython3* /usr/local/include/python3.11 \
           /usr/local/lib/pkgconfig/python* /usr/local/share/man/man1/python*
COPY --from=build /opt/conngen /opt/conngen
ENV PATH=/opt/conngen/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    PYTHONDONTWRITEBYTECODE=1
RUN ! command -v python3 >/dev/null \
 && /opt/conngen/bin/python3.11 -I -c "import hashlib, ssl, zlib, ctypes, bz2, lzma, generator.commands.cli, generator.kustomize.plugin"
# Container functions see only what is mounted, read-only: mount the kustomization's catalog and
# credential files here, at the relative paths the config uses (docs/integrations/kustomize.md).
WORKDIR /work
# kustomize runs function containers as `--user nobody`, ArgoCD runs the sidecar as 999: the
# installed files are world-readable and nothing is written at run time.
USER 65532:65532
# kustomize passes a function container only the variables its annotation lists under `envs:`
# (and LOG_TO_STDERR, STRUCTURED_RESULTS); an absolute interpreter in isolated mode (-I) keeps a
# listed PATH or PYTHON* from changing what runs.
ENTRYPOINT ["/opt/conngen/bin/python3.11", "-I", "-m", "generator.kustomize.plugin"]
