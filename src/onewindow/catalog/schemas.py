"""The catalog's exchange shapes: the JSON of catalog-reference.json, also used by the API and forms.

Every model forbids unknown fields, so a typo in an import file is reported instead of ignored.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_validator

ItemType = Literal["行政许可", "行政给付", "行政确认", "行政裁决", "行政奖励", "行政备案", "其他行政权力", "公共服务"]
Audience = Literal["person", "enterprise", "both"]
Level = Literal["county", "town", "village"]
LimitUnit = Literal["working_day", "natural_day"]
Scope = Literal["全国通办", "跨省通办", "全省通办", "全市通办", "本级"]
MaterialForm = Literal["原件", "复印件", "电子"]
MaterialKind = Literal["证件证书证明", "申请表格文书", "其他"]
MaterialSource = Literal["申请人自备", "政府部门核发"]
Holder = Literal["person", "enterprise", "both"]

ITEM_TYPES: tuple[str, ...] = ("行政许可", "行政给付", "行政确认", "行政裁决", "行政奖励", "行政备案", "其他行政权力",
                               "公共服务")
SCOPES: tuple[str, ...] = ("全国通办", "跨省通办", "全省通办", "全市通办", "本级")
LEVELS: tuple[str, ...] = ("county", "town", "village")
LEVEL_LABELS: dict[str, str] = {"county": "县级", "town": "乡镇", "village": "村"}

T = TypeVar("T")

CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,59}$"


class Strict(BaseModel):
    """Base: unknown fields are errors, strings are stripped."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class MaterialIn(Strict):
    """申请材料 of an item."""

    name: str = Field(min_length=1, max_length=200)
    required: bool = True
    form: MaterialForm = "原件"
    copies: int = Field(default=1, ge=0, le=99)
    deferrable: bool = False
    certificate_type: str | None = None
    note: str | None = Field(default=None, max_length=2000)
    kind: MaterialKind | None = None
    source: MaterialSource | None = None

    @field_validator("certificate_type", mode="before")
    @classmethod
    def _blank_certificate_type_is_none(cls, value: object) -> object:
        # "" and null mean the same (no e-certificate); one spelling keeps the content hash stable.
        return None if isinstance(value, str) and not value.strip() else value


StepKindName = Literal["accept", "review", "decide", "issue", "complete"]
PerformerName = Literal["clerk", "approver", "dept_head"]
SuspensionKindName = Literal["hearing", "expert", "inspection", "other"]


class ProcedureStepIn(Strict):
    """One step of an item's procedure override, in the order of the item's ``steps``; unset keeps the derived value."""

    kind: StepKindName | None = None
    performer: PerformerName | None = None
    distinct_from_previous: bool | None = None  # 审批分离
    optional: bool | None = None  # （必要时）


class ProcedureIn(Strict):
    """An item's optional ``procedure`` object: what the step names and limits do not say (catalog/procedure.py).

    Without it the procedure is derived from the step names and limits; each key set here wins.
    """

    steps: list[ProcedureStepIn] | None = None
    max_extension_days: int | None = Field(default=None, ge=0, le=30)
    deferral_working_days: int | None = Field(default=None, ge=1, le=60)
    suspension_kinds: list[SuspensionKindName] | None = None
    separation_of_duties: bool | None = None

    def as_override(self) -> dict[str, Any]:
        """The keys that are set (the canonical, hashed form)."""
        return self.model_dump(mode="json", exclude_none=True)


class ItemIn(Strict):
    """A service item with every standard element (实施清单要素)."""

    code: str = Field(pattern=CODE_PATTERN)
    name: str = Field(min_length=2, max_length=200)
    type: ItemType
    department: str = Field(min_length=1, max_length=20)
    hall_category: str = Field(min_length=1, max_length=4)
    audience: Audience
    levels: list[Level] = Field(min_length=1)
    legal_limit_days: int = Field(ge=0, le=3650)
    promised_limit_days: int = Field(ge=0, le=3650)
    limit_unit: LimitUnit = "working_day"
    instant: bool = False
    max_visits: int = Field(ge=0, le=2)
    online_depth: int = Field(ge=1, le=4)
    scope: Scope = "本级"
    fee: str = Field(default="不收费", max_length=1000)
    basis: str = Field(default="", max_length=4000)
    conditions: str = Field(default="", max_length=8000)
    steps: list[str] = Field(default_factory=list)
    materials: list[MaterialIn] = Field(default_factory=list)
    keywords: list[str] = Field(default_factory=list)
    location: str = Field(default="", max_length=200)
    phone: str = Field(default="", max_length=40)
    # 办理结果: the e-certificate type an approval issues (营业执照, 食品经营许可证 …); None when the
    # result is not a certificate. Hashed and exported only when set, so older items keep their hash.
    result_certificate_type: str | None = None
    # 办理规则 override (step kinds, performers, 审批分离, extension and 容缺 limits, 特别程序 kinds);
    # hashed and exported only when set, so older items keep their hash.
    procedure: ProcedureIn | None = None

    @field_validator("result_certificate_type", mode="before")
    @classmethod
    def _blank_result_certificate_type_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("levels")
    @classmethod
    def _levels_in_canonical_order(cls, value: list[Level]) -> list[Level]:
        # Stored versions give levels back county → village; hashing the same order means an
        # exported and re-imported item is unchanged. Duplicates are kept for the rules to report.
        return sorted(value, key=LEVELS.index)


class RegionIn(Strict):
    """A region with its children (县 → 镇 → 村)."""

    code: str = Field(pattern=r"^\d{6,12}$")
    name: str = Field(min_length=1, max_length=60)
    level: Level
    children: list[RegionIn] = Field(default_factory=list)


