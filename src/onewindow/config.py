"""Application settings, read once from the environment (prefix ``ONEWINDOW_``)."""

from __future__ import annotations

import secrets
from functools import lru_cache
from pathlib import Path

from pydantic import field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER_SECRETS = {"changeme", "change-me", "secret", "please-change", ""}


class Settings(BaseSettings):
    """Every tunable of the platform; one instance per process."""

    model_config = SettingsConfigDict(env_prefix="ONEWINDOW_", env_file=None, extra="ignore")

    database_url: str = "sqlite:///./var/onewindow.db"
    # Signs nothing by itself (sessions are random tokens stored hashed) but seeds CSRF tokens
    # and QR links; a random per-process default is safe for the embedded demo.
    secret_key: str = secrets.token_urlsafe(32)
    base_url: str = "http://127.0.0.1:8000"
    environment: str = "development"
    session_hours: int = 12
    api_token_days: int = 90
    cookie_secure: bool = False
    jobs_enabled: bool = True
    # 预约 rules (local practice varies): see appointments.service.BookingRules.
    appointment_horizon_days: int = 14
    appointment_max_active_per_person: int = 3
    appointment_no_show_limit: int = 3
    appointment_no_show_window_days: int = 30
    appointment_no_show_block_days: int = 7
    appointment_check_in_early_min: int = 30
    # 办件 rules (local practice varies)
    case_deferral_working_days: int = 10  # 容缺: deferred materials due within N working days
    case_auto_approve: bool = True
    # 整改 (rectification of 差评, callbacks, experiencer reports, complaints; local practice: 5, 7 or 15)
    rectification_working_days: int = 5  # working days to rectify, from the day rectification starts
    rectification_max_extension_days: int = 10  # most working days one extension may add
    # 有诉即办 / 12345 (local practice varies): limits in working days from the day after 受理, per category
    complaint_limit_consult_days: int = 2  # 咨询
    complaint_limit_help_days: int = 10  # 求助
    complaint_limit_suggest_days: int = 10  # 建议
    complaint_limit_complain_days: int = 15  # 投诉
    complaint_limit_report_days: int = 15  # 举报
    complaint_urgent_hours: int = 0  # urgent orders: 0 = by the end of the day of 受理, else N hours after it
    complaint_sign_hours: int = 24  # 签收 within N (natural) hours of 派单
    complaint_urge_every_hours: int = 24  # an overdue order is urged (催办) again every N hours
    complaint_public_per_hour: int = 5  # complaints one client may file on the public page per hour
    # 好差评 (local practice varies): a visit may be rated within N days of its end; 0 days = off for the
    # 默认评价 (an unrated finished case / served visit becomes 基本满意 after N days)
    rating_window_days: int = 7
    rating_default_after_days: int = 0
    # public lookups (办件进度查询, 证照核验): failed attempts per client in 10 minutes before a 429
    public_lookup_failures: int = 20  # 秒批: instant items whose required materials all come from the library
    # 网上申报 attachments: content-addressed files under this directory (see cases.uploads).
    upload_dir: Path = Path("./var/uploads")
    upload_max_bytes: int = 10 * 1024 * 1024
    # Where the 一次性告知书 and other PDFs find a CJK font; the first existing path wins.
    cjk_font_paths: list[str] = [
        "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
        "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
        "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    ]
    # 消息通知 (notifications outbox): how messages leave (console logs them; http posts JSON), and retries
    notify_sender: str = "console"  # console | http
    notify_http_url: str = ""  # the SMS gateway the http sender posts sms messages to
    notify_http_timeout: float = 5.0  # seconds per HTTP request
    notify_max_attempts: int = 6  # a message is marked failed after this many failed sends
    # 好差评 provincial push: ratings are posted here through the outbox (empty: no push)
    ratings_push_url: str = ""

    @field_validator("secret_key")
    @classmethod
    def _refuse_placeholder(cls, value: str) -> str:
        if value.strip().lower() in PLACEHOLDER_SECRETS:
            raise ValueError("ONEWINDOW_SECRET_KEY 不能使用占位值，请设置随机密钥")
        return value

    @property
    def is_sqlite(self) -> bool:
        """True when the configured database is the embedded SQLite file."""
        return self.database_url.startswith("sqlite")

    def sqlite_path(self) -> Path | None:
        """The SQLite file path, or None for in-memory and non-SQLite databases."""
        if not self.is_sqlite:
            return None
        raw = self.database_url.split("///", 1)[1] if "///" in self.database_url else ""
        if not raw or raw == ":memory:":
            return None
        return Path(raw)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (tests build their own ``Settings`` instead)."""
    return Settings()
