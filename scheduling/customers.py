"""Customers: validation, consent rules, profile figures and display rows. Pure, no I/O.

Consent (per channel, SMS and e-mail):
- turning consent on stamps it with the moment it was given (`now`);
- consent that stays on keeps its original timestamp;
- withdrawing consent clears the timestamp: `*_opt_in_at` always means "consented since".
  The audit log keeps the history (given at, withdrawn at), so nothing is lost.

Merging two records of one person (`merge_consent`): consent follows the contact detail it
was given for.
- The kept record takes its phone or e-mail from the merged one (it had none): it takes
  that channel's consent with it.
- Both records have the same phone or e-mail: consent only where *both* consented (an
  opt-out on either record wins), since the EARLIER of the two timestamps.
- Otherwise (the merged record's detail is missing or different and is dropped): the
  kept record's own consent stands.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, Literal, Self

import phonenumbers
from pydantic import Field, field_validator, model_validator

from scheduling.booking_rules import STATUS_LABELS
from scheduling.catalog import ContactInput, format_local, format_money, normalise_phone

MAX_TAG_LENGTH = 40
ACTIVE_STATUSES = frozenset({"booked", "confirmed"})
REASON_LABELS = {"phone": "same phone", "email": "same e-mail", "name": "same name"}
MergedContact = Literal["from_merge", "shared", "keep_own"]
_PHONE_QUERY = re.compile(r"^\+?[\d\s().\-/]+$")


# --- validation ----------------------------------------------------------------------


def normalise_tags(raw: str | Iterable[str] | None) -> list[str]:
    """Trimmed, lowercase, unique and sorted; a string is split on commas ("VIP, colour")."""
    if raw is None:
        return []
    items = raw.split(",") if isinstance(raw, str) else list(raw)
    tags = {" ".join(str(item).split()).lower() for item in items}
    tags.discard("")
    for tag in tags:
        if len(tag) > MAX_TAG_LENGTH:
            raise ValueError(f"the tag '{tag[:20]}…' is longer than {MAX_TAG_LENGTH} characters")
    return sorted(tags)


class CustomerInput(ContactInput):
    """A customer as entered (`from_form(region=...)` reads local phone numbers)."""

    first_name: str = Field("", max_length=100)
    last_name: str = Field("", max_length=100)
    sms_opt_in: bool = False
    email_opt_in: bool = False
    notes: str = Field("", max_length=5000)
    tags: list[str] = Field(default_factory=list)

    @field_validator("first_name")
    @classmethod
    def _first_name(cls, value: str) -> str:
        if not value:
            raise ValueError("a first name is required")
        return value

    @field_validator("tags", mode="before")
    @classmethod
    def _tags(cls, value: Any) -> list[str]:
        return normalise_tags(value)

    @model_validator(mode="after")
    def _consent_needs_contact(self) -> Self:
        if self.sms_opt_in and not self.phone:
            raise ValueError("SMS consent needs a phone number")
        if self.email_opt_in and not self.email:
            raise ValueError("e-mail consent needs an e-mail address")
        return self

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


# --- consent -------------------------------------------------------------------------


def compute_consent_at(
    *, was_in: bool, was_at: datetime | None, now_in: bool, now: datetime
) -> datetime | None:
    """The `*_opt_in_at` after an edit (module docstring): stamped on, kept, cleared on off."""
    if not now_in:
        return None
    return was_at if was_in else now


def merge_consent(
    keep: tuple[bool, datetime | None],
    merge: tuple[bool, datetime | None],
    *,
    contact: MergedContact,
) -> tuple[bool, datetime | None]:
    """(opt_in, opt_in_at) of one channel after a merge (module docstring)."""
    if contact == "from_merge":
        return merge
    if contact == "keep_own":
        return keep
    if not (keep[0] and merge[0]):
        return False, None
    stamps = [stamp for stamp in (keep[1], merge[1]) if stamp is not None]
    return True, min(stamps) if stamps else None


def classify_merged_contact(keep: str | None, merge: str | None) -> MergedContact:
    """Where the kept record's phone or e-mail comes from after a merge."""
    if not keep:
        return "from_merge" if merge else "keep_own"
    if merge and keep.casefold() == merge.casefold():
        return "shared"
    return "keep_own"


def merge_notes(keep: str, merge: str) -> str:
    keep, merge = keep.strip(), merge.strip()
    if not merge or merge in keep:
        return keep
    return f"{keep}\n\n{merge}" if keep else merge


# --- search --------------------------------------------------------------------------


