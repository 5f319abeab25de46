"""Check modules, one per family; each registers its theorems with ``@theorem``."""
