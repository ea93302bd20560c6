"""What each GitOps lifecycle mode does to a builder Job: its name, its annotations, the TTL it can live with.

A Job's pod template cannot change after creation, so the render that follows a change must
either name a new Job or have the controller replace the old one (docs/lifecycle.md):

- ``plain`` and ``flux``: the Job name carries a hash of everything its pod template is made
  from, so a changed build is a new Job and an unchanged one is the same object. The Job must
  stay after it finishes: a controller that still has it in its desired state would re-create
  a deleted one and build again, so no TTL.
- ``argocd`` and ``helm``: the Job is a hook, deleted by the controller before the next sync
  or upgrade creates it again, under its plain build name. Hooks are not part of the desired
  state, so a TTL may clean them up.
"""

from __future__ import annotations

import msgspec
from msgspec import Struct

from generator.limits import MAX_DNS_LABEL
from generator.model.names import sha256

#: the part of a Job name that is the hash; the rest is the build name, cut to fit 63 characters.
HASH_LENGTH = 10


class Lifecycle(Struct, frozen=True):
    """One mode, as data: annotations it adds, whether Job names are hashed, whether a TTL is allowed."""

    name: str
    hashed_names: bool
    ttl_allowed: bool
    job_annotations: tuple[tuple[str, str], ...] = ()
    other_annotations: tuple[tuple[str, str], ...] = ()  # on the registry Secrets (and ExternalSecrets)
    why_no_ttl: str = ""


MODES = {mode.name: mode for mode in (
    Lifecycle("plain", hashed_names=True, ttl_allowed=False,
              why_no_ttl="the next apply (or a GitOps sync) re-creates a deleted Job and builds again"),
    Lifecycle("argocd", hashed_names=False, ttl_allowed=True,
              job_annotations=(("argocd.argoproj.io/hook", "Sync"),
                               ("argocd.argoproj.io/hook-delete-policy", "BeforeHookCreation")),
              other_annotations=(("argocd.argoproj.io/sync-wave", "-1"),)),
    Lifecycle("helm", hashed_names=False, ttl_allowed=True,
              job_annotations=(("helm.sh/hook", "post-install,post-upgrade"),
                               ("helm.sh/hook-delete-policy", "before-hook-creation"))),
    Lifecycle("flux", hashed_names=True, ttl_allowed=False,
              job_annotations=(("kustomize.toolkit.fluxcd.io/force", "enabled"),),
              why_no_ttl="kustomize-controller re-applies the Kustomization on every interval and re-creates "
                         "a deleted Job, which builds again"),
)}


_CANONICAL = msgspec.json.Encoder(order="sorted")  # one encoder, not one set up for every Job


def hashed_job_name(base: str, inputs: Struct, templates: str) -> str:
    """`<base>-<hash>`: the hash of the Job's inputs (canonical JSON) and of its templates' digest."""
    digest = sha256(_CANONICAL.encode(inputs))
    digest.update(b"\0" + templates.encode())
    head = base[: MAX_DNS_LABEL - HASH_LENGTH - 1].rstrip("-")
    return f"{head}-{digest.hexdigest()[:HASH_LENGTH]}"
