"""Voice profiles learn only from calls their rep vouches for: an upload may name as its rep only the uploader, a
member of a manager's team, or anyone for an admin; confirming roles enrols a voice only for someone allowed, and a
profile is rebuilt only from calls whose owner was allowed (through a real server; SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import httpx
from sqlmodel import Session, select

from api.main import create_app
from insight.calls.service import UploadMeta, ingest
from insight.db import session_scope
from insight.repositories import calls as calls_repo
from insight.runtime import Runtime
from models import Call, Speaker, VoiceProfile
from tests.fixtures import auth, bad_audio
from tests.fixtures.server import serving

ATTACKER_VOICE = [1.0, 0.0, 0.0, 0.0]
VICTIM_VOICE = [0.0, 1.0, 0.0, 0.0]


def upload(client: httpx.Client, who: auth.Account, path: Path, rep: str | None) -> httpx.Response:
    with path.open("rb") as fh:
        return client.post(
            "/api/calls",
            files={"file": (path.name, fh)},
            data={} if rep is None else {"rep": rep},
            headers=who.headers,
        )


def as_processed(runtime: Runtime, call_id: int, rep_voice: list[float]) -> None:
    """Give a call the speakers the pipeline would have found: S1 (``rep_voice``) and a customer S2."""
    with session_scope(runtime.engine) as s:
        for label, voice, role in (("S1", rep_voice, "customer"), ("S2", [0.0, 0.0, 1.0, 0.0], "rep")):
            s.add(
                Speaker(
                    call_id=call_id,
                    label=label,
                    role=role,
                    role_source="heuristic",
                    embedding=voice,
                    talk_s=1.0,
                )
            )
        row = s.get(Call, call_id)
        assert row is not None
        row.status, row.progress, row.updated_at = "done", 1.0, datetime.now(UTC)
        s.add(row)


def confirm_s1_is_rep(client: httpx.Client, who: auth.Account, call_id: int) -> httpx.Response:
    return client.patch(
        f"/api/calls/{call_id}/speakers",
        json={"speakers": [{"label": "S1", "role": "rep"}, {"label": "S2", "role": "customer"}]},
        headers=who.headers,
    )


def profile(runtime: Runtime, rep_key: str) -> VoiceProfile | None:
    with Session(runtime.engine) as s:
        return s.exec(select(VoiceProfile).where(VoiceProfile.rep_key == rep_key)).first()


def test_a_rep_cannot_plant_a_voice_in_another_reps_profile(runtime: Runtime, tmp_path: Path) -> None:
    admin = auth.make_user(runtime, "admin@example.com", role="admin", team="east")
    attacker = auth.make_user(runtime, "rep.a@example.com", role="rep", team="west")
    victim = auth.make_user(runtime, "rep.b@example.com", role="rep", team="west")
    boss_west = auth.make_user(runtime, "boss.west@example.com", role="manager", team="west")
    boss_east = auth.make_user(runtime, "boss.east@example.com", role="manager", team="east")
    wavs = [bad_audio.good_wav(tmp_path / f"c{i}.wav", seconds=1.0 + i / 10, channels=1) for i in range(8)]
    app = create_app(runtime.settings, runtime=runtime, embedded_worker=False)
    with serving(app) as base, httpx.Client(base_url=base, timeout=30) as client:
        # The attack: a rep uploads their own recording naming another rep (by e-mail, or by user id)...
        for named in (victim.email, "REP.B@example.com", str(victim.user_id)):
            r = upload(client, attacker, wavs[0], rep=named)
            assert r.status_code == 403, r.text
            error = r.json()["error"]
            assert error["code"] == "rep_not_allowed"
            assert error["hint"]
        # ...and nothing of it is kept.
        with Session(runtime.engine) as s:
            assert s.exec(select(Call)).all() == []
        assert list(runtime.store.iter_files()) == []
        # A rep that is no user is refused as bad input; a manager of another team may not name the rep either.
        r = upload(client, attacker, wavs[0], rep="nobody@example.com")
        assert (r.status_code, r.json()["error"]["code"]) == (400, "unknown_rep")
        r = upload(client, boss_east, wavs[0], rep=victim.email)
        assert (r.status_code, r.json()["error"]["code"]) == (403, "rep_not_allowed")
        # Allowed: oneself (in any spelling, stored as the account's e-mail), the rep's manager, an admin.
        own = upload(client, attacker, wavs[1], rep="Rep.A@Example.com")
        assert (own.status_code, own.json()["rep"]) == (201, attacker.email)
        by_default = upload(client, victim, wavs[2], rep=None)
        assert (by_default.status_code, by_default.json()["rep"]) == (201, victim.email)
        by_boss = upload(client, boss_west, wavs[3], rep=victim.email)
        assert (by_boss.status_code, by_boss.json()["rep"]) == (201, victim.email)
        by_admin = upload(client, admin, wavs[4], rep=str(victim.user_id))
        assert (by_admin.status_code, by_admin.json()["rep"]) == (201, victim.email)

        # A call from before this rule: the attacker's upload naming the victim, already stored.
        with wavs[5].open("rb") as fh:
            legacy = ingest(runtime, fh, UploadMeta(filename="legacy.wav", rep=victim.email)).call.id
        assert legacy is not None
        with session_scope(runtime.engine) as s:
            calls_repo.update_fields(s, legacy, owner_id=attacker.user_id)
        as_processed(runtime, legacy, ATTACKER_VOICE)
        # The attacker confirms their own voice as the rep: the call's roles change, but no profile learns it.
        r = confirm_s1_is_rep(client, attacker, legacy)
        assert r.status_code == 200, r.text
        assert profile(runtime, victim.email) is None

        # The victim's own call, confirmed by the victim: their profile, from that call alone.
        victims_call = by_default.json()["id"]
        as_processed(runtime, victims_call, VICTIM_VOICE)
        assert confirm_s1_is_rep(client, victim, victims_call).status_code == 200
        built = profile(runtime, victim.email)
        assert built is not None
        assert built.call_ids == [victims_call]
        assert built.embedding == VICTIM_VOICE

        # The admin's upload (team east) is visible to the east manager, who may not enrol a west rep's voice.
        admins_call = by_admin.json()["id"]
        as_processed(runtime, admins_call, VICTIM_VOICE)
        r = confirm_s1_is_rep(client, boss_east, admins_call)
        assert r.status_code == 403, r.text
        assert r.json()["error"]["code"] == "voice_enrolment_forbidden"
        assert r.json()["error"]["hint"]
        # Renaming speakers (no roles) stays open to whoever may change the call.
        r = client.patch(
            f"/api/calls/{admins_call}/speakers",
            json={"speakers": [{"label": "S1", "name": "佐藤"}]},
            headers=boss_east.headers,
        )
        assert r.status_code == 200, r.text
        # The west manager's and the admin's confirmations enrol.
        bosses_call = by_boss.json()["id"]
        as_processed(runtime, bosses_call, VICTIM_VOICE)
        assert confirm_s1_is_rep(client, boss_west, bosses_call).status_code == 200
        assert confirm_s1_is_rep(client, admin, admins_call).status_code == 200
        built = profile(runtime, victim.email)
        assert built is not None
        assert built.call_ids == sorted([victims_call, bosses_call, admins_call])
        assert legacy not in built.call_ids
        assert built.embedding == VICTIM_VOICE  # the attacker's voice is in no part of it
