"""Hypothesis fuzz targets for the test suite (tests/test_fuzz_properties.py); the long run is fuzz/.

Each target feeds one input to a real entry point in-process — the exec plugin, the KRM
function — through the handler every conngen process ends in (generator/exits.py), and checks
the contract: exit 0 or 1 (a crash is exit 3 with "internal error" on stderr), nothing on
stdout nor any KRM item on exit 1, and the planted password nowhere but in a Secret's data:
not on stderr, not in KRM results, not in any object of either protocol's output.
"""

from __future__ import annotations

import io
import json
import os
import sys
from pathlib import Path

import yaml
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from fuzz.harness import forms, without_secret_data  # noqa: E402

CANARY = "fuzz-canary-Pw0rd"
ENV = {"F_USER": "fuzzer", "F_PASS": CANARY}
_FORMS = forms(CANARY)

_text = st.one_of(st.sampled_from(["", "reg", "docker-conf", "registry", "git", "kaniko", "dockerizer", "/kaniko/.docker",
                                   "https://r.example.com/org", "app:1", "git://github.com/a/b.git", "0644", "no",
                                   "{{ x }}", "\n---\n", "..", "/abs", "a" * 300, "\x00", "é", "${X}", "$(X)"]),
                  st.text(max_size=20))
_scalar = st.one_of(_text, st.integers(-5, 5000), st.booleans(), st.none(), st.floats(allow_nan=False))
_junk = st.recursive(_scalar, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                      st.dictionaries(_text, inner, max_size=3)), max_leaves=6)


def _maybe(strategy: st.SearchStrategy) -> st.SearchStrategy:
    """Mostly the well-formed value, sometimes junk of any shape."""
    return st.one_of(strategy, strategy, strategy, _junk)


_resource = st.fixed_dictionaries({"name": _maybe(st.sampled_from(["docker-conf", "other", "Bad_Name"]))},
                                  optional={"mountPath": _maybe(st.sampled_from(["/kaniko/.docker", "/root/.docker", "rel"])),
                                            "items": _maybe(st.lists(st.sampled_from([".dockerconfigjson", "config.json",
                                                                                      "token"]), max_size=2)),
                                            "defaultMode": _maybe(st.sampled_from([420, "0644", 644, "0o600"]))})
_connection = st.fixed_dictionaries(
    {"name": _maybe(st.sampled_from(["reg", "repo", "store", "reg"])),
     "kind": _maybe(st.sampled_from(["registry", "git", "custom", "s3", "volume_claim"]))},
    optional={"schema": _maybe(st.fixed_dictionaries({}, optional={
                  "url": _maybe(st.sampled_from(["https://r.example.com/org", "localhost:5000", "docker.io", "ftp://x"])),
                  "insecure": _maybe(st.booleans()), "bucket": _text, "revision": _text,
                  "volumeClaim": _text, "mountPath": _text})),
              "secret": _maybe(_resource), "configMap": _maybe(_resource),
              "env": _maybe(st.dictionaries(st.sampled_from(["A", "B", "DOCKER_CONFIG"]), _text, max_size=2)),
              "annotations": _maybe(st.dictionaries(st.sampled_from(["x.io/a", "b"]), _text, max_size=2))})
_build = st.fixed_dictionaries(
    {"name": _maybe(_text), "connection": _maybe(st.sampled_from(["reg", "repo", "missing"])),
     "image": _maybe(st.sampled_from(["app:1", "org/app", "https://x/app", "App"])),
     "context": _maybe(st.one_of(st.sampled_from(["git://github.com/a/b.git", "dir:///w", "s3://b/c.tgz"]),
                                 st.fixed_dictionaries({"connection": st.sampled_from(["repo", "reg"])})))},
    optional={"builder": _maybe(st.sampled_from(["kaniko", "dockerizer"])), "tags": _maybe(st.lists(_text, max_size=2)),
              "buildArgs": _maybe(st.dictionaries(st.sampled_from(["A"]), _text, max_size=1)),
              "resources": _maybe(st.fixed_dictionaries({}, optional={"limits": _junk, "requests": _junk}))})
_credential = st.one_of(
    st.fixed_dictionaries({"username": _maybe(st.just({"env": "F_USER"})), "password": _maybe(st.one_of(
        st.just({"env": "F_PASS"}), st.just({"env": "F_UNSET"}), st.just({"file": "pass.txt"}), st.just(CANARY)))},
        optional={"email": _text}),
    st.fixed_dictionaries({"dockerConfig": st.sampled_from(["config.json", "broken.json", "../x.json"])}),
    _junk)
