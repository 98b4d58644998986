"""Shared fixtures: the real corpus (optional) and the project's own samples."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLES_DIR = ROOT / "samples"
CORPUS_DIR = ROOT.parent / "shared" / "corpus" / "embedded-ai-report"


def corpus_files() -> list[Path]:
    return sorted(CORPUS_DIR.glob("*.md")) if CORPUS_DIR.is_dir() else []


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    if not CORPUS_DIR.is_dir():
        pytest.skip(f"real corpus not found at {CORPUS_DIR} (../shared/corpus is absent)")
    return CORPUS_DIR


@pytest.fixture(scope="session")
def samples_dir() -> Path:
    return SAMPLES_DIR