def build_phone_prefixes(query: str, region: str | None) -> list[str]:
    """The E.164 prefixes a phone-like query may stand for; [] when it is not number-like.

    "+49 151 2", "0049 1512", "0151 2" (national, with the trunk 0) and "1512" (national
    without it, or international without +) all become prefixes of stored E.164 numbers.
    Without a leading + a query needs three digits to count as a number.
    """
    text = query.strip()
    digits = re.sub(r"\D", "", text)
    if not _PHONE_QUERY.match(text) or len(digits) < (1 if text.startswith("+") else 3):
        return []
    try:
        complete = normalise_phone(text, region)
    except ValueError:
        complete = None
    if complete:
        return [complete]
    if text.startswith("+"):
        return [f"+{digits}"]
    if digits.startswith("00"):
        return [f"+{digits[2:]}"]
    region = (region or "").upper()
    code = phonenumbers.country_code_for_region(region) if region else 0
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region) if region else None
    trunk = (metadata.national_prefix if metadata else None) or ""
    if code and trunk and digits.startswith(trunk):
        return [f"+{code}{digits[len(trunk) :]}"]
    prefixes = [f"+{code}{digits}"] if code else []
    return [*prefixes, f"+{digits}"] if not digits.startswith("0") else prefixes


def escape_like(text: str, escape: str = "\\") -> str:
    """`text` as a literal inside a LIKE pattern: %, _ and the escape character escaped."""
    return "".join(escape + ch if ch in ("%", "_", escape) else ch for ch in text)


def build_case_variants(text: str, *, max_variants: int = 16) -> list[str]:
    """Every upper/lower spelling of the longest head of `text` with <= max_variants of them.

    Letters multiply the spellings, digits and symbols do not: "user12345@ex" becomes the
    16 spellings of "user12345@". Only one-character case mappings count ("ß" stays "ß").
    """
    variants = [""]
    for char in text:
        spellings = sorted({s for s in (char, char.lower(), char.upper()) if len(s) == 1})
        if len(variants) * len(spellings) > max_variants:
            break
        variants = [variant + spelling for variant in variants for spelling in spellings]
    return variants


def prefix_upper_bound(prefix: str) -> str | None:
    """The smallest string above every string that starts with `prefix`, in code point
    order (= UTF-8 byte order); None when there is none (a prefix of only U+10FFFF)."""
    if not prefix:
        return None
    last = ord(prefix[-1]) + 1
    if 0xD800 <= last <= 0xDFFF:  # surrogates are not characters; skip to the next one
        last = 0xE000
    if last > 0x10FFFF:
        return prefix_upper_bound(prefix[:-1])
    return prefix[:-1] + chr(last)


# --- profile figures -----------------------------------------------------------------


def full_name(row: Mapping[str, Any]) -> str:
    return f"{row.get('first_name') or ''} {row.get('last_name') or ''}".strip()


def compute_visit_stats(visits: Iterable[Mapping[str, Any]], *, now: datetime) -> dict[str, Any]:
    """Counts, lifetime value (completed prices) and the next booked or confirmed visit."""
    rows = list(visits)
    completed = [v for v in rows if v["status"] == "completed"]
    upcoming = sorted(
        (v for v in rows if v["status"] in ACTIVE_STATUSES and v["starts_at"] >= now),
        key=lambda v: v["starts_at"],
    )
    return {
        "counts": {
            "completed": len(completed),
            "no_shows": sum(v["status"] == "no_show" for v in rows),
            "cancellations": sum(v["status"] == "cancelled" for v in rows),
            "upcoming": len(upcoming),
            "total": len(rows),
        },
        "lifetime_value_cents": sum(int(v["price_cents"]) for v in completed),
        "first_visit_at": min((v["starts_at"] for v in completed), default=None),
        "last_visit_at": max((v["starts_at"] for v in completed), default=None),
        "next_appointment": dict(upcoming[0]) if upcoming else None,
    }


def build_duplicate_pairs(
    groups: Iterable[tuple[str, Iterable[Mapping[str, Any]]]], *, limit: int
) -> list[dict[str, Any]]:
    """Pairs from groups of customers sharing a key: each member pairs with the oldest one.

    `groups` holds (reason, members); one pair found for several reasons lists them all.
    """
    pairs: dict[tuple[int, int], dict[str, Any]] = {}
    for reason, members in groups:
        ordered = sorted(members, key=lambda m: m["id"])
        for other in ordered[1:]:
            first = ordered[0]
            pair = pairs.setdefault(
                (first["id"], other["id"]),
                {"a_id": first["id"], "a_name": full_name(first),
                 "b_id": other["id"], "b_name": full_name(other), "reasons": []},
            )  # fmt: skip
            if reason not in pair["reasons"]:
                pair["reasons"].append(reason)
    return [pairs[key] for key in sorted(pairs)][:limit]


