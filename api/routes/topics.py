"""Topic endpoints: the topics of a side with their shares, a topic's quotes and trends, labels, and fitting now.

Everyone who reads calls reads topics, but only over the calls they may see: shares, quotes and trends are counted
from those calls alone, so a rep never reads a quote from a call that is not theirs.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from api.auth import PrincipalDep
from api.deps import RuntimeDep, SessionDep
from api.routing import Route
from api.schemas.calls import ErrorBody
from api.schemas.topics import (
    FitRequest,
    FitRunPublic,
    GroupSharePublic,
    KeywordPublic,
    QuotePublic,
    TopicDetailPublic,
    TopicPublic,
    TopicsPublic,
    TopicUpdate,
)
from insight.auth import policy
from insight.db import session_scope
from insight.topics import service
from insight.topics.types import Method, TopicOptions
from models import Topic, TopicFitRun

router = APIRouter(prefix="/api/topics", tags=["topics"], route_class=Route)

ERRORS: dict[int | str, dict[str, object]] = {
    400: {"model": ErrorBody, "description": "Invalid parameters"},
    404: {"model": ErrorBody, "description": "No such topic"},
}
SideQuery = Annotated[Literal["customer", "rep"], Query(description="Whose utterances: customer or rep")]


def run_public(run: TopicFitRun | None) -> FitRunPublic | None:
    """The API view of a fit run."""
    return None if run is None else FitRunPublic.model_validate(run, from_attributes=True)


def _keywords(topic: Topic) -> list[KeywordPublic]:
    return [KeywordPublic(word=str(k[0]), weight=float(k[1])) for k in topic.keywords]


def _topic_public(share: service.TopicShare) -> TopicPublic:
    t = share.topic
    assert t.id is not None
    return TopicPublic(
        id=t.id,
        side=t.side,
        label=t.label,
        label_edited=t.label_edited,
        keywords=_keywords(t),
        size=t.size,
        utterances=share.utterances,
        calls=share.calls,
        share=share.share,
    )


@router.get("", response_model=TopicsPublic, responses=ERRORS)
def list_topics(session: SessionDep, principal: PrincipalDep, side: SideQuery = "customer") -> TopicsPublic:
    """The topics in force for a side, largest first, with their shares over the calls the reader may see."""
    chosen = service.parse_side(side)
    shares = service.list_topics(session, chosen, policy.call_visibility(principal))
    return TopicsPublic(
        side=chosen.value, run=run_public(service.latest_run(session, chosen)), data=[_topic_public(s) for s in shares]
    )


@router.get("/runs", response_model=list[FitRunPublic])
def runs(session: SessionDep, limit: Annotated[int, Query(ge=1, le=200)] = 20) -> list[FitRunPublic]:
    """Topic fits, newest first."""
    return [FitRunPublic.model_validate(r, from_attributes=True) for r in service.list_runs(session, limit=limit)]


@router.get("/{topic_id}", response_model=TopicDetailPublic, responses=ERRORS)
def get_topic(
    topic_id: int,
    session: SessionDep,
    principal: PrincipalDep,
    bucket: Annotated[Literal["week", "month"], Query(description="The trend's period")] = "week",
    quotes: Annotated[int, Query(ge=0, le=50, description="Representative quotes to return")] = 5,
) -> TopicDetailPublic:
    """A topic's keywords, representative quotes (redacted, from visible calls), trend, and shares per segment and
    rep.
    """
    detail = service.topic_detail(session, topic_id, policy.call_visibility(principal), bucket=bucket, quotes=quotes)
    base = _topic_public(detail.share)
    return TopicDetailPublic(
        **base.model_dump(),
        bucket=bucket,
        quotes=[
            QuotePublic(
                utterance_id=q.utterance_id,
                call_id=q.call_id,
                took_place=q.took_place,
                start_s=q.start_s,
                # The redacted text whoever reads it: a topic page gathers many calls, originals stay on the call.
                text=policy.shown_text("", q.text_redacted, original=False),
                score=q.score,
            )
            for q in detail.quotes
        ],
        trend=[GroupSharePublic.model_validate(g, from_attributes=True) for g in detail.trend],
        segments=[GroupSharePublic.model_validate(g, from_attributes=True) for g in detail.segments],
        reps=[GroupSharePublic.model_validate(g, from_attributes=True) for g in detail.reps],
    )


@router.patch(
    "/{topic_id}",
    response_model=TopicPublic,
    responses=ERRORS,
)
def update_topic(topic_id: int, body: TopicUpdate, runtime: RuntimeDep, principal: PrincipalDep) -> TopicPublic:
    """Name a topic; refits that find the topic again keep the name."""
    with session_scope(runtime.engine) as session:
        topic = service.update_label(session, topic_id, body.label)
        share = _share_of(session, topic, principal)
    return _topic_public(share)


def _share_of(session: Session, topic: Topic, principal: policy.Principal) -> service.TopicShare:
    side = service.parse_side(topic.side)
    for share in service.list_topics(session, side, policy.call_visibility(principal)):
        if share.topic.id == topic.id:
            return share
    return service.TopicShare(topic, 0, 0, 0.0)


@router.post(
    "/fit",
    status_code=201,
    response_model=FitRunPublic,
    responses={409: {"model": ErrorBody, "description": "Too few utterances to fit on"}},
)
async def fit(runtime: RuntimeDep, body: FitRequest | None = None) -> FitRunPublic:
    """Fit (or refit) a side's topics now on the stored utterance vectors, and return the finished fit."""
    body = body or FitRequest()
    options = TopicOptions(
        method=Method(body.method), sample_size=body.sample_size or runtime.settings.topics_sample_size
    )
    run = await run_in_threadpool(
        service.fit_topics,
        runtime.engine,
        model=runtime.settings.embedding_model,
        side=service.parse_side(body.side),
        options=options,
        trigger="api",
    )
    return FitRunPublic.model_validate(run, from_attributes=True)
