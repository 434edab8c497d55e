"""Imports every domain's models so that metadata and Alembic see all tables."""

from onewindow.agents.models import AgentAuthorization
from onewindow.analytics import models as analytics_models  # noqa: F401  (rollup tables)
from onewindow.appointments.models import Booking, SlotTemplate, SlotUsage
from onewindow.calendar.models import CalendarNotice, HolidayOverride
from onewindow.cases.models import (
    Case,
    CaseDelivery,
    CaseEvent,
    CaseExtension,
    CaseMaterial,
    CaseStep,
    CaseSuspension,
    CaseUpload,
    CaseVisit,
)
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
from onewindow.certificates.models import Certificate
from onewindow.complaints.models import Complaint, ComplaintAssignment, ComplaintEvent
from onewindow.core.audit import AuditEntry, AuditHead
from onewindow.core.ratebucket import RateBucket
from onewindow.guide.models import GuideEmbedding, GuideFeedback, GuideMapping, GuideQuery, GuideSynonyms
from onewindow.network.models import CaseTransfer
from onewindow.notifications.models import NotificationOptOut, OutboxMessage
from onewindow.planning.models import PlanRecord
from onewindow.policies.models import Entity, EntityField, Grant, Policy
from onewindow.queue.models import (
    HallQueueSettings,
    StaffQualification,
    Ticket,
    TicketCase,
    TicketCounter,
    TicketEvent,
    Window,
)
from onewindow.ratings.models import Rating
from onewindow.rectification.models import RectificationEvent, RectificationOrder
from onewindow.staff.models import (
    ApiToken,
    LoginThrottle,
    PerformanceMonth,
    PerformanceScore,
    StaffShift,
    User,
    WebSession,
)
from onewindow.supervision.callback_models import CallbackDraw, CallbackTask
from onewindow.supervision.experiencer_models import ExperiencePhoto, Experiencer, ExperienceReport
from onewindow.supervision.models import SupervisionAlert, WindowDuty

__all__ = [
    "AgentAuthorization",
    "ApiToken",
    "AuditEntry",
    "AuditHead",
    "Booking",
    "Bundle",
    "BundleItem",
    "CalendarNotice",
    "CallbackDraw",
    "CallbackTask",
    "Case",
    "CaseDelivery",
    "CaseEvent",
    "CaseExtension",
    "CaseMaterial",
    "CaseStep",
    "CaseSuspension",
    "CaseTransfer",
    "CaseUpload",
    "CaseVisit",
    "Certificate",
    "CertificateType",
    "Complaint",
    "ComplaintAssignment",
    "ComplaintEvent",
    "Department",
    "Entity",
    "EntityField",
    "ExperiencePhoto",
    "ExperienceReport",
    "Experiencer",
    "Grant",
    "GuideEmbedding",
    "GuideFeedback",
    "GuideMapping",
    "GuideQuery",
    "GuideSynonyms",
    "Hall",
    "HallCategory",
    "HallQueueSettings",
    "HolidayOverride",
    "Item",
    "ItemVersion",
    "LoginThrottle",
    "Material",
    "NegativeListEntry",
    "NotificationOptOut",
    "OutboxMessage",
    "PerformanceMonth",
    "PerformanceScore",
    "PlanRecord",
    "Policy",
    "RateBucket",
    "Rating",
    "RectificationEvent",
    "RectificationOrder",
    "Region",
    "SlotTemplate",
    "SlotUsage",
    "StaffQualification",
    "StaffShift",
    "SupervisionAlert",
    "Ticket",
    "TicketCase",
    "TicketCounter",
    "TicketEvent",
    "User",
    "WebSession",
    "Window",
    "WindowDuty",
]
