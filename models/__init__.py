"""SQLModel tables shared by ``api/`` and ``insight/``. Importing this package registers every table."""

from models.audit import AuditEvent
from models.auth import ApiToken, AuthState, LoginFailure, Team, User, UserRole, WebSession
from models.call import Call, CallStatus
from models.customer import Customer, CustomerExternalId, Deal, DealOutcome
from models.embedding import UtteranceEmbedding
from models.job_run import Job, JobState
from models.minutes import Minutes
from models.pattern import PatternRun, PatternRunStatus, WinPattern
from models.segment import CustomerSegment, SegmentDefinition, SegmentRun, SegmentRunStatus
from models.speaker import CallMetrics, Role, RoleSource, Speaker, VoiceProfile
from models.topic import Topic, TopicFitRun, UtteranceTopic
from models.tracker import Tracker, TrackerCallState, TrackerHit, TrackerMatch, TrackerSide
from models.transaction import Transaction
from models.transcript import Utterance

__all__ = [
    "ApiToken",
    "AuditEvent",
    "AuthState",
    "Call",
    "CallMetrics",
    "CallStatus",
    "Customer",
    "CustomerExternalId",
    "CustomerSegment",
    "Deal",
    "DealOutcome",
    "Job",
    "JobState",
    "LoginFailure",
    "Minutes",
    "PatternRun",
    "PatternRunStatus",
    "Role",
    "RoleSource",
    "SegmentDefinition",
    "SegmentRun",
    "SegmentRunStatus",
    "Speaker",
    "Team",
    "Topic",
    "TopicFitRun",
    "Tracker",
    "TrackerCallState",
    "TrackerHit",
    "TrackerMatch",
    "TrackerSide",
    "Transaction",
    "User",
    "UserRole",
    "Utterance",
    "UtteranceEmbedding",
    "UtteranceTopic",
    "VoiceProfile",
    "WebSession",
    "WinPattern",
]
