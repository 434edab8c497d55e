"""免申即享: benefit policies, the entity register and the matcher."""
