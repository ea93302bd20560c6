"""`conngen init`: a working example directory in one command, with no secret in it.

The files are fixed text: only the registry URL (checked first, then written as a JSON
string, which YAML reads unchanged) and the builder vary, so what `init` writes is exactly
what the tests render and build. Nothing is written unless every file is new.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import click

from generator.errors import Issue, Origin, UserError

DEFAULT_REGISTRY = "https://registry.example.com/org/repo"  # RFC 2606 reserved names: nothing real is reached
IMAGE = "app:0.1.0"
#: the seed's connection each builder uses: its secret is mounted where that builder reads
CONNECTION = {"kaniko": "docker-connection-kaniko", "dockerizer": "docker-connection-dockerizer"}
_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")


def _catalog(url: str) -> str:
    u = json.dumps(url)
    return f"""\
# yaml-language-server: $schema=schemas/catalog.schema.json
# Polyaxon connections catalog: where images are pushed, and the Secret holding the login.
connections:
  - name: docker-connection-kaniko
    kind: registry
    schema:
      url: {u}
    secret:
      name: docker-conf
      mountPath: /kaniko/.docker
  - name: docker-connection-dockerizer
    kind: registry
    schema:
      url: {u}
    secret:
      name: docker-conf
      mountPath: /root/.docker
  - name: my-docker-registry
    kind: registry
    description: some description
    schema:
      url: {u}
    secret:
      name: docker-conf
      mountPath: /kaniko/.docker
"""


def _config(name: str, builder: str) -> str:
    tags = "    tags: [latest]\n" if builder == "kaniko" else ""  # the dockerizer pushes one destination
    return f"""\
# yaml-language-server: $schema=schemas/config.schema.json
apiVersion: conngen.dev/v1
kind: ConnectionGenerator
metadata:
  name: {name}
catalog: [connections.yaml]
# The Secret docker-conf is built from these at render time; see creds/README.
credentials:
  docker-conf:
    username: {{env: REGISTRY_USERNAME}}
    password: {{env: REGISTRY_PASSWORD}}
builds:
  - name: {name}-{builder}
    connection: {CONNECTION[builder]}
    builder: {builder}
    image: {IMAGE}
{tags}    # the source to build: replace with your repository
    context: git://git.example.com/team/app.git#refs/heads/main
"""


KUSTOMIZATION = """\
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
# conngen runs as a kustomize exec plugin: `conngen install`, then build with --enable-alpha-plugins
generators:
  - generator.yaml
"""

CREDS_README = """\
Registry credentials for generator.yaml. Never commit real values.

generator.yaml reads them from the environment when it renders:

    export REGISTRY_USERNAME=<user>
    export REGISTRY_PASSWORD=<password or token>

To keep them in files instead, put them here (this directory's .gitignore keeps
everything but this README out of git) and change generator.yaml to:

    username: {file: creds/username}
    password: {file: creds/password}

A trailing newline in those files is ignored. To use an existing docker config.json
instead of a login, write `dockerConfig: {file: creds/config.json}` and drop username
and password.
"""

CREDS_GITIGNORE = """\
*
!README
!.gitignore
"""


def _readme(builder: str) -> str:
    return f"""\
# conngen example

A registry Secret and a {builder} build Job, generated from `connections.yaml` by
`generator.yaml`. From this directory:

```sh
export REGISTRY_USERNAME=<user> REGISTRY_PASSWORD=<password>   # see creds/README
conngen validate generator.yaml connections.yaml   # check the files
conngen explain generator.yaml                     # how credentials reach the builder
conngen render generator.yaml                      # print the Secret and Job
conngen install                                    # install the kustomize plugin
conngen doctor                                     # check kubectl/kustomize and the plugin
kubectl kustomize --enable-alpha-plugins .         # build with kustomize
kubectl kustomize --enable-alpha-plugins . | kubectl apply -f -
```

Editors that use yaml-language-server complete and check both files against
`schemas/`; refresh them after upgrading with `conngen schema config > schemas/config.schema.json`
and `conngen schema catalog > schemas/catalog.schema.json`.
"""


def schema_json(which: str) -> str:
    """The JSON Schema of the generator config ("config") or of the catalog, as `conngen schema` prints it."""
    from generator.read.catalog import catalog_schema
    from generator.read.config import config_schema

    return json.dumps(config_schema() if which == "config" else catalog_schema(), indent=2, sort_keys=True) + "\n"


def example_files(directory: Path, registry_url: str, builder: str) -> dict[str, str]:
    """Relative path → text of every file `init` writes."""
    name = directory.resolve().name.lower()
    name = name if _DNS_LABEL.fullmatch(name) and len(name) <= 40 else "example"
    return {
        "kustomization.yaml": KUSTOMIZATION,
        "generator.yaml": _config(name, builder),
        "connections.yaml": _catalog(registry_url),
        "creds/README": CREDS_README,
        "creds/.gitignore": CREDS_GITIGNORE,
        "schemas/config.schema.json": schema_json("config"),
        "schemas/catalog.schema.json": schema_json("catalog"),
        "README.md": _readme(builder),
    }


def _check_url(url: str) -> None:
    from generator.model.registry import AddressError, destinations, parse_registry_url

    try:
        destinations(parse_registry_url(url), IMAGE, ())
    except AddressError as exc:
        raise UserError([Issue(Origin("--registry-url"), str(exc), exc.hint)]) from None


def scaffold(directory: Path, registry_url: str, builder: str) -> list[Path]:
    """Write the example; refuse (naming the file) if any of its files already exists."""
    _check_url(registry_url)
    files = example_files(directory, registry_url, builder)
    existing = [directory / rel for rel in files if (directory / rel).exists() or (directory / rel).is_symlink()]
    if existing:
        raise UserError([Issue(Origin(str(path)), "already exists; conngen init never overwrites files",
                               "run init in a new or empty directory, or move the file away") for path in existing])
    written = []
    for rel, text in files.items():
        path = directory / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("x", encoding="utf-8") as fh:  # "x": fail rather than overwrite a file that just appeared
            fh.write(text)
        written.append(path)
    return written


@click.command()
@click.argument("directory", default=".", type=click.Path(file_okay=False))
@click.option("--registry-url", default=DEFAULT_REGISTRY, show_default=True,
              help="Registry (and repository prefix) the example pushes to.")
@click.option("--builder", type=click.Choice(sorted(CONNECTION)), default="kaniko", show_default=True,
              help="Builder of the example build.")
def init(directory: str, registry_url: str, builder: str) -> None:
    """Create a working example (catalog, generator config, kustomization) in DIRECTORY."""
    target = Path(directory)
    for path in scaffold(target, registry_url, builder):
        click.echo(f"created {path}")
    where = "" if target.resolve() == Path.cwd() else f"cd {directory}\n"
    click.echo(f"\nnext:\n{where}export REGISTRY_USERNAME=<user> REGISTRY_PASSWORD=<password>\n"
               "conngen render generator.yaml\n"
               "conngen install && kubectl kustomize --enable-alpha-plugins .\n"
               "(README.md lists more)")
