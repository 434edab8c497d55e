"""Working-day calendar (工作日): official table, admin overrides, provisional years."""
