"""The exec plugin's old name: scripts `conngen install` wrote before the move into sub-packages run
`from generator.plugin import main`, and `python -m generator.plugin` was documented; both keep
working after an upgrade.
The plugin itself is generator/kustomize/plugin.py."""

import sys

from generator.kustomize.plugin import main, run

__all__ = ["main", "run"]

if __name__ == "__main__":
    sys.exit(main())
