"""Classic paging policies (owned by the caching-classic work)."""
__all__: list[str] = []