# --- display -------------------------------------------------------------------------


def describe_consent(opt_in: bool, at: datetime | None, tz_name: str) -> str:
    if not opt_in:
        return "No"
    return f"Yes, since {format_local(at, tz_name)}" if at else "Yes (date not recorded)"


def describe_duplicate(pair: Mapping[str, Any]) -> str:
    reasons = ", ".join(REASON_LABELS.get(r, r) for r in pair["reasons"])
    return f"{pair['a_name']} (#{pair['a_id']}) and {pair['b_name']} (#{pair['b_id']}): {reasons}"


def describe_merge(names: Mapping[int, str], *, keep_id: int, merge_id: int) -> str:
    """The confirmation a merge asks for."""
    return (
        f"Yes, merge {names[merge_id]} (#{merge_id}) into {names[keep_id]} (#{keep_id}): "
        "its visits move over and it leaves the search results"
    )


def describe_merged(profile: Mapping[str, Any]) -> str | None:
    """The notice on a merged customer's profile; None for a live one."""
    if profile.get("merged_into_id") is None:
        return None
    return (
        f"Merged into {profile['merged_into_name']} (#{profile['merged_into_id']}): its visits "
        "belong there now; this record is kept read-only for its history and external id."
    )


def describe_customer(row: Mapping[str, Any]) -> str:
    contact = row.get("phone") or row.get("email") or "no contact details"
    return f"{full_name(row)} · {contact} (#{row['id']})"


def build_search_table(rows: Iterable[Mapping[str, Any]], tz_name: str) -> list[dict[str, Any]]:
    """Display rows for the search results; the last visit as a local date."""
    return [
        {
            "Name": full_name(row),
            "Phone": row.get("phone") or "",
            "E-mail": row.get("email") or "",
            "Visits": row.get("visits", 0),
            "Last visit": format_local(row["last_visit_at"], tz_name)[:14]
            if row.get("last_visit_at")
            else "",
        }
        for row in rows
    ]


def build_visit_table(
    visits: Iterable[Mapping[str, Any]], tz_name: str, currency: str
) -> list[dict[str, Any]]:
    """The visit history, newest first, in local time and the business currency."""
    ordered = sorted(visits, key=lambda v: v["starts_at"], reverse=True)
    return [
        {
            "When": format_local(v["starts_at"], tz_name),
            "Service": v["service"],
            "Staff": v["staff"],
            "Status": STATUS_LABELS.get(v["status"], v["status"]),
            "Price": format_money(v["price_cents"], currency),
        }
        for v in ordered
    ]


def build_profile_metrics(profile: Mapping[str, Any], tz_name: str, currency: str) -> dict:
    """Label -> text for the profile's metric cards."""
    counts, upcoming = profile["counts"], profile["next_appointment"]
    return {
        "Visits": str(counts["completed"]),
        "No-shows": str(counts["no_shows"]),
        "Cancellations": str(counts["cancellations"]),
        "Lifetime value": format_money(profile["lifetime_value_cents"], currency),
        "Next appointment": format_local(upcoming["starts_at"], tz_name) if upcoming else "None",
    }


def build_form_values(row: Mapping[str, Any]) -> dict[str, Any]:
    """A customer form's starting values: the row's, blank where it has none."""
    blank: dict[str, Any] = {"first_name": "", "last_name": "", "phone": "", "email": "",
                             "sms_opt_in": False, "email_opt_in": False, "tags": [],
                             "notes": ""}  # fmt: skip
    values = {key: row.get(key) or empty for key, empty in blank.items()}
    return {**values, "tags": ", ".join(values["tags"])}


def build_profile_details(profile: Mapping[str, Any], tz_name: str) -> list[dict[str, str]]:
    """Rows {"Detail", "Value"}: contact, consents (local time), tags and ids. (Churn
    risk has its own line: analytics.retention_display.describe_churn_score.)"""
    details = {
        "Phone": profile.get("phone") or "-",
        "E-mail": profile.get("email") or "-",
        "SMS consent": describe_consent(profile["sms_opt_in"], profile["sms_opt_in_at"], tz_name),
        "E-mail consent": describe_consent(
            profile["email_opt_in"], profile["email_opt_in_at"], tz_name
        ),
        "Tags": ", ".join(profile.get("tags") or []) or "-",
        "External id": profile.get("external_id") or "-",
        "Customer since": format_local(profile["created_at"], tz_name)[:14],
    }
    return [{"Detail": label, "Value": value} for label, value in details.items()]
