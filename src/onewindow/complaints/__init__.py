"""有诉即办 / 12345: every request and complaint as a work order, answered within its limit."""
