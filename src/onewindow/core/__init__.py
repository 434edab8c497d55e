"""Shared kernel: clock, errors, audit, security, ids, pdf, qr."""
