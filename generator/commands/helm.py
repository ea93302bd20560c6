"""Helm post-renderer: the chart's manifests in, the same manifests plus our Secrets and Jobs out.

Helm 3 runs `--post-renderer <executable>` with the rendered non-hook manifests on stdin
(a `---` stream with `# Source:` comments) and reads the result from stdout; Helm 4 runs a
`postrenderer/v1` plugin the same way, hooks included, naming each document's template in an
annotation instead of the comment. Documents we do not touch are copied byte for byte. A chart
workload annotated `conngen.dev/registry-connection: <name>` gets the registry Secret mounted
where its builder reads it, by the same planning a generated Job uses (`planner.registry_mount`);
only the documents we change are re-serialised, from their YAML node tree, so every scalar keeps
its exact text and quoting.
"""

from __future__ import annotations

import difflib
import os
import re
import sys
from typing import Any, Mapping

import click
import yaml
from msgspec import Struct

from generator.model.builders import PROFILES
from generator.errors import Issue, UserError, clipped, shown
from generator.model.records import GeneratorConfig
from generator.commands.options import load_config_file, root_options, strict_option, templates_option
from generator.plan.planner import BEHAVIOR, NEEDS_HASH, registry_mount

CONNECTION_ANNOTATION = "conngen.dev/registry-connection"
BUILDER_ANNOTATION = "conngen.dev/builder"
CONTAINER_ANNOTATION = "conngen.dev/container"
DEFAULT_BUILDER = "kaniko"
#: Helm 4's name for the template a document came from (it sends no `# Source:` comments)
HELM4_SOURCE_ANNOTATION = "postrenderer.helm.sh/postrender-filename"

#: Where each workload kind keeps its pod spec.
POD_SPEC_PATHS: dict[str, tuple[str, ...]] = {
    "Pod": ("spec",),
    "Job": ("spec", "template", "spec"),
    "Deployment": ("spec", "template", "spec"),
    "StatefulSet": ("spec", "template", "spec"),
    "DaemonSet": ("spec", "template", "spec"),
    "ReplicaSet": ("spec", "template", "spec"),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
}

#: kustomize generator options: nothing in Helm acts on them, so they are not emitted.
_KUSTOMIZE_ONLY = (NEEDS_HASH, BEHAVIOR)

# Helm splits manifests on `---` at the start of a line (releaseutil.SplitManifests); so do we.
_SEPARATOR = re.compile(r"^---(?=[ \t\r]|$)[ \t]*", re.M)
_SOURCE = re.compile(r"^# Source: (.+?)\s*$", re.M)
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_Dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class _Document(Struct):
    """One chunk of helm's stream: its exact text, and its nodes and their data once parsed."""

    text: str
    nodes: list[yaml.Node]
    values: list[Any]  # each node's data, as read before conngen changed anything
    source: str | None
    changed: bool = False


def _split(text: str) -> list[_Document]:
    """Helm's stream as documents; text is kept so untouched ones go back exactly as helm wrote them."""
    docs = []
    for i, chunk in enumerate(_SEPARATOR.split(text)):
        chunk = chunk[1:] if chunk.startswith("\n") else chunk
        source = _SOURCE.search(chunk)
        try:
            nodes = [n for n in yaml.compose_all(chunk, Loader=_Loader) if n is not None]
            values = [_value(n) for n in nodes]  # a Python tag or a list as a key: refused here, once
        except yaml.YAMLError as exc:
            raise _unreadable(exc, i, source.group(1) if source else None) from None
        if nodes:
            docs.append(_Document(chunk, nodes, values, source.group(1) if source else None))
    return docs


def _unreadable(exc: yaml.YAMLError, number: int, source: str | None) -> UserError:
    """helm's document `number` cannot be read as plain YAML data: where and why, without its text."""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    where = (f" ({source})" if source else "") + (f" at line {mark.line + 1}" if mark else "")
    problem = getattr(exc, "problem", None) or getattr(exc, "context", None) or type(exc).__name__
    return UserError([Issue(None, f"helm's manifests, document {number}{where}: invalid YAML: {clipped(problem)}",
                            "check the chart with helm template; manifests are plain data (no Python tags, "
                            "no lists or mappings as keys)")])


