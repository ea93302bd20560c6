"""In-process fuzz harness: seeded mutations of the fixtures through every entry point, with oracles.

One input is one fixture case (its generator config, its catalogs) mutated a few times, as data
(a value replaced by a hostile one, a key renamed or dropped, a list item repeated, a string
edited) or as text (bytes cut, repeated or spliced with YAML syntax), then fed to one target:

- `pipeline`: load → plan → render → emit (`pipeline.load`, `generate`, `emit.yaml_stream`),
- `plugin`: the exec plugin (`plugin.run`) twice with the render cache on: the second call may
  be a hit and must give the same exit code and bytes,
- `krm`: the KRM function (`krm.run`) with the config as functionConfig,
  (both through the handler a real process ends in, generator/exits.py: a crash is exit 3),
- `post-render`: a mutated chart stream through `helm.post_render`,
- `text`: the config's text mutated as bytes, through the plugin and the KRM function.

A canary password is planted in every credential source the config may use: an environment
variable, a file, a literal in the config, a dockerConfig file (with `auth`, or only
username/password, which conngen fills in) and a sops-encrypted file. Oracles, per input:
no exception but `UserError` (the entry points turn it into exit 1; a crash in one is exit 3,
with its exception's type on stderr); no canary outside a Secret's
`data`, raw, in JSON (Python's and Go's escapes) or base64 at each of the three alignments;
every object conngen generates passes `kubernetes-validate` (strict, the suite's version);
the emitted stream reads back as the objects.

Inputs are a pure function of (seed, index), so every finding is replayed by `--seed` and
`--only INDEX` (fuzz/run.py).
"""

from __future__ import annotations

import base64
import copy
import io
import json
import os
import random
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any, Callable

import yaml

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "fixtures"
K8S_VERSION = "1.31"  # tests/conftest.py's

CANARY = "Fz<cAnary>&Pw0rd-7c1"  # <, > and & so Go's JSON escapes differ from the raw text
USER = "fuzzer"
LITERAL = "<<fuzz-literal-password>>"  # stands in the data until the last step, so no mutation copies the canary
ENV = {"F_USER": USER, "F_PASS": CANARY}

TARGETS = ("pipeline", "plugin", "krm", "post-render", "text")


class Finding(AssertionError):
    """An input broke a promise: the message says which, never the canary."""


# -- the oracles ----------------------------------------------------------------------------

