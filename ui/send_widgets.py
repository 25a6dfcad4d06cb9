"""Widgets every send on the Notifications page shares: the "before sending" box, the
progress bar, the dispatch summary, the rendered preview and the SMS segment counter."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
import streamlit as st

from notifications.dispatcher import DispatchReport
from notifications.planning import QuietHours
from notifications.sms import count_segments
from notifications.templates import TemplateProblem, render_template
from ui.notifications_data import Progress


def render_before_sending(
    sending: int, reasons: Sequence[str], *, quiet: QuietHours | None, tz: str, now: datetime
) -> None:
    """How many will be sent and how many skipped, the skip reasons counted, and a warning
    when it is quiet hours now."""
    st.subheader("Before sending")
    st.markdown(f"**{sending} will be sent, {len(reasons)} skipped.**")
    if quiet is not None and quiet.contains(now.astimezone(ZoneInfo(tz)).time()):
        st.warning(f"It is quiet hours ({quiet.start:%H:%M}–{quiet.end:%H:%M} {tz}): "
                   "nothing is sent by hand until they end.")  # fmt: skip
    if reasons:
        counted = Counter(reasons).most_common()
        st.dataframe(pd.DataFrame(counted, columns=["Reason", "Skipped"]), hide_index=True)


def render_preview(
    template: dict[str, Any], variables: dict[str, str], channel: str, *, caption: str
) -> None:
    """`template` rendered with `variables` under a bold caption, with the SMS segment
    count for SMS; a template that cannot be rendered is an error on the page."""
    subject = template["subject"] if channel == "email" else None
    try:
        rendered = render_template(template["body"], variables, subject=subject)
    except TemplateProblem as exc:
        st.error(f"This template cannot be rendered ({caption}): {exc}")
        return
    st.markdown(f"**Preview** ({caption})")
    if rendered.subject is not None:
        st.text(f"Subject: {rendered.subject}")
    st.text(rendered.body)
    if channel == "sms":
        count = count_segments(rendered.body)
        st.caption(f"{count.characters} characters, {count.encoding}: {count.segments} "
                   f"SMS segment(s) of up to {count.per_segment} characters.")  # fmt: skip


def describe(report: DispatchReport) -> str:
    return (f"{report.sent} sent, {report.retried} to retry later, {report.failed} failed, "
            f"{report.skipped} skipped")  # fmt: skip


def progress_bar() -> Progress:
    bar = st.progress(0.0, text="Sending…")

    def update(done: int, total: int) -> None:
        bar.progress(done / max(total, 1), text=f"Sent {done} of {total}")

    return update
