"""Application settings, read once from the environment (prefix ``ONEWINDOW_``)."""

from __future__ import annotations

import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER_SECRETS = {"changeme", "change-me", "secret", "please-change", ""}


class Settings(BaseSettings):
    """Every tunable of the platform; one instance per process."""

    model_config = SettingsConfigDict(env_prefix="ONEWINDOW_", env_file=None, extra="ignore")

    database_url: str = "sqlite:///./var/onewindow.db"
    # SQLite's fsync per commit: "full" (DESIGN rule 4: a 2xx survives a power loss) or "normal" (WAL synced at
    # checkpoints: a 2xx survives a crash of the server, not of the machine; several times more commits a second)
    sqlite_synchronous: Literal["full", "normal"] = "full"
    # Signs nothing by itself (sessions are random tokens stored hashed) but seeds CSRF tokens
    # and QR links; a random per-process default is safe for the embedded demo.
    secret_key: str = secrets.token_urlsafe(32)
    base_url: str = "http://127.0.0.1:8000"
    environment: str = "development"
    session_hours: int = 12
    api_token_days: int = 90
    session_idle_minutes: int = 30  # a staff web session unused this long ends (0 = never idle out)
    # sign-in throttling (shared by every worker through the database): failures within the window before
    # the account, or the client address, is locked for the lockout
    login_account_failures: int = 5
    login_address_failures: int = 20
    login_window_minutes: int = 15
    login_lockout_minutes: int = 15
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
    # 取号 without signing in (the public API and the kiosk page): tickets one client address may take per
    # hour, counted in the database (shared by every worker); 0 = no limit. Hall kiosks are exempt by address.
    ticket_anonymous_per_hour: int = 20
    ticket_kiosk_addresses: list[str] = []
    # the public hall state (大厅排队实况) is answered from one read for this many seconds per worker; 0 = each time
    hall_state_cache_seconds: float = 1.0
    # what the public queue calls read and seldom changes (halls and categories by code, a wait estimate's open
    # windows and mean service times), kept per worker for this many seconds; 0 = read each time
    queue_cache_seconds: float = 1.0
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
    # 绩效考核 (monthly staff performance; see staff.performance): part weights, the minimum sample of served
    # tickets below which nobody is ranked, points off per upheld complaint / overdue step, 服务明星 per month,
    # the opening hours used when a hall's text names none, and the minutes of grace before late / early leave
    performance_weight_volume: float = 25
    performance_weight_efficiency: float = 15
    performance_weight_satisfaction: float = 25
    performance_weight_complaints: float = 15
    performance_weight_overdue: float = 10
    performance_weight_attendance: float = 10
    performance_min_sample: int = 20
    performance_complaint_penalty: float = 20
    performance_overdue_penalty: float = 10
    performance_stars: int = 3
    performance_red_flag_to: Literal["window", "department"] = "window"  # who carries the 流动红旗
    performance_norm_minutes: float = 10  # a category's service norm when its hall sets none
    attendance_default_hours: str = "9:00-12:00，13:00-17:00"
    attendance_grace_minutes: int = 5
    # 智能导办: fuse the lexical search with the bundled semantic model (falls back to lexical when the
    # model package is absent); CPU threads one question's encode may use
    guide_semantic: bool = True
    guide_semantic_threads: int = 1
    # 排班 (staffing planner): the wait target per hour (practice: under 15 minutes on average) and the
    # shift rules the roster keeps (see planning.roster.ShiftRules)
    planning_target_mean_min: float = 15.0
    planning_target_p90_min: float | None = None  # none: the mean alone
    planning_min_shift_hours: int = 3
    planning_max_hours_per_day: int = 7
    planning_lunch_from_hour: int = 11  # everyone working across noon takes one hour off in [from, to)
    planning_lunch_to_hour: int = 14
    planning_scenario_path: Path | None = None  # the hall a plan falls back to without history (default: reference)
    # 回访 (callbacks on finished cases, 应访尽访): each working day a share of each department's finished cases,
    # at least a minimum, nobody called again within N days; tasks due within N working days of the draw
    callback_sample_rate: float = 0.1
    callback_min_per_department: int = 3
    callback_no_repeat_days: int = 30
    callback_due_working_days: int = 2
    callback_max_attempts: int = 3  # unanswered calls before a task is closed as 未联系上
    # 体验员 reports: at most this many photos per report (each checked like any upload, see UPLOAD_MAX_BYTES)
    experience_max_photos: int = 6
    # 电子监察 alert rules (supervision/rules.py): thresholds, local practice varies
    supervision_step_min_working_days: int = 1  # a review step's own limit: its share of the promised days, ≥ this
    supervision_deferral_warn_working_days: int = 1  # 容缺 materials due within N working days and still missing
    supervision_ticket_wait_min: int = 30  # a ticket waiting longer than this
    supervision_queue_length: int = 15  # waiting tickets of a category, with a qualified window paused or unstaffed
    supervision_window_idle_min: int = 30  # a signed-in window with no call for this long while tickets wait
    supervision_absence_grace_min: int = 15  # a scheduled clerk not signed in this long after opening
    supervision_order_warn_working_days: int = 1  # a 差评 work order due within N working days and still open
    supervision_hall_department_code: str = "ZWFW"  # the department answering for hall alerts (综合窗口)

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


def for_serving(settings: Settings, *, host: str, port: int) -> Settings:
    """The settings of a server on ``host:port``: QR codes and PDF links point where it serves.

    ``ONEWINDOW_BASE_URL`` wins when set (a proxy or a public name in front); otherwise the links use
    the port actually served (``PORT=9000 make run`` links to 9000), a wildcard host read as loopback.
    """
    if "base_url" in settings.model_fields_set:
        return settings
    shown_host = "127.0.0.1" if host in {"", "0.0.0.0", "::"} else host  # noqa: S104 - only compared
    if ":" in shown_host:
        shown_host = f"[{shown_host}]"
    return settings.model_copy(update={"base_url": f"http://{shown_host}:{port}"})
