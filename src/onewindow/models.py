"""Imports every domain's models so that metadata and Alembic see all tables."""

from onewindow.calendar.models import CalendarNotice, HolidayOverride
from onewindow.catalog.models import (
    Bundle,
    BundleItem,
    CertificateType,
    Department,
    Hall,
    HallCategory,
    Item,
    ItemVersion,
    Material,
    NegativeListEntry,
    Region,
)
from onewindow.core.audit import AuditEntry, AuditHead
from onewindow.guide.models import GuideQuery, GuideSynonyms
from onewindow.policies.models import EntityField, Policy
from onewindow.staff.models import ApiToken, User, WebSession

__all__ = [
    "ApiToken", "AuditEntry", "AuditHead", "Bundle", "BundleItem", "CalendarNotice", "CertificateType",
    "Department", "EntityField", "GuideQuery", "GuideSynonyms", "Hall", "HallCategory", "HolidayOverride", "Item",
    "ItemVersion", "Material", "NegativeListEntry", "Policy", "Region", "User", "WebSession",
]
