"""Recommendations from OpenAI (or any compatible server, e.g. Azure OpenAI via the base
URL), through the official client with strict structured output (`RecommendationSet`).

One call per generation. Cost is bounded: the client's own retries only (429, 5xx,
timeouts; `max_retries`, default 2), an output-token cap, and no loops here. Every
failure becomes one `LlmUnavailable(reason, kind)` whose `reason` is a short plain line
for the page, so the caller falls back to the rule engine and says why. The API key and
the facts are never logged; only the failure kind and HTTP status are.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Literal

import openai
from pydantic import SecretStr, ValidationError

from assistant.facts import BusinessFacts
from assistant.prompt import build_messages
from assistant.schema import (
    MAX_RECOMMENDATIONS,
    Recommendation,
    RecommendationSet,
    check_recommendation,
)

log = logging.getLogger(__name__)

FailureKind = Literal[
    "auth", "rate_limit", "server", "timeout", "connection", "request",
    "refusal", "invalid_output", "no_valid", "error",
]  # fmt: skip
MAX_OUTPUT_TOKENS = 4096


class LlmUnavailable(Exception):
    """The model gave no usable recommendations; `reason` is fit to show on the page."""

    def __init__(self, reason: str, kind: FailureKind) -> None:
        super().__init__(reason)
        self.reason = reason
        self.kind: FailureKind = kind


@dataclass(frozen=True)
class LlmResult:
    """Recommendations that passed `check_recommendation`, and those dropped with why."""

    recommendations: list[Recommendation]
    model: str
    dropped: list[tuple[str, list[str]]] = field(default_factory=list)
    prompt_tokens: int | None = None
    completion_tokens: int | None = None


def make_client(
    *, api_key: SecretStr | str, base_url: str | None, timeout: float, max_retries: int = 2
) -> openai.OpenAI:
    """The official client; `base_url=None` means OpenAI itself."""
    key = api_key.get_secret_value() if isinstance(api_key, SecretStr) else api_key
    return openai.OpenAI(api_key=key, base_url=base_url, timeout=timeout, max_retries=max_retries)


def generate_with_openai(
    facts: BusinessFacts,
    *,
    api_key: SecretStr | str,
    model: str,
    base_url: str | None,
    timeout: float,
    max_retries: int = 2,
    client: openai.OpenAI | None = None,
) -> LlmResult:
    """Ask the model for recommendations on `facts`; raises `LlmUnavailable`.

    `client` (already configured, e.g. cached by the page) replaces the one built from
    `api_key`, `base_url`, `timeout` and `max_retries`."""
    if client is None:
        client = make_client(
            api_key=api_key, base_url=base_url, timeout=timeout, max_retries=max_retries
        )
    try:
        completion = client.chat.completions.parse(
            model=model,
            messages=build_messages(facts),  # type: ignore[arg-type]
            response_format=RecommendationSet,
            max_completion_tokens=MAX_OUTPUT_TOKENS,
        )
    except (openai.OpenAIError, ValidationError, json.JSONDecodeError) as exc:
        failure = describe_failure(exc, timeout=timeout)
        log.warning("OpenAI recommendations unavailable: kind=%s status=%s",
                    failure.kind, getattr(exc, "status_code", None))  # fmt: skip
        raise failure from exc
    if not completion.choices:
        raise _unavailable("the answer held no message", "invalid_output")
    message = completion.choices[0].message
    if message.refusal:
        raise _unavailable("the model declined to answer", "refusal")
    if message.parsed is None:
        raise _unavailable("the answer was empty", "invalid_output")
    usage = completion.usage
    return validate_recommendations(
        message.parsed,
        facts,
        model=completion.model or model,
        prompt_tokens=usage.prompt_tokens if usage else None,
        completion_tokens=usage.completion_tokens if usage else None,
    )


def validate_recommendations(
    answer: RecommendationSet,
    facts: BusinessFacts,
    *,
    model: str,
    prompt_tokens: int | None = None,
    completion_tokens: int | None = None,
) -> LlmResult:
    """Keep what passes `check_recommendation` (at most MAX_RECOMMENDATIONS); raises
    `LlmUnavailable("no_valid")` when nothing does."""
    kept: list[Recommendation] = []
    dropped: list[tuple[str, list[str]]] = []
    for rec in answer.recommendations:
        problems = check_recommendation(rec, facts)
        if not problems and len(kept) >= MAX_RECOMMENDATIONS:
            problems = [f"more than {MAX_RECOMMENDATIONS} recommendations"]
        if problems:
            dropped.append((rec.title[:120], problems))
        else:
            kept.append(rec)
    if not kept:
        total = len(answer.recommendations)
        raise _unavailable(
            f"none of the model's {total} recommendations rested on the facts", "no_valid"
        )
    return LlmResult(kept, model, dropped, prompt_tokens, completion_tokens)


def describe_failure(exc: Exception, *, timeout: float) -> LlmUnavailable:
    """The page's short line and the kind for a client or parsing error."""
    if isinstance(exc, openai.APITimeoutError):  # before APIConnectionError, its base
        return LlmUnavailable(f"no answer within {timeout:g} s", "timeout")
    if isinstance(exc, openai.APIConnectionError):
        return LlmUnavailable("the server could not be reached", "connection")
    if isinstance(exc, openai.APIStatusError):
        return _describe_status(exc)
    if isinstance(exc, openai.LengthFinishReasonError):
        return LlmUnavailable("the answer was cut off (too long)", "invalid_output")
    if isinstance(exc, openai.ContentFilterFinishReasonError):
        return LlmUnavailable("the answer was stopped by the content filter", "refusal")
    if isinstance(exc, ValidationError | json.JSONDecodeError | openai.APIResponseValidationError):
        return LlmUnavailable(
            "the answer did not match the recommendation format", "invalid_output"
        )
    return LlmUnavailable("the OpenAI client failed", "error")


def _describe_status(exc: openai.APIStatusError) -> LlmUnavailable:
    """An HTTP error answer (after the client's own retries)."""
    status = exc.status_code
    if status == 401:
        return LlmUnavailable("the API key was refused", "auth")
    if status == 403:
        return LlmUnavailable("the API key may not use this model", "auth")
    if status == 429:
        if exc.code == "insufficient_quota":
            return LlmUnavailable("the account has run out of quota", "rate_limit")
        return LlmUnavailable("rate limited by the server; try again in a minute", "rate_limit")
    if status >= 500:
        return LlmUnavailable(f"the server had an error (HTTP {status})", "server")
    if status == 404:
        return LlmUnavailable("model or endpoint not found (check OPENAI_MODEL and "
                              "OPENAI_BASE_URL)", "request")  # fmt: skip
    return LlmUnavailable(f"the server refused the request (HTTP {status})", "request")


def _unavailable(reason: str, kind: FailureKind) -> LlmUnavailable:
    """Log the kind (never the facts or the answer) and build the exception."""
    log.warning("OpenAI recommendations unavailable: kind=%s", kind)
    return LlmUnavailable(reason, kind)
