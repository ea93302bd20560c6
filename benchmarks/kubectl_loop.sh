#!/usr/bin/env bash
# Peer: one `kubectl create secret docker-registry` per registry, as a shell user would script it.
# Input: a TSV of name, server, user, password, email (gen_catalog.write_registries_tsv).
set -euo pipefail
while IFS=$'\t' read -r name server user pass email; do
  kubectl create secret docker-registry "$name" \
    --docker-server="$server" --docker-username="$user" --docker-password="$pass" \
    --docker-email="$email" --dry-run=client -o yaml
  echo ---
done < "$1"
