"""The Recommendations page through AppTest on a small demo salon: the offline rule
engine by default, OpenAI through the real client pointed at a local server (a good
answer, its cache, and a failure that falls back to the rules with a note), marking a
recommendation implemented, analysts read-only, staff refused, and an action link that
hands a band over to Retention."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from pytest_httpserver import HTTPServer
from werkzeug import Response

from assistant.facts import BusinessFacts
from auth.roles import Actor, Role
from data.db import read_conn, write_tx
from data.schema import ai_suggestions
from reports.assistant_facts import build_business_facts
from tests.app_pages.support import add_role_users, open_app
from tests.reports.test_assistant_facts import seed

PAGE = "app_pages/recommendations.py"
S = ai_suggestions.c


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    folder = tmp_path_factory.mktemp("recommendations")
    url = f"sqlite:///{folder / 'demo.db'}"
    engine = seed(url)
    users = add_role_users(engine, "rec")
    yield {"url": url, "engine": engine, "users": users, "models": folder / "models"}
    engine.dispose()


@pytest.fixture(autouse=True)
def clean(demo: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts with no stored runs and no OpenAI settings."""
    with write_tx(demo["engine"]) as conn:
        conn.execute(ai_suggestions.delete())
    monkeypatch.setenv("DATABASE_URL", demo["url"])
    monkeypatch.setenv("MODELS_DIR", str(demo["models"]))
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_MODEL", "HTTP_PROXY",
                 "HTTPS_PROXY", "http_proxy", "https_proxy"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)


def _open(demo: dict, role: Role) -> Any:
    at = open_app(demo["users"][role], page=PAGE).run()
    assert not at.exception, at.exception
    return at


def _stored(demo: dict) -> list[dict]:
    with read_conn(demo["engine"]) as conn:
        query = sa.select(S.id, S.engine, S.model, S.status, S.suggestion_data).order_by(S.id)
        return [dict(row) for row in conn.execute(query).mappings()]


def _generate(at: Any) -> Any:
    at.button(key="rec_generate").click().run(timeout=120)
    assert not at.exception, at.exception
    return at


def test_offline_the_rule_engine_recommends_with_evidence(demo: dict) -> None:
    at = _open(demo, Role.OWNER)
    assert [t.value for t in at.title] == ["Recommendations"]
    assert at.info[0].value.startswith("Offline rule engine")
    _generate(at)
    stored = _stored(demo)
    assert stored and {row["engine"] for row in stored} == {"rules"}
    assert any("recommendation(s) from a new run (Rule engine)" in s.value for s in at.success)
    first = stored[0]["suggestion_data"]["recommendation"]["title"]
    assert first in [m.value.strip("*") for m in at.markdown]
    evidence = [d.value for d in at.dataframe if "Fact" in d.value.columns]
    assert evidence and all(len(frame) >= 1 for frame in evidence)
    assert any("Rule engine" in c.value for c in at.caption)
    _generate(at)  # the same facts: the stored run comes back, nothing new is stored
    assert len(_stored(demo)) == len(stored)
    assert any("from the stored run" in s.value for s in at.success)


def test_marking_implemented_is_stored_and_shown(demo: dict) -> None:
    at = _generate(_open(demo, Role.OWNER))
    first = _stored(demo)[0]
    at.button(key=f"rec_implemented_{first['id']}").click().run()
    assert not at.exception, at.exception
    assert _stored(demo)[0]["status"] == "implemented"
    assert any("✓ implemented" in c.value for c in at.caption)
    assert at.button(key=f"rec_open_{first['id']}").label == "Reopen"


def test_analysts_read_only_and_staff_refused(demo: dict) -> None:
    _generate(_open(demo, Role.OWNER))
    at = _open(demo, Role.ANALYST)
    assert not [b for b in at.button if b.key == "rec_generate"]
    assert not [b for b in at.button if str(b.key).startswith("rec_implemented_")]
    links = [b for b in at.button if str(b.key).startswith("rec_link_")]
    assert links and all(b.disabled for b in links)  # the linked pages are owners' work
    titles = [row["suggestion_data"]["recommendation"]["title"] for row in _stored(demo)]
    assert titles[0] in [m.value.strip("*") for m in at.markdown]
    staff = open_app(demo["users"][Role.STAFF], page=PAGE).run()
    assert "Your role (staff) may not open this page." in [e.value for e in staff.error]