class HallIn(Strict):
    """A service hall at a region."""

    code: str = Field(pattern=CODE_PATTERN, max_length=30)
    name: str = Field(min_length=2, max_length=100)
    level: Level
    region: str = Field(max_length=20)
    address: str = Field(default="", max_length=200)
    phone: str = Field(default="", max_length=30)
    opening_hours: str = Field(default="", max_length=100)


class DepartmentIn(Strict):
    """A department."""

    code: str = Field(pattern=r"^[A-Z][A-Z0-9_]{0,19}$")
    name: str = Field(min_length=2, max_length=100)
    short_name: str = Field(min_length=1, max_length=30)


class HallCategoryIn(Strict):
    """A hall ticket category (A..Z)."""

    code: str = Field(pattern=r"^[A-Z]$")
    name: str = Field(min_length=1, max_length=60)


class CertificateTypeIn(Strict):
    """An e-certificate type."""

    code: str = Field(pattern=r"^[A-Z][A-Z0-9_]{0,39}$")
    name: str = Field(min_length=1, max_length=60)
    issuer: str = Field(min_length=1, max_length=100)
    holder: Holder


class BundleIn(Strict):
    """一件事: items handled together."""

    code: str = Field(pattern=CODE_PATTERN, max_length=40)
    name: str = Field(min_length=2, max_length=100)
    lead_department: str = Field(max_length=20)
    items: list[str] = Field(min_length=2)
    promised_limit_days: int = Field(ge=0, le=3650)
    description: str = ""
    default_consent: bool = False


class NegativeEntryIn(Strict):
    """进驻负面清单 entry."""

    item: str
    reason: str = Field(min_length=2, max_length=2000)


class PolicyIn(Strict):
    """免申即享 policy (conditions are validated by the policies domain)."""

    code: str = Field(pattern=CODE_PATTERN, max_length=40)  # policy.code is VARCHAR(40)
    name: str = Field(min_length=2, max_length=200)
    department: str
    audience: Literal["person", "enterprise"]
    benefit: str = ""
    amount_yuan: Decimal | None = Field(default=None, ge=0)
    conditions: list[dict[str, Any]] = Field(default_factory=list)
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None
    basis: str = ""


class EntityFieldIn(Strict):
    """A typed field of the entity register."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]{0,59}$")
    type: Literal["int", "float", "str", "bool", "list[str]"]
    label: str = Field(min_length=1, max_length=100)


class EntityFieldsIn(Strict):
    """Register fields by entity kind."""

    enterprise: list[EntityFieldIn] = Field(default_factory=list)
    person: list[EntityFieldIn] = Field(default_factory=list)


class CatalogIn(Strict):
    """A whole catalog file (the shape of catalog-reference.json); every section is optional."""

    region: RegionIn | None = None
    halls: list[HallIn] = Field(default_factory=list)
    departments: list[DepartmentIn] = Field(default_factory=list)
    hall_categories: list[HallCategoryIn] = Field(default_factory=list)
    certificate_types: list[CertificateTypeIn] = Field(default_factory=list)
    items: list[ItemIn] = Field(default_factory=list)
    bundles: list[BundleIn] = Field(default_factory=list)
    negative_list: list[NegativeEntryIn] = Field(default_factory=list)
    policies: list[PolicyIn] = Field(default_factory=list)
    entity_fields: EntityFieldsIn | None = None
    # Codes of items (in this file or already stored) that are retired (停用). An import retires
    # them and never puts an item back in service: that stays a deliberate admin action.
    retired_items: list[str] = Field(default_factory=list)


# ----- API output shapes -----------------------------------------------------------------------


class MaterialOut(BaseModel):
    """A material as shown to applicants and clients."""

    name: str
    required: bool
    form: str
    copies: int
    deferrable: bool
    certificate_type: str | None
    certificate_type_name: str | None
    note: str | None
    kind: str | None
    source: str | None


class ItemSummary(BaseModel):
    """A row of the item list."""

    code: str
    name: str
    type: str
    department: str
    department_name: str
    hall_category: str
    audience: str
    levels: list[str]
    instant: bool
    online_depth: int
    max_visits: int
    legal_limit_days: int
    promised_limit_days: int
    limit_unit: str
    status: str
    version: int


class ItemDetail(ItemSummary):
    """An item with all its standard elements."""

    scope: str
    fee: str
    basis: str
    conditions: str
    steps: list[str]
    materials: list[MaterialOut]
    keywords: list[str]
    location: str
    phone: str
    negative_list_reason: str | None
    bundles: list[str]
    updated_at: dt.datetime
    result_certificate_type: str | None = None
    result_certificate_type_name: str | None = None


class Page(BaseModel, Generic[T]):
    """A page of results with the total count."""

    items: list[T]
    total: int
    limit: int
    offset: int


class BundleOut(BaseModel):
    """一件事 with its member items."""

    code: str
    name: str
    lead_department: str
    lead_department_name: str
    promised_limit_days: int
    description: str
    default_consent: bool
    status: str
    items: list[ItemSummary]


class DepartmentOut(BaseModel):
    """A department with its item count."""

    code: str
    name: str
    short_name: str
    item_count: int


class RegionOut(BaseModel):
    """A region node with children."""

    code: str
    name: str
    level: str
    children: list[RegionOut] = Field(default_factory=list)


class OpeningPeriodOut(BaseModel):
    """One opening period of a hall's working day (local time)."""

    start: str = Field(description="开始时间 HH:MM")
    end: str = Field(description="结束时间 HH:MM")


class HallOut(BaseModel):
    """A hall."""

    code: str
    name: str
    level: str
    region: str
    region_name: str
    address: str
    phone: str
    opening_hours: str
    opening_periods: list[OpeningPeriodOut] = Field(
        default_factory=list, description="办公时段（工作日；由办公时间读出，与叫号、预约所用一致）")
