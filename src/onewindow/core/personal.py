"""Personal numbers at the edge: one mechanism masks them in every page and API response (DESIGN rule 8).

Pure. Numbers are stored whole. What leaves the server passes through ``shown`` (pages: the Jinja
``finalize`` hook, applied to every ``{{ … }}``) or ``mask_payload`` (JSON: the app's default response class),
so a template or schema that forgets about personal data still cannot leak it:

- a :class:`Personal` value (a number together with the record it belongs to) is shown whole only when
  the access policy's ``sees_whole`` says the viewer may (the record's own applicant, the handling
  department); otherwise masked;
- any other text has every valid 公民身份号码 and every mobile number in it masked;
- :class:`Typed` marks text that is not personal data of someone else: what the viewer typed into the form
  they are filling in, echoed back to them (``|typed``: a kiosk or intake form re-shown with an error), and
  the published contact numbers of offices and windows (``|public``: a guide's 咨询电话 may be a mobile).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from onewindow.core.access import Field, Record, Viewer, sees_whole
from onewindow.core.ids import is_valid_id_number, mask_id_number, mask_phone

_ID_IN_TEXT = re.compile(r"(?<![0-9A-Za-z])(\d{17}[\dXx])(?![0-9A-Za-z])")
_MOBILE_IN_TEXT = re.compile(r"(?<![0-9A-Za-z])(?:\+?86)?1[3-9]\d{9}(?![0-9A-Za-z])")
# Both patterns above need eleven digits in a row (a mobile number has eleven, an ID number eighteen): text
# without such a run holds nothing to mask (one scan in C instead of two substitutions).
_ELEVEN_DIGITS = re.compile(r"\d{11}")


class Personal:
    """A personal number and the record it belongs to; ``str()`` is always masked."""

    __slots__ = ("field", "record", "value")

    def __init__(self, value: str | None, field: Field, record: Record | None = None) -> None:
        self.value = value or ""
        self.field = field
        self.record = record

    def masked(self) -> str:
        """The number as anyone may see it."""
        return mask_id_number(self.value) if self.field is Field.ID_NUMBER else mask_phone(self.value)

    def shown_to(self, viewer: Viewer | None) -> str:
        """Whole when the access policy lets this viewer see it, else masked."""
        if self.value and sees_whole(viewer, self.field, self.record):
            return self.value
        return self.masked()

    def __str__(self) -> str:
        return self.masked()

    def __bool__(self) -> bool:
        return bool(self.value)

    def __repr__(self) -> str:
        return f"Personal({self.masked()!r}, {self.field.value})"


class Typed(str):
    """Text shown unmasked: the viewer's own input echoed into their form, or a published office number."""

    __slots__ = ()


def mask_text(text: str) -> str:
    """Mask every valid 公民身份号码 and every mobile number inside free text."""
    if len(text) < 11 or _ELEVEN_DIGITS.search(text) is None:
        return text
    text = _ID_IN_TEXT.sub(lambda m: mask_id_number(m[1]) if is_valid_id_number(m[1]) else m[0], text)
    return _MOBILE_IN_TEXT.sub(lambda m: mask_phone(m[0]), text)


def shown(value: Any, viewer: Viewer | None) -> Any:
    """What a page prints for ``value``: personal numbers masked unless the policy lets the viewer see them."""
    if isinstance(value, Personal):
        return value.shown_to(viewer)
    if isinstance(value, Typed):
        return str(value)
    if isinstance(value, str) and not hasattr(value, "__html__"):
        return mask_text(value)
    return value


_UNMASKED_TYPES = frozenset({int, float, bool, type(None)})  # JSON values that cannot hold a number to mask


def mask_payload(value: Any) -> Any:
    """A JSON payload with every personal number in its text masked (API responses)."""
    cls = type(value)  # the exact JSON types first (a payload is mostly these); subclasses take the general way
    if cls is str:
        return value if len(value) < 11 else mask_text(value)
    if cls is dict:
        return {k: mask_payload(v) for k, v in value.items()}
    if cls is list:
        return [mask_payload(v) for v in value]
    if cls in _UNMASKED_TYPES:
        return value
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, int | float):  # bool is an int
        return value
    if isinstance(value, Mapping):
        return {k: mask_payload(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [mask_payload(v) for v in value]
    if isinstance(value, Personal):
        return value.masked()
    return value
