"""The `conngen` command line and its subcommands (Helm's post-renderer included)."""
