"""No-regret caching learners (owned by the caching-learners work)."""
__all__: list[str] = []
