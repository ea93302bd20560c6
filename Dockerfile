# syntax=docker/dockerfile:1
# conngen image: the KRM function (ENTRYPOINT: ResourceList on stdin and stdout), the ArgoCD CMP
# sidecar (`conngen` on PATH, /bin/sh for the plugin's `generate`), and the source of the
# self-contained runtime that the ArgoCD build-options recipe copies into argocd-repo-server.
#
#   docker build -t conngen:0.1.0 .
#
# The base is pinned by digest. To move it, look the digest up with
#   docker buildx imagetools inspect python:3.11-slim-bookworm
# and pass --build-arg BASE=python:3.11-slim-bookworm@sha256:<digest> (or edit the line below).
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
# Dependencies are installed from wheels only (PyYAML's wheel carries libyaml): no compiler runs.
RUN mkdir -p /opt/conngen/bin /opt/conngen/lib \
 && cp -a /usr/local/bin/python3.11 /opt/conngen/bin/ \
 && ln -s python3.11 /opt/conngen/bin/python \
 && cp -a /usr/local/lib/libpython3.11.so* /usr/local/lib/python3.11 /opt/conngen/lib/ \
 && patchelf --set-rpath '$ORIGIN/../lib' /opt/conngen/bin/python3.11 \
 && /opt/conngen/bin/python3.11 -m pip install --only-binary=:all: --no-binary=conngen /src \
 && /opt/conngen/bin/python3.11 -m pip uninstall -y pip setuptools wheel \
 && rm -rf /opt/conngen/lib/python3.11/test /opt/conngen/lib/python3.11/ensurepip \
           /opt/conngen/lib/python3.11/idlelib /opt/conngen/lib/python3.11/tkinter \
 && /opt/conngen/bin/python3.11 -m compileall -q /opt/conngen/lib/python3.11 \
 && chmod -R a+rX,go-w /opt/conngen

FROM ${BASE}
# kustomize runs function containers as `--user nobody`, ArgoCD runs the sidecar as 999: the
# installed files are world-readable and nothing is written at run time.
RUN python -m pip uninstall -y -q pip setuptools wheel
COPY --from=build /opt/conngen /opt/conngen
ENV PATH=/opt/conngen/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    PYTHONDONTWRITEBYTECODE=1
# Container functions see only what is mounted, read-only: mount the kustomization's catalog and
# credential files here, at the relative paths the config uses (docs/integrations/kustomize.md).
WORKDIR /work
USER 65532:65532
# kustomize passes a function container only the variables its annotation lists under `envs:`
# (and LOG_TO_STDERR, STRUCTURED_RESULTS); an absolute interpreter in isolated mode (-I) keeps a
# listed PATH or PYTHON* from changing what runs.
ENTRYPOINT ["/opt/conngen/bin/python3.11", "-I", "-m", "generator.plugin"]
