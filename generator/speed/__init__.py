"""What exists only for speed: the warm-start render cache and the paused cycle collector."""