def _value(node: yaml.Node) -> Any:
    return _Loader("").construct_document(node)


def _mapping(value: Any) -> Mapping:
    """`value` if it is a mapping, else an empty one: a chart's odd metadata is passed through, not read."""
    return value if isinstance(value, dict) else {}


def _child(node: yaml.Node | None, key: str) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            if isinstance(k, yaml.ScalarNode) and k.value == key:
                return v
    return None


def _node(data: Any) -> yaml.Node:
    return yaml.representer.SafeRepresenter(sort_keys=False).represent_data(data)


def _sequence(mapping: yaml.MappingNode, key: str, what: str) -> yaml.SequenceNode:
    """The list under `key`, created (or put in place of a null) when absent."""
    found = _child(mapping, key)
    if isinstance(found, yaml.SequenceNode):
        return found
    if found is not None and not (isinstance(found, yaml.ScalarNode) and found.tag.endswith(":null")):
        raise UserError([Issue(None, f"{what}: {key} is not a list")])
    seq = yaml.SequenceNode("tag:yaml.org,2002:seq", [], flow_style=False)
    mapping.value = [(k, v) for k, v in mapping.value if not (isinstance(k, yaml.ScalarNode) and k.value == key)]
    mapping.value.append((_node(key), seq))
    return seq


def _add(seq: yaml.SequenceNode, entry: dict, key: str, what: str, field: str) -> None:
    """Append `entry` unless an equal one is there; one with the same `key` but other content clashes."""
    for existing in seq.value:
        current = _value(existing)
        if isinstance(current, dict) and current.get(key) == entry[key]:
            if current == entry:
                return
            raise UserError([Issue(None, f"{what}: {field} already has {key} {shown(entry[key])} with other content",
                                   f"conngen adds {entry}; rename or remove the chart's entry")])
    seq.value.append(_node(entry))


def _describe(data: Mapping, source: str | None) -> str:
    meta = _mapping(data.get("metadata"))
    source = source or _mapping(meta.get("annotations")).get(HELM4_SOURCE_ANNOTATION)
    name = f"{meta['namespace']}/{meta.get('name')}" if meta.get("namespace") else str(meta.get("name"))
    return f"{data.get('kind')} {name}" + (f" ({source})" if source else "")


