"""Test support shared by tests/ and proofs_check: hypothesis strategies and generators."""
