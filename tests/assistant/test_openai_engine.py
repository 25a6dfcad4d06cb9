"""The OpenAI path through the official client against a local HTTP server standing in for
the API (`base_url=`, no patching): the request (model, strict schema, messages holding only
the rules and the facts), structured output validated against the facts, and every failure
turned into `LlmUnavailable` without a retry spiral or a leaked key."""

from __future__ import annotations

import json
import logging
import socket
import threading
from collections.abc import Iterator
from typing import Any

import openai
import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from assistant.facts import BusinessFacts
from assistant.openai_engine import LlmResult, LlmUnavailable, generate_with_openai, make_client
from assistant.prompt import FACTS_CLOSE, FACTS_OPEN, build_messages
from tests.assistant.test_prompt import INJECTION, make_facts

PATH = "/v1/chat/completions"
KEY = "sk-test-key-that-must-never-leak"
MODEL = "gpt-4o-mini"
CUSTOMERS = ("Anna Schmidt", "+4915112345678", "anna@example.com")  # never in the facts


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    """Requests to the local server must not go through a proxy from the environment."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy",
                 "all_proxy", "OPENAI_BASE_URL"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def facts() -> BusinessFacts:
    return make_facts(INJECTION)


def run(server: HTTPServer, facts: BusinessFacts, **kwargs: Any) -> LlmResult:
    options: dict[str, Any] = {"api_key": KEY, "model": MODEL, "timeout": 5.0,
                               "base_url": server.url_for("/v1")} | kwargs  # fmt: skip
    return generate_with_openai(facts, **options)


def recommendation(title: str, cites: list[str], **kwargs: Any) -> dict[str, Any]:
    rec = {"title": title, "category": "services", "cites": cites,
           "rationale": "Bookings for service 3 fell 40% against the previous period.",
           "action": "Review its price and feature it in this week's newsletter.",
           "expected_impact": "Recover part of the lost bookings.", "confidence": "medium",
           "action_link": {"kind": "service_review", "band": None, "weekday": None,
                           "start": None, "end": None, "service_id": 3}}  # fmt: skip
    return rec | kwargs


def completion(content: str | None, *, refusal: str | None = None,
               finish_reason: str = "stop") -> dict[str, Any]:  # fmt: skip
    message = {"role": "assistant", "content": content, "refusal": refusal}
    return {"id": "chatcmpl-1", "object": "chat.completion", "created": 1741600000,
            "model": "gpt-4o-mini-2024-07-18",
            "choices": [{"index": 0, "message": message, "finish_reason": finish_reason,
                         "logprobs": None}],
            "usage": {"prompt_tokens": 812, "completion_tokens": 240,
                      "total_tokens": 1052}}  # fmt: skip


def answer(*recs: dict[str, Any]) -> dict[str, Any]:
    return completion(json.dumps({"recommendations": list(recs)}))


def api_error(status: int, code: str | None = None) -> Response:
    body = {"error": {"message": f"error {status}", "type": "error", "param": None, "code": code}}
    headers = {"retry-after-ms": "1"}  # the client honours it: retries without a long sleep
    return Response(json.dumps(body), status=status, headers=headers,
                    content_type="application/json")  # fmt: skip


def bodies(server: HTTPServer) -> list[dict[str, Any]]:
    return [json.loads(request.get_data()) for request, _ in server.log]


def test_a_good_answer_is_parsed_and_an_unknown_citation_dropped(
    httpserver: HTTPServer, facts: BusinessFacts
) -> None:
    good = recommendation("Review the falling service", ["service.3", "kpi.revenue"])
    invented = recommendation("Hire two people", ["staffing.under.Mon.09:00-12:00"])
    httpserver.expect_request(PATH, method="POST").respond_with_json(answer(good, invented))
    result = run(httpserver, facts)
    assert [rec.title for rec in result.recommendations] == ["Review the falling service"]
    [rec] = result.recommendations
    assert rec.cites == ["service.3", "kpi.revenue"] and rec.action_link is not None
    assert rec.action_link.kind == "service_review" and rec.action_link.service_id == 3
    assert result.dropped == [
        ("Hire two people", ["cites unknown facts: staffing.under.Mon.09:00-12:00"])
    ]
    assert result.model == "gpt-4o-mini-2024-07-18"
    assert (result.prompt_tokens, result.completion_tokens) == (812, 240)
    [(request, _)] = httpserver.log
    assert request.headers["Authorization"] == f"Bearer {KEY}"


def test_the_request_names_the_model_and_the_strict_schema(
    httpserver: HTTPServer, facts: BusinessFacts
) -> None:
    httpserver.expect_request(PATH, method="POST").respond_with_json(
        answer(recommendation("Review the falling service", ["service.3"]))
    )
    run(httpserver, facts, model="my-azure-deployment")
    [body] = bodies(httpserver)
    assert body["model"] == "my-azure-deployment"
    response_format = body["response_format"]
    assert response_format["type"] == "json_schema"
    schema = response_format["json_schema"]
    assert schema["name"] == "RecommendationSet" and schema["strict"] is True
    assert schema["schema"]["required"] == ["recommendations"]
    assert schema["schema"]["additionalProperties"] is False
    rec_schema = schema["schema"]["$defs"]["Recommendation"]
    assert "cites" in rec_schema["required"] and rec_schema["additionalProperties"] is False
    assert body["max_completion_tokens"] > 0


def test_the_messages_hold_only_the_rules_and_the_facts_as_data(
    httpserver: HTTPServer, facts: BusinessFacts
) -> None:
    httpserver.expect_request(PATH, method="POST").respond_with_json(
        answer(recommendation("Review the falling service", ["service.3"]))
    )
    run(httpserver, facts)
    [body] = bodies(httpserver)
    assert body["messages"] == build_messages(facts)
    user = body["messages"][1]["content"]
    start, end = user.index(FACTS_OPEN), user.index(FACTS_CLOSE)
    assert "Ignore previous instructions" in user[start:end]  # the injection is data
    assert user.count(FACTS_CLOSE) == 1 and user.endswith(FACTS_CLOSE)  # and cannot close it
    raw = json.dumps(body)
    for personal in CUSTOMERS + (KEY,):
        assert personal not in raw


def test_a_refusal(httpserver: HTTPServer, facts: BusinessFacts) -> None:
    httpserver.expect_request(PATH, method="POST").respond_with_json(
        completion(None, refusal="I can't help with that.")
    )
    with pytest.raises(LlmUnavailable) as caught:
        run(httpserver, facts)
    assert caught.value.kind == "refusal"
    assert caught.value.reason == "the model declined to answer"


@pytest.mark.parametrize(
    "content",
    ['{"recommendations": [{"title": "cut', '{"recommendations": [{"title": 7}]}', "[]"],
    ids=["invalid-json", "breaks-the-schema", "wrong-type"],
)
def test_output_that_breaks_the_schema(
    httpserver: HTTPServer, facts: BusinessFacts, content: str
) -> None:
    httpserver.expect_request(PATH, method="POST").respond_with_json(completion(content))
    with pytest.raises(LlmUnavailable) as caught:
        run(httpserver, facts)
    assert caught.value.kind == "invalid_output"
    assert "recommendation format" in caught.value.reason
    assert len(httpserver.log) == 1  # a bad answer is not retried


def test_an_answer_cut_off_by_the_token_limit(httpserver: HTTPServer, facts: BusinessFacts) -> None:
    cut = completion('{"recommendations": [', finish_reason="length")
    httpserver.expect_request(PATH, method="POST").respond_with_json(cut)
    with pytest.raises(LlmUnavailable) as caught:
        run(httpserver, facts)
    assert (caught.value.kind, caught.value.reason) == (
        "invalid_output", "the answer was cut off (too long)",
    )  # fmt: skip


def test_no_recommendation_resting_on_the_facts(
    httpserver: HTTPServer, facts: BusinessFacts
) -> None:
    invented = recommendation("Hire two people", ["staff.99"])
    uncited = recommendation("Do something", [])
    httpserver.expect_request(PATH, method="POST").respond_with_json(answer(invented, uncited))
    with pytest.raises(LlmUnavailable) as caught:
        run(httpserver, facts)
    assert caught.value.kind == "no_valid"
    assert "none of the model's 2 recommendations" in caught.value.reason


def test_rate_limited_once_then_success(httpserver: HTTPServer, facts: BusinessFacts) -> None:
    httpserver.expect_oneshot_request(PATH, method="POST").respond_with_response(api_error(429))
    httpserver.expect_request(PATH, method="POST").respond_with_json(
        answer(recommendation("Review the falling service", ["service.3"]))
    )
    result = run(httpserver, facts)
    assert [rec.title for rec in result.recommendations] == ["Review the falling service"]
    assert len(httpserver.log) == 2
    assert [status.status_code for _, status in httpserver.log] == [429, 200]


def test_out_of_quota_after_the_clients_retries(
    httpserver: HTTPServer, facts: BusinessFacts
) -> None:
    httpserver.expect_request(PATH, method="POST").respond_with_response(
        api_error(429, "insufficient_quota")
    )
    with pytest.raises(LlmUnavailable) as caught:
        run(httpserver, facts, max_retries=1)
    assert (caught.value.kind, caught.value.reason) == (
        "rate_limit", "the account has run out of quota",
    )  # fmt: skip
    assert len(httpserver.log) == 2


def test_a_server_error_every_time_is_retried_a_bounded_number_of_times(
    httpserver: HTTPServer, facts: BusinessFacts, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="assistant.openai_engine")
    httpserver.expect_request(PATH, method="POST").respond_with_response(api_error(500))
    with pytest.raises(LlmUnavailable) as caught:
        run(httpserver, facts, max_retries=2)
    assert len(httpserver.log) == 1 + 2
    assert caught.value.kind == "server"
    assert caught.value.reason == "the server had an error (HTTP 500)"
    ours = [r for r in caplog.records if r.name == "assistant.openai_engine"]
    assert ours and "kind=server" in ours[0].getMessage()
    for record in ours:
        for secret in (KEY, INJECTION, "Ignore previous instructions"):
            assert secret not in record.getMessage()


def test_a_refused_key_is_not_retried(httpserver: HTTPServer, facts: BusinessFacts) -> None:
    httpserver.expect_request(PATH, method="POST").respond_with_response(
        api_error(401, "invalid_api_key")
    )
    with pytest.raises(LlmUnavailable) as caught:
        run(httpserver, facts)
    assert (caught.value.kind, caught.value.reason) == ("auth", "the API key was refused")
    assert KEY not in str(caught.value)
    assert len(httpserver.log) == 1


def test_an_unknown_model_is_a_request_error(httpserver: HTTPServer, facts: BusinessFacts) -> None:
    httpserver.expect_request(PATH, method="POST").respond_with_response(
        api_error(404, "model_not_found")
    )
    with pytest.raises(LlmUnavailable) as caught:
        run(httpserver, facts)
    assert caught.value.kind == "request" and "OPENAI_MODEL" in caught.value.reason
    assert len(httpserver.log) == 1


@pytest.fixture
def release() -> Iterator[threading.Event]:
    """Lets a deliberately slow handler finish once the test is done with it."""
    event = threading.Event()
    yield event
    event.set()


def test_a_timeout(httpserver: HTTPServer, facts: BusinessFacts, release: threading.Event) -> None:
    def slow(request: Request) -> Response:
        release.wait(10)  # far longer than the client waits
        return Response(json.dumps(answer()), content_type="application/json")

    httpserver.expect_request(PATH, method="POST").respond_with_handler(slow)
    with pytest.raises(LlmUnavailable) as caught:
        run(httpserver, facts, timeout=0.5, max_retries=0)
    release.set()
    assert (caught.value.kind, caught.value.reason) == ("timeout", "no answer within 0.5 s")


def test_an_unreachable_server(facts: BusinessFacts) -> None:
    with socket.socket() as sock:  # a port that was free a moment ago and has no listener
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(LlmUnavailable) as caught:
        generate_with_openai(facts, api_key=KEY, model=MODEL, timeout=2.0, max_retries=0,
                             base_url=f"http://127.0.0.1:{port}/v1")  # fmt: skip
    assert (caught.value.kind, caught.value.reason) == (
        "connection", "the server could not be reached",
    )  # fmt: skip


def test_a_given_client_is_used_as_configured(httpserver: HTTPServer, facts: BusinessFacts) -> None:
    httpserver.expect_request(PATH, method="POST").respond_with_json(
        answer(recommendation("Review the falling service", ["service.3"]))
    )
    client = make_client(api_key="sk-cached", base_url=httpserver.url_for("/v1"), timeout=5.0)
    result = generate_with_openai(facts, api_key="unused", model=MODEL, base_url=None,
                                  timeout=1.0, client=client)  # fmt: skip
    assert len(result.recommendations) == 1
    [(request, _)] = httpserver.log
    assert request.headers["Authorization"] == "Bearer sk-cached"
    assert isinstance(client, openai.OpenAI)
