"""`python -m generator` runs the same CLI as the `conngen` command."""

from generator.cli import main

main()
