"""Planning: which Secrets and Jobs to make and where each credential goes. Pure: no I/O."""
