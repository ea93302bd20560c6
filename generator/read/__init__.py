"""Reading inputs: YAML files, their schemas, sops files, stdin, the files a kustomization names; model records out."""
