"""KRM function mode: a `ResourceList` on stdin, a `ResourceList` on stdout.

kustomize (`exec:`/`container:` functions), kpt and other orchestrators send the generator
config as `functionConfig` and, for generators, the same object again as the only item,
annotated `config.kubernetes.io/local-config: "true"`. The input items are not ours to
return: the output holds only the generated objects, which carry none of the orchestrator's
annotations (anything with `local-config` would be silently dropped). Problems become
`results`; any error also exits 1 with the located message on stderr, because
`kustomize build` ignores `results` and fails on the exit code alone.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, TextIO

import yaml

from generator.render.emit import _Dumper
from generator.errors import Issue, Origin, UserError, dotted
from generator.exits import EXIT_OK, guarded
from generator.read.stdin import STDIN as INPUT

RESOURCE_LIST_API_VERSIONS = ("config.kubernetes.io/v1", "config.kubernetes.io/v1alpha1")
#: Annotation prefixes the orchestrator owns (kyaml kioutil); never compared, never emitted.
RESERVED_PREFIXES = ("config.kubernetes.io/", "internal.config.kubernetes.io/", "config.k8s.io/")
#: How errors name a config that is not a file of the kustomization (kpt, a pipe).
FUNCTION_CONFIG = "<functionConfig>"


def without_reserved(config: Any) -> Any:
    """The config as its author wrote it: drop the annotations orchestrators add or own."""
    if not isinstance(config, dict) or not isinstance(config.get("metadata"), dict):
        return config
    annotations = config["metadata"].get("annotations")
    if not isinstance(annotations, dict):
        return config
    kept = {k: v for k, v in annotations.items() if not (isinstance(k, str) and k.startswith(RESERVED_PREFIXES))}
    metadata = {k: v for k, v in config["metadata"].items() if k != "annotations"}
    if kept:
        metadata["annotations"] = kept
    return {**config, "metadata": metadata}


def read_resource_list(text: str) -> dict:
    """Parse the input (YAML, or JSON as its subset) and check it is a ResourceList with a config."""
    from generator.read.yamlio import parse_yaml

    if text.lstrip().startswith("{"):
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as exc:
            raise UserError([Issue(Origin(INPUT), f"invalid JSON: {exc.msg}", line=exc.lineno, column=exc.colno)]) from None
    else:
        doc = parse_yaml(text, INPUT)
    if not isinstance(doc, dict) or doc.get("kind") != "ResourceList":
        raise UserError([Issue(Origin(INPUT), "expected a ResourceList (kind: ResourceList) on stdin",
                               "run by a KRM orchestrator (kustomize --enable-exec, kpt), or pass the config "
                               "file as the only argument")])
    if doc.get("apiVersion") not in RESOURCE_LIST_API_VERSIONS:
        raise UserError([Issue(Origin(INPUT, ("apiVersion",)), "unsupported ResourceList apiVersion",
                               f"use {RESOURCE_LIST_API_VERSIONS[0]}")])
    if not isinstance(doc.get("functionConfig"), dict):
        raise UserError([Issue(Origin(INPUT, ("functionConfig",)), "the ResourceList has no functionConfig",
                               "the generator config (kind: ConnectionGenerator) must be the functionConfig")])
    return doc


def to_result(issue: Issue, config_display: str, config: dict) -> dict:
    """A KRM `results` entry: message, severity and, where known, the file, field and resource."""
    message = issue.message + (f" (hint: {issue.hint})" if issue.hint else "")
    out: dict[str, Any] = {"message": message, "severity": issue.severity}  # error or warning, as KRM spells them
    origin = issue.origin
    if origin is None:
        return out
    if origin.file == config_display:
        found = config.get("metadata")
        metadata = found if isinstance(found, dict) else {}
        ref = {"apiVersion": config.get("apiVersion"), "kind": config.get("kind"), "name": metadata.get("name"),
               "namespace": metadata.get("namespace")}
        out["resourceRef"] = {k: v for k, v in ref.items() if isinstance(v, str)}
    if origin.file != INPUT and os.path.isfile(origin.file):  # False, not an error, for a name too long to be one
        out["file"] = {"path": origin.file}
    if origin.path:
        out["field"] = {"path": dotted(origin.path)}
    return out


class _NoAliasDumper(_Dumper):
    """All items share one document: an anchor in one and an alias in another breaks kyaml."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _dump(resource_list: dict) -> str:
    return yaml.dump(resource_list, Dumper=_NoAliasDumper, sort_keys=False, default_flow_style=False,
                     allow_unicode=True, width=4096, explicit_start=True)


def run(text: str | None, out: TextIO, err: TextIO, environ: dict[str, str]) -> int:
    """One function call (`text`: the ResourceList; None reads it from stdin); paths resolve against
    the working directory (the kustomization's)."""
    call = _Call(out, err)
    return guarded(lambda: call.run(text, environ), err, call.refuse)


class _Call:
    """One function call, and what is known of its config so far: the results of a refusal name it."""

    def __init__(self, out: TextIO, err: TextIO):
        self.out, self.err = out, err
        self.config: dict = {}
        self.display = FUNCTION_CONFIG
        self.warnings: list[Issue] = []

    def run(self, text: str | None, environ: dict[str, str]) -> int:
        from generator.read.kustomization import original_config
        from generator.pipeline import generate, load
        from generator.report import print_issues
        from generator.read.stdin import read_stdin

        root = Path(os.getcwd())
        self.config = read_resource_list(read_stdin() if text is None else text)["functionConfig"]
        authored = without_reserved(self.config)
        self.display = original_config(root, authored, without_reserved) or self.display
        loaded, self.warnings = load(authored, self.display, root)
        result = generate(loaded, environ, self.warnings)
        print_issues(result.warnings, self.err)
        resource_list: dict[str, Any] = {"apiVersion": RESOURCE_LIST_API_VERSIONS[0], "kind": "ResourceList",
                                         "items": result.objects}
        if result.warnings:
            resource_list["results"] = [to_result(i, self.display, self.config) for i in result.warnings]
        self.out.write(_dump(resource_list))
        return EXIT_OK

    def refuse(self, exc: UserError) -> None:
        """The problems on stderr (kustomize shows them) and as `results` (kpt reads them), with no items."""
        from generator.report import print_issues

        raised = {(i.origin, i.message) for i in exc.issues}  # under strict, the warnings come back as errors
        issues = [w for w in self.warnings if (w.origin, w.message) not in raised] + exc.issues
        print_issues(issues, self.err)
        results = [to_result(i, self.display, self.config) for i in issues]
        self.out.write(_dump({"apiVersion": RESOURCE_LIST_API_VERSIONS[0], "kind": "ResourceList", "items": [],
                              "results": results}))
