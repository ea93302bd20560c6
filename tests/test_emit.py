"""The direct YAML writer gives byte for byte what PyYAML's dumper gives, for any document."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from generator.emit import _pyyaml, yaml_stream

TRICKY = ["yes", "no", "On", "1:20", "0x1f", "1_0", ".inf", "~", "null", "=", "<<", "2001-12-14", "---a", "...",
          "...a", "-", "-a", "- a", "a:", "a:b", ":a", "?a", "a?", "a,b", "a #b", "a#b", "@x", "!x", "&a", "*a",
          "|", ">", "%", "'q'", "a'b", "1'2", "x\n\n", "...\n", "multi\nline", " lead", "trail ", "é", "k" * 130]
TEXT = st.one_of(st.sampled_from(TRICKY), st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126),
                                                   max_size=12), st.text(max_size=6))
SCALAR = st.one_of(TEXT, st.integers(), st.booleans(), st.none(), st.floats(allow_nan=False))
DOC = st.recursive(SCALAR, lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(TEXT, inner, max_size=4)),
                   max_leaves=25)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.dictionaries(TEXT, DOC, max_size=5), max_size=3))
def test_same_bytes_as_pyyaml(objects: list[dict]) -> None:
    assert yaml_stream(objects) == (_pyyaml(objects) if objects else "")


def test_document_end_marker_only_ends_the_stream() -> None:
    """A kept trailing newline (`|+`) makes PyYAML end the stream with `...`, never a middle document."""
    objects = [{"a": "x\n\n"}, {"b": "plain"}, {"c": "y\n\n"}]
    out = yaml_stream(objects)
    assert out == _pyyaml(objects)
    assert out.count("...") == 1 and out.endswith("...\n")


def test_shared_values_are_written_as_pyyaml_writes_them() -> None:
    labels = {"app": "x"}
    objects = [{"metadata": {"labels": labels}, "spec": {"labels": labels}}]
    assert yaml_stream(objects) == _pyyaml(objects)
    assert "&id001" in yaml_stream(objects)


def test_typical_job_takes_the_direct_writer(monkeypatch) -> None:
    """The common case must not silently fall back to PyYAML, or the speed-up is gone."""
    import generator.emit as emit

    def refuse(objects: list) -> str:
        raise AssertionError(f"PyYAML asked to write {objects!r}")

    monkeypatch.setattr(emit, "_pyyaml", refuse)
    job = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "build-1", "labels": {"app": "x"}},
           "spec": {"backoffLimit": 0, "template": {"spec": {"containers": [{
               "name": "kaniko", "image": "gcr.io/kaniko-project/executor:v1.23.2",
               "args": ["--context=git://github.com/acme/app.git#refs/heads/main", "--destination=reg.example.com/a:1"],
               "env": [{"name": "DOCKER_CONFIG", "value": "/kaniko/.docker"}],
               "volumeMounts": [{"name": "reg", "mountPath": "/kaniko/.docker", "readOnly": True}]}],
               "volumes": [{"name": "reg", "secret": {"secretName": "reg", "items": [{"key": ".dockerconfigjson",
                                                                                      "path": "config.json"}]}}]}}}}
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "reg", "annotations": {
        "kustomize.config.k8s.io/needs-hash": "true"}}, "type": "kubernetes.io/dockerconfigjson",
        "data": {".dockerconfigjson": "eyJhdXRocyI6e319"}}
    assert "needs-hash: 'true'" in yaml_stream([job, secret])


def test_memo_keeps_short_texts_only_and_starts_over_when_full(monkeypatch) -> None:
    """Names are remembered, a Secret's base64 data is not; a full memo makes room for new names."""
    import base64

    import generator.emit as emit
    from generator.dockerauth import login_config

    monkeypatch.setattr(emit, "_scalars", {})
    monkeypatch.setattr(emit, "_MAX_SCALARS", 8)
    data = base64.b64encode(login_config(("r.io",), "u", "p", None)).decode()
    secret = {"kind": "Secret", "data": {".dockerconfigjson": data}}
    jobs = [{"kind": "Job", "metadata": {"name": f"build-{i}"}} for i in range(20)]
    out = yaml_stream([secret, *jobs])
    assert out == _pyyaml([secret, *jobs])
    assert data in out and data not in emit._scalars
    assert "build-19" in emit._scalars and len(emit._scalars) <= 8