def _inject(config: GeneratorConfig, root: yaml.Node, data: Mapping, source: str | None) -> bool:
    """Mount the annotated connection's registry Secret into the chart object; False if not annotated."""
    annotations = _mapping(_mapping(data.get("metadata")).get("annotations"))
    connection = annotations.get(CONNECTION_ANNOTATION)
    if connection is None:
        return False
    what = _describe(data, source)
    where = f"{what}: annotation {CONNECTION_ANNOTATION}"
    path = POD_SPEC_PATHS.get(str(data.get("kind")))
    if path is None:
        raise UserError([Issue(None, f"{where}: a {data.get('kind')} has no pod to mount a Secret in",
                               f"annotate one of: {', '.join(POD_SPEC_PATHS)}")])
    builder = annotations.get(BUILDER_ANNOTATION, DEFAULT_BUILDER)
    if not isinstance(builder, str) or builder not in PROFILES:
        raise UserError([Issue(None, f"{what}: annotation {BUILDER_ANNOTATION}: unknown builder {shown(builder)}",
                               f"use one of: {', '.join(sorted(PROFILES))}")])
    mount = registry_mount(config, str(connection), builder)
    if mount is None:
        registries = sorted(c.name for c in config.connections if c.kind == "registry")
        close = difflib.get_close_matches(str(connection), registries, n=1)
        raise UserError([Issue(None, f"{where}: {shown(connection)} is not a registry connection of the catalog",
                               f"did you mean {shown(close[0])}?" if close
                               else f"registry connections: {', '.join(registries) or 'none'}")])
    volumes, mounts, env, credential = mount
    if credential.secret is None:
        raise UserError([Issue(None, f"{where}: connection {shown(connection)} has no secret to mount",
                               "give the connection secret: {name: <Secret name>}")])
    namespace = _mapping(data.get("metadata")).get("namespace")
    if config.namespace and namespace and namespace != config.namespace:
        raise UserError([Issue(None, f"{what} is in namespace {shown(namespace)} but the generator config puts "
                               f"Secret {shown(credential.secret)} in {shown(config.namespace)}; a pod mounts only Secrets of "
                               "its own namespace", "make the two namespaces the same, or remove metadata.namespace "
                               "from the generator config")])
    spec: yaml.Node | None = root
    for key in path:
        spec = _child(spec, key)
    containers = _child(spec, "containers")
    if not isinstance(spec, yaml.MappingNode) or not isinstance(containers, yaml.SequenceNode) or not containers.value:
        raise UserError([Issue(None, f"{what}: no containers at {'.'.join(path)}.containers")])
    wanted = annotations.get(CONTAINER_ANNOTATION)
    names = [_value(c).get("name") if isinstance(c, yaml.MappingNode) else None for c in containers.value]
    if wanted is not None and wanted not in names:
        raise UserError([Issue(None, f"{what}: annotation {CONTAINER_ANNOTATION}: no container named {shown(wanted)}",
                               f"containers: {', '.join(map(str, names))}")])
    container = containers.value[names.index(wanted) if wanted is not None else 0]
    if not isinstance(container, yaml.MappingNode):
        raise UserError([Issue(None, f"{what}: its first container is not a mapping")])
    for volume in volumes:
        _add(_sequence(spec, "volumes", what), volume, "name", what, "volumes")
    for entry in mounts:
        _add(_sequence(container, "volumeMounts", what), entry, "mountPath", what, "volumeMounts")
    for var in env:
        _add(_sequence(container, "env", what), var, "name", what, "env")
    return True


def _key(obj: Mapping) -> tuple[str, str, str]:
    meta = _mapping(obj.get("metadata"))
    return str(obj.get("kind")), str(meta.get("namespace") or ""), str(meta.get("name"))


INSTANCE_LABEL = "app.kubernetes.io/instance"


def chart_release(docs: list[_Document]) -> str | None:
    """The release name the chart's own objects carry in `app.kubernetes.io/instance`, if they agree."""
    found: dict[str, str] = {}
    for doc in docs:
        for data in doc.values:
            labels = _mapping(_mapping(data).get("metadata")).get("labels")
            value = labels.get(INSTANCE_LABEL) if isinstance(labels, dict) else None
            if isinstance(value, str) and value:
                found.setdefault(value, _describe(data, doc.source))
    if len(found) > 1:
        raise UserError([Issue(None, f"the chart's objects name several releases in {INSTANCE_LABEL}: "
                               + ", ".join(f"{shown(v)} ({what})" for v, what in sorted(found.items())),
                               "pass the release: --post-renderer-args --release --post-renderer-args <name>")])
    return next(iter(found), None)


def for_release(config: GeneratorConfig, release: str) -> GeneratorConfig:
    """The config with every generated name (Secrets, Jobs, ServiceAccounts) prefixed by the release.

    Two releases of one chart in a namespace would otherwise generate, and fight over, the same
    objects. References follow; Secrets the catalog names but conngen does not generate, and
    existing ServiceAccounts it only patches, keep their names.
    """
    from msgspec.structs import replace

    generated = {c.secret_name for c in config.credentials}

    def scoped(name: str) -> str:
        return f"{release}-{name}" if name in generated else name

    connections = tuple(replace(c, secret=replace(c.secret, name=scoped(c.secret.name)))
                        if c.secret is not None and c.secret.name in generated else c for c in config.connections)
    return replace(config, connections=connections,
                   credentials=tuple(replace(c, secret_name=scoped(c.secret_name)) for c in config.credentials),
                   pull_secrets=tuple(replace(p, secrets=tuple(map(scoped, p.secrets)), service_account=p.service_account
                                              if p.patch else f"{release}-{p.service_account}")
                                      for p in config.pull_secrets),
                   builds=tuple(replace(b, name=f"{release}-{b.name}") for b in config.builds))


