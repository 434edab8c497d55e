"""Supervision (电子监察 / 回访 / 体验员): alerts, callbacks on finished cases and experiencer reports."""
