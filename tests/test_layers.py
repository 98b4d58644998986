"""The import-linter contracts of pyproject.toml hold, and each one fails on a violation.

`make lint` runs `lint-imports` too; here a copy of the packages gets one forbidden
import per contract, so a contract that stopped checking anything would be noticed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "briefings", "formatters", "storage")
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(root)}  # the copy, not the installed checkout
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(root / "pyproject.toml"), "--no-cache"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_contracts_hold() -> None:
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.fixture(scope="module")
def copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("layers")
    shutil.copy(ROOT / "pyproject.toml", root)
    for package in PACKAGES:
        ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
        shutil.copytree(ROOT / package, root / package, ignore=ignore)
    return root


@pytest.mark.parametrize(
    ("module", "statement", "contract"),
    [
        ("briefings/model.py", "import bot.i18n", "Layers"),
        ("storage/db.py", "import bot.config", "Layers"),
        ("storage/db.py", "import formatters", "Layers"),
        ("formatters/base.py", "import sqlalchemy", "The pure core does no I/O"),
        ("briefings/model.py", "import telegram", "The pure core does no I/O"),
        ("formatters/wechat.py", "import wechatpy", "The pure core does no I/O"),
        ("storage/db.py", "import aiohttp", "Storage speaks SQL only"),
        ("bot/sources/__init__.py", "import bot.publish", "Sources only fetch"),
        ("bot/delivery/engine.py", "import bot.platforms.console", "Delivery is platform-neutral"),
        ("bot/platforms/console/__init__.py", "import bot.platforms.telegram", "No chat platform"),
        ("bot/platforms/wecom/__init__.py", "import bot.platforms.wechat", "No chat platform"),
    ],
)
def test_each_contract_catches_a_violation(
    copy: Path, module: str, statement: str, contract: str
) -> None:
    path = copy / module
    original = path.read_text(encoding="utf-8")
    path.write_text(f"{original}\n{statement}  # noqa\n", encoding="utf-8")
    try:
        result = lint_imports(copy)
    finally:
        path.write_text(original, encoding="utf-8")
    assert result.returncode == 1, result.stdout + result.stderr
    broken = [line for line in result.stdout.splitlines() if line.endswith(" BROKEN")]
    assert any(line.startswith(contract) for line in broken), result.stdout
