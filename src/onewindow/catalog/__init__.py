"""Service catalog (事项库) and public guides (办事指南)."""