def _facts(demo: dict) -> BusinessFacts:
    analyst = Actor.for_account(account_id=1, business_id=1, role="analyst")
    return build_business_facts(demo["engine"], actor=analyst, models_dir=demo["models"])


def _answer(cites: list[str]) -> dict[str, Any]:
    rec = {"title": "Push the Tuesday newsletter", "category": "marketing", "cites": cites,
           "rationale": "Bookings are the number to grow.", "action": "Send it on Monday.",
           "expected_impact": "A few more bookings.", "confidence": "medium",
           "action_link": None}  # fmt: skip
    message = {"role": "assistant", "content": json.dumps({"recommendations": [rec]}),
               "refusal": None}  # fmt: skip
    return {"id": "c1", "object": "chat.completion", "created": 1, "model": "test-model",
            "choices": [{"index": 0, "message": message, "finish_reason": "stop",
                         "logprobs": None}], "usage": None}  # fmt: skip


def _with_key(monkeypatch: pytest.MonkeyPatch, server: HTTPServer) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-local-test")
    monkeypatch.setenv("OPENAI_BASE_URL", server.url_for("/v1"))
    monkeypatch.setenv("OPENAI_MODEL", "test-model")
    monkeypatch.setenv("OPENAI_TIMEOUT_SECONDS", "5")


def test_with_a_key_openai_answers_once_and_is_cached(
    demo: dict, httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    _with_key(monkeypatch, httpserver)
    facts = _facts(demo)
    assert facts.get("kpi.bookings") is not None
    httpserver.expect_request("/v1/chat/completions", method="POST").respond_with_json(
        _answer(["kpi.bookings"])
    )
    at = _open(demo, Role.OWNER)
    assert at.info[0].value.startswith("OpenAI (test-model")
    _generate(at)
    stored = _stored(demo)
    assert [(r["engine"], r["model"]) for r in stored] == [("openai", "test-model")]
    assert stored[0]["suggestion_data"]["evidence"][0]["id"] == "kpi.bookings"
    assert any("OpenAI · test-model" in c.value for c in at.caption)
    _generate(at)  # unchanged facts: no second API call
    assert len(httpserver.log) == 1 and len(_stored(demo)) == 1
    body = json.loads(httpserver.log[0][0].get_data())
    assert body["model"] == "test-model"


def test_an_openai_failure_falls_back_to_the_rules_with_a_note(
    demo: dict, httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    _with_key(monkeypatch, httpserver)
    error = json.dumps({"error": {"message": "boom", "type": "server_error", "code": None}})
    httpserver.expect_request("/v1/chat/completions").respond_with_response(
        Response(
            error, status=500, headers={"retry-after-ms": "1"}, content_type="application/json"
        )  # fmt: skip
    )
    at = _generate(_open(demo, Role.OWNER))
    assert 1 <= len(httpserver.log) <= 3  # the client's own bounded retries, no more
    stored = _stored(demo)
    assert stored and {row["engine"] for row in stored} == {"rules"}
    notes = [w.value for w in at.warning]
    assert any(n.startswith("OpenAI was not used: the server had an error") for n in notes)
    assert not at.exception


def test_a_win_back_link_hands_the_band_to_retention(demo: dict) -> None:
    import ui.recommendations_data as rd
    from assistant.schema import ActionLink

    link = ActionLink(kind="win_back_campaign", band="medium", weekday=None, start=None,
                      end=None, service_id=None)  # fmt: skip
    page, label = rd.LINK_PAGES[link.kind]
    assert page == "app_pages/retention.py" and "Retention" in label
    values = {k: v for k, v in link.model_dump().items() if v is not None}
    retention = open_app(demo["users"][Role.OWNER], page=page)
    retention.session_state["handoff"] = {page: values}
    retention.run(timeout=180)
    assert not retention.exception, retention.exception
    assert any("band is picked" in i.value for i in retention.info)
    assert retention.session_state["ret_band"] == "medium"
