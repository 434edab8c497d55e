"""Supervision (电子监察 / 回访 / 体验员): alert rules and the alert inbox, callbacks, experiencer reports."""
