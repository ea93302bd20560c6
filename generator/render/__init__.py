"""Rendering plans through Jinja, the Secret data, the checks of what was rendered, the YAML stream."""
