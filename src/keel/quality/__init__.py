"""The data-quality gate."""
