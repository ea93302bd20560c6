"""Typed records: what the catalog and the generator config mean, and the facts they rest on."""