CONFIGS = st.fixed_dictionaries(
    {"apiVersion": _maybe(st.just("conngen.dev/v1")), "kind": _maybe(st.just("ConnectionGenerator")),
     "metadata": _maybe(st.fixed_dictionaries({"name": _maybe(st.just("fuzz"))}))},
    optional={"connections": _maybe(st.lists(_connection, max_size=4)),
              "credentials": _maybe(st.dictionaries(st.sampled_from(["docker-conf", "other"]), _credential, max_size=2)),
              "builds": _maybe(st.lists(_build, max_size=3)),
              "generatorOptions": _junk, "jobDefaults": _junk, "catalog": _maybe(st.just(["catalog.yaml"]))})
CATALOG_TEXTS = st.one_of(st.text(max_size=200),
                          st.builds(lambda c: yaml.safe_dump({"connections": c}), st.lists(_connection, max_size=4)))


def prepare(root: Path, catalog_text: str) -> None:
    (root / "pass.txt").write_text(CANARY + "\n")
    (root / "config.json").write_text(json.dumps({"auths": {"r.example.com": {"auth": "dTp" + CANARY}}}))
    (root / "broken.json").write_text('{"auths": {"' + CANARY)
    (root / "catalog.yaml").write_text(catalog_text)


class ContractBroken(AssertionError):
    pass


def _leaked(text: str) -> bool:
    """The password in `text`: raw, JSON-escaped or base64 at any alignment (fuzz/harness.py's forms)."""
    return any(form in text for form in _FORMS)


def _check(code: int, out: str, err: str, what: str) -> None:
    """The contract of one call; `what` starts with the protocol ("plugin" or "krm")."""
    if code not in (0, 1) or "internal error" in err or "Traceback" in err:
        raise ContractBroken(f"{what}: exit {code}: {err[-500:]}")
    if _leaked(err):
        raise ContractBroken(f"{what}: the password reached stderr")
    if what.startswith("krm"):
        answer = yaml.safe_load(out)
        objects = answer.get("items") or []
        if _leaked(json.dumps(answer.get("results") or [])):
            raise ContractBroken(f"{what}: the password reached results")
    else:
        objects = [doc for doc in yaml.safe_load_all(out) if doc is not None]
    if code == 1 and objects:
        raise ContractBroken(f"{what}: exit 1 with {len(objects)} objects in the output")
    for obj in objects:
        if _leaked(json.dumps(without_secret_data(obj))):
            raise ContractBroken(f"{what}: the password reached a {obj.get('kind')} outside a Secret's data")


def exec_plugin_target(root: Path, config: object, catalog_text: str) -> None:
    """kustomize's legacy exec call: argv[1] is a file, the root is the kustomization dir."""
    from generator.kustomize.plugin import run

    prepare(root, catalog_text)
    config_file = root / "generator.yaml"
    config_file.write_text(yaml.safe_dump(config))
    out, err = io.StringIO(), io.StringIO()
    code = run(str(config_file), out, err, {**ENV, "KUSTOMIZE_PLUGIN_CONFIG_ROOT": str(root)})
    _check(code, out.getvalue(), err.getvalue(), "plugin")


def krm_target(root: Path, config: object, catalog_text: str) -> None:
    """kustomize's KRM call: a ResourceList on stdin, run in the kustomization dir."""
    from generator.kustomize.krm import run

    prepare(root, catalog_text)
    resource_list = {"apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList", "items": [config],
                     "functionConfig": config}
    out, err = io.StringIO(), io.StringIO()
    cwd = os.getcwd()
    os.chdir(root)
    try:
        code = run(yaml.safe_dump(resource_list), out, err, dict(ENV))
    finally:
        os.chdir(cwd)
    _check(code, out.getvalue(), err.getvalue(), "krm")


def raw_text_target(root: Path, text: str) -> None:
    """Any text at all as the config file and as the ResourceList."""
    from generator.kustomize.krm import run as krm_run
    from generator.kustomize.plugin import run as plugin_run

    prepare(root, "connections: []\n")
    (root / "generator.yaml").write_text(text, encoding="utf-8", errors="surrogatepass")
    out, err = io.StringIO(), io.StringIO()
    _check(plugin_run(str(root / "generator.yaml"), out, err, {**ENV, "KUSTOMIZE_PLUGIN_CONFIG_ROOT": str(root)}),
           out.getvalue(), err.getvalue(), "plugin-raw")
    out, err = io.StringIO(), io.StringIO()
    _check(krm_run(text, out, err, dict(ENV)), out.getvalue(), err.getvalue(), "krm-raw")
