"""The real-data locator: fails loudly on CI, skips elsewhere, when the data is missing."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.forecasting import realdata


def test_missing_real_data_fails_on_ci_and_skips_elsewhere(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(realdata, "CANDIDATES", (tmp_path / "a", tmp_path / "b"))
    monkeypatch.setenv("CI", "1")
    with pytest.raises(pytest.fail.Exception, match="real series not found"):
        realdata.real_data_dir()
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception, match="real series not found"):
        realdata.real_data_dir()


def test_the_real_data_is_found_beside_the_project_or_in_shared() -> None:
    folder = realdata.real_data_dir()
    assert (folder / "bike_sharing" / "hour.csv").is_file()
    assert folder in realdata.CANDIDATES
