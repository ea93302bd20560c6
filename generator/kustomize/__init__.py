"""The kustomize plugin entry points: the legacy exec plugin and the KRM function."""
