"""Experiment scripts and the runner (see experiments/README.md)."""
