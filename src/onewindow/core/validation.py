"""Chinese messages for pydantic validation errors (no web framework: importers and forms use it too), and
:func:`clean` and :func:`clean_line`, the one way typed text is tidied before a service checks and stores it."""

from __future__ import annotations

from typing import Any

from onewindow.core.errors import Problem


def clean(value: Any, limit: int) -> str:
    """User text stripped and cut to ``limit`` characters (line breaks inside kept); None is the empty text."""
    return str(value or "").strip()[:limit]


def clean_line(value: Any, limit: int) -> str:
    """One line of user text: every run of white space (line breaks too) made one space, cut to ``limit``."""
    return " ".join(str(value or "").split())[:limit]

# Pydantic error type → Chinese message template (ctx values are formatted in).
_PYDANTIC_MESSAGES: dict[str, str] = {
    "missing": "此项必填",
    "string_type": "必须是文本",
    "string_too_short": "长度至少为 {min_length}",
    "string_too_long": "长度不能超过 {max_length}",
    "string_unicode": "文本包含无效字符（须为有效的 UTF-8）",
    "string_pattern_mismatch": "格式不正确",
    "int_type": "必须是整数",
    "int_parsing": "必须是整数",
    "int_from_float": "必须是整数",
    "float_type": "必须是数字",
    "float_parsing": "必须是数字",
    "bool_type": "必须是布尔值（true/false）",
    "bool_parsing": "必须是布尔值（true/false）",
    "greater_than": "必须大于 {gt}",
    "greater_than_equal": "必须大于或等于 {ge}",
    "less_than": "必须小于 {lt}",
    "less_than_equal": "必须小于或等于 {le}",
    "literal_error": "取值必须是 {expected} 之一",
    "enum": "取值必须是 {expected} 之一",
    "list_type": "必须是列表",
    "dict_type": "必须是对象",
    "model_type": "必须是对象",
    "model_attributes_type": "必须是对象",
    "extra_forbidden": "不允许的字段",
    "json_invalid": "JSON 格式错误",
    "date_parsing": "日期格式应为 YYYY-MM-DD",
    "date_from_datetime_parsing": "日期格式应为 YYYY-MM-DD",
    "datetime_parsing": "时间格式不正确",
    "value_error": "{error}",
    "too_short": "至少需要 {min_length} 项",
    "too_long": "最多 {max_length} 项",
}


def field_path(loc: tuple[Any, ...] | list[Any]) -> str:
    """``('body', 'materials', 2, 'name')`` → ``materials[2].name`` (request part dropped)."""
    parts = list(loc)
    if parts and parts[0] in {"body", "query", "path", "header", "cookie", "form"}:
        parts = parts[1:]
    out = ""
    for p in parts:
        if isinstance(p, int):
            out += f"[{p}]"
        else:
            out += ("." if out else "") + str(p)
    return out


def pydantic_problems(errors: list[dict[str, Any]] | Any) -> list[Problem]:
    """Translate pydantic error dicts into Problems with Chinese messages."""
    problems: list[Problem] = []
    for err in errors:
        etype = str(err.get("type", "value_error"))
        ctx = dict(err.get("ctx") or {})
        if "expected" in ctx:  # pydantic joins choices with an English "or"
            ctx["expected"] = str(ctx["expected"]).replace(" or ", "、")
        if etype == "value_error" and "error" in ctx:
            ctx["error"] = str(ctx["error"]).removeprefix("Value error, ")
        template = _PYDANTIC_MESSAGES.get(etype)
        try:
            message = template.format(**ctx) if template else f"输入无效（{err.get('msg', etype)}）"
        except (KeyError, IndexError):
            message = f"输入无效（{err.get('msg', etype)}）"
        problems.append(Problem(field_path(err.get("loc", ())), etype, message))
    return problems
