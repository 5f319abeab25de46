"""The local k-NN datastore: similarity caching (being written)."""
__all__: list[str] = []
