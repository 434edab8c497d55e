"""`make run` / `onewindow serve`: QR codes and PDF links point at the port the app serves on."""

from __future__ import annotations

import pytest

from onewindow.config import Settings, for_serving


def test_links_follow_the_served_port_unless_a_base_url_is_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ONEWINDOW_BASE_URL", raising=False)
    assert for_serving(Settings(), host="127.0.0.1", port=9000).base_url == "http://127.0.0.1:9000"
    assert for_serving(Settings(), host="0.0.0.0", port=9001).base_url == "http://127.0.0.1:9001"  # noqa: S104
    assert for_serving(Settings(), host="::1", port=9002).base_url == "http://[::1]:9002"
    monkeypatch.setenv("ONEWINDOW_BASE_URL", "https://zwfw.example.cn")
    assert for_serving(Settings(), host="127.0.0.1", port=9000).base_url == "https://zwfw.example.cn"
