"""Reading inputs: YAML files, their schemas, sops files; model records out."""