def forms(secret: str) -> list[str]:
    """Every way the secret could show up in text: raw, JSON-escaped, base64 at each alignment."""
    variants = {secret, json.dumps(secret)[1:-1], json.dumps(secret, ensure_ascii=False)[1:-1],
                secret.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")}
    found = set(variants)
    for text in variants:
        raw = text.encode("utf-8")
        for start in range(3):  # whatever precedes it, one of these starts on a 3-byte boundary
            part = raw[start:]
            part = part[: len(part) // 3 * 3]
            found.add(base64.b64encode(part).decode("ascii"))
            found.add(base64.urlsafe_b64encode(part).decode("ascii"))
    return sorted(found, key=len)


FORMS = forms(CANARY)


def _last_line(err: str) -> str:
    """What a crash left on stderr ("conngen: internal error (KeyError); ..."), checked for the canary first."""
    return err.rstrip("\n").rpartition("\n")[2][:200]


def check_text(text: str, where: str) -> None:
    for form in FORMS:
        if form in text:
            raise Finding(f"{where}: the canary is there (as {'raw' if form == CANARY else 'an encoded form'})")


def without_secret_data(obj: Any) -> Any:
    """The object with a Secret's data (the one place the canary may be) taken out."""
    if isinstance(obj, dict) and obj.get("kind") == "Secret":
        return {k: v for k, v in obj.items() if k not in ("data", "stringData")}
    return obj


class Validators:
    """kubernetes-validate's strict schemas, one compiled validator per kind (the library reloads them per call)."""

    def __init__(self) -> None:
        import jsonschema
        from kubernetes_validate import utils
        from referencing import Registry, Resource

        version = [v for v in utils.all_versions() if utils.major_minor(v) <= K8S_VERSION][-1]
        self._dir = f"kubernetes-json-schema/v{version}-local-strict"
        self._utils, self._jsonschema = utils, jsonschema
        definitions = Resource.from_contents(utils.schema_contents(f"{self._dir}/_definitions.json", K8S_VERSION))
        self._registry = definitions @ Registry()
        self._resource = Resource
        self._validators: dict[tuple[str, str], Any] = {}
        self._seen: dict[str, str | None] = {}

    def problem(self, obj: dict) -> str | None:
        """None if Kubernetes' schema accepts `obj`; kinds it has no schema for (ExternalSecret) pass."""
        key = json.dumps(obj, sort_keys=True)
        if key in self._seen:
            return self._seen[key]
        kind, api = obj.get("kind"), obj.get("apiVersion")
        if (kind, api) not in self._validators:
            name = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", str(api))
            try:
                schema = self._utils.schema_contents(f"{self._dir}/{str(kind).lower()}-{name}.json", K8S_VERSION)
            except FileNotFoundError:
                schema = None
            self._validators[(kind, api)] = None if schema is None else self._jsonschema.validators.Draft202012Validator(
                schema, registry=self._resource.from_contents(schema) @ self._registry)
        validator = self._validators[(kind, api)]
        if validator is None and not str(api).startswith("external-secrets.io/"):
            found: str | None = f"no Kubernetes schema for {kind} {api}"
        else:
            error = None if validator is None else next(iter(validator.iter_errors(obj)), None)
            found = None if error is None else f"{kind}: {error.message[:200]} at {list(error.absolute_path)}"
        if len(self._seen) > 20000:
            self._seen.clear()
        self._seen[key] = found
        return found


def check_objects(objects: list[dict], where: str, validators: Validators) -> None:
    check_text(json.dumps([without_secret_data(o) for o in objects]), where)
    for obj in objects:
        problem = validators.problem(obj)
        if problem is not None:
            raise Finding(f"{where}: an object fails kubernetes-validate: {problem}")


def check_stream(stream: str, where: str, validators: Validators, expected: list[dict] | None = None) -> list[dict]:
    objects = [d for d in yaml.load_all(stream, Loader=yaml.CSafeLoader) if d is not None]
    if expected is not None and objects != expected:
        raise Finding(f"{where}: the emitted stream does not read back as the rendered objects")
    check_objects(objects, where, validators)
    return objects


def check_messages(issues: list, where: str) -> None:
    from generator.report import format_issue

    check_text("\n".join(format_issue(i) for i in issues), where)


# -- the inputs -----------------------------------------------------------------------------

_STRINGS = ["", " ", "a", "reg", "docker-conf", "registry", "kaniko", "dockerizer", "buildkit", "buildah", "git",
            "s3", "gcs", "volume_claim", "host_path", "custom", "/kaniko/.docker", "/root/.docker", "/kaniko",
            "/workspace", "/", "rel/path", "..", "../x", "/etc/passwd", "https://r.example.com/org",
            "http://r.example.com:5000", "r.example.com/org/repo", "localhost:5000", "docker.io", "index.docker.io",
            "https://index.docker.io/v1/", "ftp://x", "https://u:p@r.example.com", "git://github.com/a/b.git",
            "https://github.com/a/b.git", "git@github.com:a/b.git", "dir:///w", "dir://rel", "s3://b/c.tgz",
            "gs://b/c.tar.gz", "app:1", "App:Latest", "org/app@sha256:" + "0" * 64, "0644", "0o600", "420", "0400",
            "no", "yes", "on", "null", "~", "true", "1e3", ".inf", "{{ x }}", "{% raw %}", "${X}", "$(X)",
            "\n---\n", "line\nbreak", "tab\t", "\x00", "\x1b[31m", "é", "☃", "𝄞", "a" * 300, "x" * 64, "-",
            "--insecure", "--destination=evil.example.com/x", "key: value", "#c", "&a", "*a", "!!str", "'", '"',
            "\\", "LoadRestrictionsNone", "LoadRestrictionsRootOnly", "ExternalSecret", "externalSecret",
            "config.json", ".dockerconfigjson", "Secret", "v1", "batch/v1", "fuzz-pass.txt", "fuzz-config.json",
            "connections.yaml", "creds", "templates", "/dev/zero", "kustomization.yaml", "ecr", "gcr", "acr",
            "helper", "dockerConfig", "SecretStore", "ClusterSecretStore", "1h", "Always", "IfNotPresent"]
_SCALARS: list[Any] = [0, 1, -1, 2, 420, 511, 0o644, 2 ** 31, 2 ** 63, 10 ** 30, 0.5, 1e308, True, False, None]
_CHARS = "aZ09-_./:@#&*!|>'\"%{}[],? \t\n\\$~=+<^`é☃\x00\x7f"
_YAML_BITS = ["&a ", "*a", "!!binary ", "!!python/object:os.system ", "!x ", "- ", ": ", "? ", "\t", "{", "}", "[",
              "]", "'", '"', "---\n", "...\n", "%YAML 1.1\n", "<<: *a\n", "\x00", "\ufeff", "\r", "#", "|\n", ">-\n",
              "\\u", "\\ud800", " &a [*a, *a]"]


class Case:
    """One fixture, copied once into its own root with the canary planted in every credential source."""

    def __init__(self, source: Path, root: Path, sops_file: str | None):
        shutil.copytree(source, root)
        self.root = root
        self.name = source.name
        self.config = yaml.safe_load((root / "generator.yaml").read_text())
        raw = self.config.get("catalog")
        self.catalogs = {name: yaml.safe_load((root / name).read_text())
                         for name in ([raw] if isinstance(raw, str) else raw or []) if (root / name).is_file()}
        (root / "fuzz-pass.txt").write_text(CANARY + "\n")
        (root / "fuzz-user.txt").write_text(USER + "\n")
        self.sops = sops_file is not None
        if sops_file is not None:
            shutil.copy(sops_file, root / "fuzz-login.enc.yaml")
        self.servers = self._servers()
        auth = base64.b64encode(f"{USER}:{CANARY}".encode()).decode()
        for style, entry in (("auth", {"auth": auth}), ("userpass", {"username": USER, "password": CANARY}),
                             ("both", {"username": USER, "password": CANARY, "auth": auth})):
            (root / f"fuzz-config-{style}.json").write_text(json.dumps({"auths": {s: entry for s in self.servers}}))
        (root / "fuzz-config.json").write_text(json.dumps({"auths": {s: {"auth": auth} for s in self.servers}}))
        self.kustomization = (root / "kustomization.yaml").read_text() if (root / "kustomization.yaml").is_file() else None

    def _servers(self) -> list[str]:
        """The auths keys the unmutated case's Secrets need, so dockerConfig files fit it."""
        from generator.pipeline import load
        from generator.plan.planner import make_plan

        try:
            config, _ = load(copy.deepcopy(self.config), "generator.yaml", self.root)
            return sorted({s for secret in make_plan(config).secrets for s in secret.servers})
        except Exception:  # noqa: BLE001 - a case that needs more (sops keys) just gets no servers
            return ["r.example.com"]


def _credential(rng: random.Random, case: Case) -> dict:
    """One credential, reading the canary from a source picked at random."""
    kind = rng.choice(["env", "env", "file", "literal", "docker-auth", "docker-userpass", "docker-both", "mixed"]
                      + (["sops"] if case.sops and rng.random() < 0.05 else []))
    if kind == "env":
        return {"username": {"env": "F_USER"}, "password": {"env": "F_PASS"}}
    if kind == "file":
        return {"username": {"file": "fuzz-user.txt"}, "password": {"file": "fuzz-pass.txt"}}
    if kind == "literal":
        return {"username": USER, "password": LITERAL}
    if kind == "mixed":
        return {"username": {"env": "F_USER"}, "password": {"file": "fuzz-pass.txt"}, "email": "a@example.com"}
    if kind == "sops":
        return {"username": {"sops": "fuzz-login.enc.yaml", "key": "username"},
                "password": {"sops": "fuzz-login.enc.yaml", "key": "password"}}
    return {"dockerConfig": {"file": f"fuzz-config-{kind.split('-')[1]}.json"}}


def _paths(node: Any, path: tuple = ()) -> list[tuple]:
    out = [path]
    if isinstance(node, dict):
        for key, value in node.items():
            out.extend(_paths(value, path + (key,)))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            out.extend(_paths(value, path + (i,)))
    return out


def _get(node: Any, path: tuple) -> Any:
    for part in path:
        node = node[part]
    return node


def _value(rng: random.Random, keys: list[str]) -> Any:
    pick = rng.random()
    if pick < 0.6:
        return rng.choice(_STRINGS)
    if pick < 0.85:
        return rng.choice(_SCALARS)
    if pick < 0.93:
        return [rng.choice(_STRINGS) for _ in range(rng.randint(0, 3))]
    return {rng.choice(keys): rng.choice(_STRINGS + _SCALARS) for _ in range(rng.randint(0, 2))}


def _edit_string(rng: random.Random, text: str) -> str:
    op = rng.randrange(6)
    at = rng.randint(0, len(text))
    if op == 0:
        return text[:at] + rng.choice(_CHARS) + text[at:]
    if op == 1 and text:
        return text[:at] + text[at + 1:]
    if op == 2:
        return text + rng.choice(_STRINGS)
    if op == 3:
        return text.upper() if rng.random() < 0.5 else text.swapcase()
    if op == 4:
        return text * rng.randint(2, 4)
    return rng.choice(_STRINGS) + text


def mutate(rng: random.Random, doc: Any, keys: list[str], times: int) -> Any:
    """`doc` changed `times` times; subtrees are only ever copied from outside `credentials`."""
    doc = copy.deepcopy(doc)
    for _ in range(times):
        paths = _paths(doc)
        path = rng.choice(paths)
        op = rng.randrange(7)
        if not path:
            if op == 0:
                doc = _value(rng, keys)
            continue
        parent, last = _get(doc, path[:-1]), path[-1]
        current = parent[last]
        if op == 0:
            parent[last] = _value(rng, keys)
        elif op == 1:
            del parent[last]
        elif op == 2 and isinstance(current, dict):
            current[rng.choice(keys)] = _value(rng, keys)
        elif op == 3 and isinstance(current, list) and current and path[0] != "credentials":
            current.append(copy.deepcopy(rng.choice(current)))
        elif op == 4 and isinstance(current, str):
            parent[last] = _edit_string(rng, current)
        elif op == 5 and isinstance(parent, dict):
            value = parent.pop(last)
            parent[rng.choice(keys)] = value
        elif op == 6 and isinstance(current, (int, float)) and not isinstance(current, bool):
            parent[last] = rng.choice([str(current), -current, current + 1, current * 8])
        else:
            parent[last] = _value(rng, keys)
    return doc


def mutate_text(rng: random.Random, text: str, times: int) -> str:
    for _ in range(times):
        at, end = sorted(rng.randint(0, len(text)) for _ in range(2))
        op = rng.randrange(5)
        if op == 0:
            text = text[:at] + text[end:][: rng.randint(0, 40)] + text[end:]  # repeat a piece
        elif op == 1:
            text = text[:at] + text[min(end, at + rng.randint(1, 30)):]  # cut a piece
        elif op == 2:
            text = text[:at] + rng.choice(_YAML_BITS) + text[at:]
        elif op == 3:
            text = text[:at] + rng.choice(_CHARS) + text[at + 1:]
        else:
            text = text[:at]  # truncated
    return text


def _dump(data: Any, **options: Any) -> str:
    return yaml.dump(data, Dumper=yaml.CSafeDumper, **options)


def _dump_all(data: Any, **options: Any) -> str:
    return yaml.dump_all(data, Dumper=yaml.CSafeDumper, **options)


def _label(obj: Any, name: str) -> Any:
    meta = obj.get("metadata") if isinstance(obj, dict) else None
    labels = meta.get("labels") if isinstance(meta, dict) else None
    return labels.get(name) if isinstance(labels, dict) else None


def _with_literal(config: Any) -> Any:
    """The canary in place of the stand-in, only where a literal password can be."""
    creds = config.get("credentials") if isinstance(config, dict) else None
    for entry in creds.values() if isinstance(creds, dict) else ():
        if isinstance(entry, dict) and entry.get("password") == LITERAL:
            entry["password"] = CANARY
    return config


_CHART = """\
apiVersion: v1
kind: ConfigMap
metadata: {name: rel-settings}
data: {a: "1"}
---
# Source: chart/templates/job.yaml
apiVersion: batch/v1
kind: Job
metadata:
  name: rel-build
  annotations: {conngen.dev/registry-connection: CONNECTION}
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: kaniko
          image: ghcr.io/osscontainertools/kaniko:v1.28.3
          args: [--context=git://github.com/acme/app.git, --destination=registry.example.com/team/app:1]
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: rel-web
  annotations: {conngen.dev/registry-connection: CONNECTION, conngen.dev/builder: dockerizer}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: nginx}]
"""


class Harness:
    """Everything one fuzz process keeps between inputs: the cases' roots, validators, a cache dir."""

    def __init__(self, workdir: Path, seed: int = 0):
        self.workdir = workdir
        self.seed = seed
        self.validators = Validators()
        self.environ = {**ENV, "XDG_CACHE_HOME": str(workdir / "cache"), "CONNGEN_CACHE": "on",
                        "PATH": os.environ.get("PATH", ""), "HOME": str(workdir)}
        sops_file = self._sops_file()
        if sops_file is not None:
            self.environ["SOPS_AGE_KEY_FILE"] = str(FIXTURES / "sops-credentials" / "test-only-age.key")
        self.cases = [Case(d, workdir / "cases" / d.name, sops_file)
                      for d in sorted(p.parent for p in FIXTURES.glob("*/generator.yaml"))]
        keys = set()
        for case in self.cases:
            for doc in [case.config, *case.catalogs.values()]:
                keys.update(p[-1] for p in _paths(doc) if p and isinstance(p[-1], str))
        self.keys = sorted(keys) + ["", "unknown", "x"]

    def _sops_file(self) -> str | None:
        """login.enc.yaml: the canary as the password, encrypted with the sops fixture's age key."""
        key = FIXTURES / "sops-credentials" / "test-only-age.key"
        sops = shutil.which("sops")
        if sops is None or not key.is_file():
            return None
        public = re.search(r"public key: (\S+)", key.read_text())
        plain = self.workdir / "login.yaml"
        plain.write_text(_dump({"username": USER, "password": CANARY}))
        done = subprocess.run([sops, "--encrypt", "--age", public.group(1) if public else "", str(plain)],
                              capture_output=True, text=True, check=False, timeout=60)
        plain.unlink()
        if done.returncode != 0:
            return None
        target = self.workdir / "login.enc.yaml"
        target.write_text(done.stdout)
        return str(target)

    def input(self, index: int) -> tuple[str, Case, Any, dict]:
        """The target, case, config and catalogs of input `index`: a pure function of (seed, index)."""
        rng = random.Random(f"{self.seed}:{index}")
        target = TARGETS[index % len(TARGETS)]
        case = rng.choice(self.cases)
        config = copy.deepcopy(case.config)
        if isinstance(config.get("credentials"), dict):
            config["credentials"] = {name: entry if isinstance(entry, dict) and "externalSecret" in entry
                                     else _credential(rng, case) for name, entry in config["credentials"].items()}
        times = min(1 + int(rng.expovariate(1.0)), 8)
        if rng.random() < 0.65:
            config = mutate(rng, config, self.keys, times)
        catalogs = {name: mutate(rng, doc, self.keys, rng.randint(1, 3)) if rng.random() < 0.3 else doc
                    for name, doc in case.catalogs.items()}
        return target, case, config, {"catalogs": catalogs, "rng": rng, "times": times}

    def run(self, index: int) -> str:
        """Feed input `index` to its target; raise Finding (or any other exception: also a finding).

        Returns the target and how it ended ("ok": objects rendered and checked, "refused": a
        user error, its messages checked), so a run shows how deep its inputs got.
        """
        target, case, config, more = self.input(index)
        for name, doc in more["catalogs"].items():
            (case.root / name).write_text(_dump(doc, allow_unicode=True))
        os.chdir(case.root)
        runner: Callable[..., str] = getattr(self, "_" + target.replace("-", "_"))
        return f"{target} {runner(case, config, more)}"

    # -- targets --------------------------------------------------------------------------

    def _pipeline(self, case: Case, config: Any, more: dict) -> str:
        from generator.render.emit import yaml_stream
        from generator.errors import UserError
        from generator.pipeline import generate, load

        try:
            loaded, warnings = load(_with_literal(config), "generator.yaml", case.root)
            result = generate(loaded, self.environ, warnings)
        except UserError as exc:
            check_messages(exc.issues, "pipeline error")
            return "refused"
        check_messages(result.warnings, "pipeline warning")
        check_stream(yaml_stream(result.objects), "pipeline output", self.validators, result.objects)
        return "ok"

    def _plugin(self, case: Case, config: Any, more: dict) -> str:
        from generator.kustomize.plugin import run

        path = case.root / "generator.yaml"
        path.write_text(_dump(_with_literal(config), allow_unicode=True))
        environ = {**self.environ, "KUSTOMIZE_PLUGIN_CONFIG_ROOT": str(case.root)}
        runs = []
        for _ in range(2):  # the second may be served by the render cache: same code, same bytes
            out, err = io.StringIO(), io.StringIO()
            runs.append((run(str(path), out, err, environ), out.getvalue(), err.getvalue()))
        if runs[0] != runs[1]:
            raise Finding("plugin: a repeated build (render cache) differs from the first")
        code, out, err = runs[0]
        check_text(err, "plugin stderr")
        if code == 0:
            check_stream(out, "plugin output", self.validators)
        elif code != 1 or out:
            raise Finding(f"plugin: exit {code} with {len(out)} characters on stdout: {_last_line(err)}")
        return "ok" if code == 0 else "refused"

    def _krm(self, case: Case, config: Any, more: dict) -> str:
        from generator.kustomize.krm import run

        resource_list = {"apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList", "items": [],
                         "functionConfig": _with_literal(config)}
        return self._krm_text(_dump(resource_list, allow_unicode=True), "krm", run)

    def _krm_text(self, text: str, where: str, run: Callable) -> str:
        out, err = io.StringIO(), io.StringIO()
        code = run(text, out, err, self.environ)
        check_text(err.getvalue(), f"{where} stderr")
        if code not in (0, 1):
            raise Finding(f"{where}: exit {code}: {_last_line(err.getvalue())}")
        doc = yaml.load(out.getvalue(), Loader=yaml.CSafeLoader)
        check_text(json.dumps(doc.get("results") or []), f"{where} results")
        items = doc.get("items") or []
        if code == 1 and items:
            raise Finding(f"{where}: exit 1 with items")
        check_objects(items, f"{where} items", self.validators)
        return "ok" if code == 0 else "refused"

    def _post_render(self, case: Case, config: Any, more: dict) -> str:
        from generator.errors import UserError
        from generator.commands.helm import post_render
        from generator.pipeline import load

        rng: random.Random = more["rng"]
        connections = [c.get("name") for doc in [config, *more["catalogs"].values()] if isinstance(doc, dict)
                       and isinstance(doc.get("connections"), list)
                       for c in doc["connections"] if isinstance(c, dict) and c.get("kind") == "registry"]
        chart = _CHART.replace("CONNECTION", json.dumps(str(rng.choice(connections)), ensure_ascii=False)
                               if connections else "none")  # (ASCII escapes of astral characters are not YAML's)
        if rng.random() < 0.5:
            docs = list(yaml.safe_load_all(chart))
            mutated = mutate(rng, docs, self.keys, rng.randint(1, 4))
            chart = _dump_all(mutated if isinstance(mutated, list) else [mutated], allow_unicode=True)
        elif rng.random() < 0.5:
            chart = mutate_text(rng, chart, rng.randint(1, 4))
        try:
            loaded, warnings = load(_with_literal(config), "generator.yaml", case.root)
            out, warnings = post_render(chart, loaded, self.environ, warnings)
        except UserError as exc:
            check_messages(exc.issues, "post-render error")
            return "refused"
        check_messages(warnings, "post-render warning")
        objects = [d for d in yaml.load_all(out, Loader=yaml.CSafeLoader) if d is not None]
        check_text(json.dumps([without_secret_data(o) for o in objects]), "post-render output")
        ours = [o for o in objects if _label(o, "app.kubernetes.io/managed-by") == "conngen"]
        check_objects(ours, "post-render output", self.validators)
        return "ok"

    def _text(self, case: Case, config: Any, more: dict) -> str:
        """The config's text mutated as bytes: no literal canary in it, every other source as usual."""
        from generator.kustomize.krm import run as krm_run
        from generator.kustomize.plugin import run as plugin_run

        rng: random.Random = more["rng"]
        if isinstance(config, dict) and isinstance(config.get("credentials"), dict):
            config["credentials"] = {k: {"username": {"env": "F_USER"}, "password": {"env": "F_PASS"}}
                                     for k in config["credentials"]}
        text = mutate_text(rng, _dump(config, allow_unicode=True), more["times"])
        path = case.root / "generator.yaml"
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        out, err = io.StringIO(), io.StringIO()
        code = plugin_run(str(path), out, err, {**self.environ, "KUSTOMIZE_PLUGIN_CONFIG_ROOT": str(case.root)})
        check_text(err.getvalue(), "text: plugin stderr")
        if code == 0:
            check_stream(out.getvalue(), "text: plugin output", self.validators)
        elif code != 1:
            raise Finding(f"text: plugin exit {code}: {_last_line(err.getvalue())}")
        lines = text.splitlines(keepends=True)
        wrapped = "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: []\nfunctionConfig:\n" + \
            "".join("  " + line for line in lines)
        return ("ok" if code == 0 else "refused") + "/" + self._krm_text(wrapped, "text: krm", krm_run)


def new_harness(seed: int = 0) -> tuple[Harness, tempfile.TemporaryDirectory]:
    workdir = tempfile.TemporaryDirectory(prefix="conngen-fuzz-")
    return Harness(Path(workdir.name), seed), workdir
