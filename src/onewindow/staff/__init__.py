"""Staff accounts, roles, sessions and API tokens (人员)."""