def post_render(text: str, config: GeneratorConfig, environ: Mapping[str, str],
                warnings: list[Issue] | None = None, release: str | None = None) -> tuple[str, list[Issue]]:
    """The chart's stream with annotated workloads filled in, then the config's Secrets and Jobs.

    Generated names are scoped to `release`, or to the release the chart's objects are labelled with.
    """
    from generator.render.emit import yaml_stream
    from generator.pipeline import generate

    docs = _split(text)
    release = release or chart_release(docs)
    warnings = list(warnings or [])
    if release:
        config = for_release(config, release)
    elif config.credentials or config.builds:
        warnings.append(Issue(config.origin, f"no release name: the chart's objects have no {INSTANCE_LABEL} "
                              "label, so generated Secrets and Jobs are not scoped to the release and two releases "
                              "in one namespace would collide", "pass --post-renderer-args --release "
                              "--post-renderer-args <release name>", severity="warning"))
    result = generate(config, environ, warnings)
    generated = result.objects
    for obj in generated:
        annotations = obj["metadata"].get("annotations") or {}
        for key in _KUSTOMIZE_ONLY:
            annotations.pop(key, None)
        if "annotations" in obj["metadata"] and not annotations:
            del obj["metadata"]["annotations"]
    chart: dict[tuple[str, str, str], str] = {}
    for doc in docs:
        for node, data in zip(doc.nodes, doc.values):
            if not isinstance(data, dict):
                continue
            chart[_key(data)] = _describe(data, doc.source)
            doc.changed |= _inject(config, node, data, doc.source)
    for obj in generated:
        kind, namespace, name = _key(obj)
        clash = next((what for (k, ns, n), what in chart.items()
                      if (k, n) == (kind, name) and (ns == namespace or not ns or not namespace)), None)
        if clash:
            raise UserError([Issue(None, f"the chart already has {clash}; conngen generates a {kind} of the same name",
                                   "rename the chart's object, or drop it and let conngen generate it")])
    out = []
    for doc in docs:
        if not doc.changed:
            out.append("---\n" + doc.text + ("" if doc.text.endswith("\n") else "\n"))
            continue
        comments = re.match(r"(?:[ \t]*(?:#[^\n]*)?\n)*", doc.text)
        leading = comments.group(0).strip("\n") if comments else ""
        body = yaml.serialize_all(doc.nodes, Dumper=_Dumper, explicit_start=True, width=4096, allow_unicode=True)
        if leading and body.startswith("---\n"):
            body = "---\n" + leading + "\n" + body[4:]
        out.append(body)
    return "".join(out) + yaml_stream(generated), result.warnings


@click.command("post-render")
@click.argument("config_file", type=click.Path(dir_okay=False))
@templates_option
@click.option("--release", help="Release name to scope generated names to (default: the chart's "
              "app.kubernetes.io/instance label).")
@strict_option
@root_options
def post_render_command(config_file: str, templates: str | None, release: str | None, strict: bool,
                        root: str | None, load_restrictor: str | None) -> None:
    """Helm post-renderer: the chart's manifests on stdin; they, plus CONFIG_FILE's Secrets and Jobs, on stdout.

    \b
    helm template|install ... --post-renderer conngen \\
        --post-renderer-args post-render --post-renderer-args CONFIG_FILE

    A chart Pod, Job, CronJob or workload annotated conngen.dev/registry-connection: <name>
    gets that connection's registry Secret mounted where its builder reads it
    (conngen.dev/builder: kaniko|dockerizer, default kaniko; conngen.dev/container: <name>,
    default the first container). CONFIG_FILE is relative to where helm runs.
    """
    from generator.report import print_issues
    from generator.read.stdin import read_stdin

    if sys.stdin.isatty():
        raise click.UsageError("post-render reads the chart's rendered manifests on stdin "
                               "(helm --post-renderer); pipe them in")
    config, warnings = load_config_file(config_file, root, load_restrictor, templates, strict)
    text = read_stdin("helm's manifests")
    out, issues = post_render(text, config, os.environ, warnings, release)
    print_issues(issues)
    sys.stdout.write(out)
