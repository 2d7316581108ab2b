"""SQLModel tables shared by ``api/`` and ``insight/``. Importing this package registers every table."""

from models.call import Call, CallStatus
from models.job_run import Job, JobState
from models.transcript import Utterance

__all__ = ["Call", "CallStatus", "Job", "JobState", "Utterance"]
