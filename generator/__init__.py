"""conngen: registry Secrets and image-builder Jobs from a connections catalog."""

__version__ = "0.1.0"
