"""智能导办: natural-language search over items and bundles."""
