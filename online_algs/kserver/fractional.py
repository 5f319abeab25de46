"""k-server: fractional (being written)."""
__all__: list[str] = []
