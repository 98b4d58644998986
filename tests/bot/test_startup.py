"""Operator errors stop `briefbot` at start with one line naming the key (exit 2), and the
commands that write say which archive and sources they use; the cwd decides nothing."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from sqlalchemy.engine import make_url

from bot.cli import main
from tests.conftest import SAMPLES_DIR
from tests.dbfixtures import PG_ADMIN_URL, REQUIRE_POSTGRES

SECRET = "S3cr3t-Never-Shown-0451"
Run = Callable[..., tuple[int, str, str]]


@pytest.fixture
def briefbot(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> Run:
    """`briefbot ARGS...` in-process from an empty cwd, with only the given environment."""
    for name in [n for n in os.environ if n.startswith("BRIEFBOT_")]:
        if name != "BRIEFBOT_REQUIRE_POSTGRES":
            monkeypatch.delenv(name)
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)

    def run(*args: str, **env: str) -> tuple[int, str, str]:
        for key, value in env.items():
            monkeypatch.setenv(f"BRIEFBOT_{key}", value)
        code = main(list(args))
        out, err = capsys.readouterr()
        return code, out, err

    return run


def one_line_error(err: str) -> str:
    """The error line of a start-up failure; nothing else but the start-up line."""
    lines = [line for line in err.splitlines() if not line.startswith("briefbot: archive:")]
    assert len(lines) == 1, err
    assert "Traceback" not in err and SECRET not in err
    return lines[0]


@pytest.mark.parametrize(
    ("env", "named"),
    [
        (
            {"WECHAT_APP_ID": "wx1", "WECHAT_TOKEN": SECRET, "WECHAT_ENCODING_AES_KEY": SECRET},
            "wechat.encoding_aes_key",
        ),
        ({"PUBLISH_TIMEZONE": "Asia/Shangai"}, "publish.timezone"),
        ({"STORAGE_URL": f"mysql://root:{SECRET}@127.0.0.1/b"}, "storage.url"),
        ({"TELEGRAM_ADMINS": "1;2"}, "telegram.admins"),
        ({"WECOM_CORP_ID": "ww1", "WECOM_SECRET": SECRET}, "wecom.agent_id"),
        ({"TELEGRAM_WEBHOOK_URL": "https://bot.example.com/hook"}, "telegram.token"),
    ],
)
def test_configuration_errors_are_one_line_before_anything_runs(
    briefbot: Run, tmp_path: Path, env: dict[str, str], named: str
) -> None:
    code, out, err = briefbot("issues", **env)
    assert code == 2 and out == ""
    line = one_line_error(err)
    assert line.startswith("briefbot: invalid configuration") and named in line
    assert list((tmp_path / "cwd").iterdir()) == []


def test_admins_as_a_comma_list_in_the_environment_work(briefbot: Run, tmp_path: Path) -> None:
    code, _, err = briefbot(
        "issues", TELEGRAM_ADMINS="1,2", STORAGE_URL=f"sqlite+aiosqlite:///{tmp_path / 'a.db'}"
    )
    assert code == 0, err


def test_an_unopenable_sqlite_folder_is_one_line(briefbot: Run, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder", encoding="utf-8")
    code, _, err = briefbot("issues", STORAGE_URL=f"sqlite+aiosqlite:///{blocker / 'x.db'}")
    assert code == 2 and "storage.url" in one_line_error(err)


def test_an_unreachable_database_server_is_one_line(briefbot: Run) -> None:
    url = f"postgresql+psycopg://postgres:{SECRET}@127.0.0.1:9/briefbot"
    code, _, err = briefbot("issues", STORAGE_URL=url)
    line = one_line_error(err)
    assert code == 2 and line.startswith("briefbot: storage.url: cannot open") and ":***@" in line


@pytest.fixture
def missing_database() -> Iterator[str]:
    try:
        admin = psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        if REQUIRE_POSTGRES:
            pytest.fail(f"PostgreSQL unreachable at {PG_ADMIN_URL}: {exc}")
        pytest.skip(f"PostgreSQL unreachable at {PG_ADMIN_URL}")
    name = f"briefbot_cli_{secrets.token_hex(4)}"
    url = make_url(PG_ADMIN_URL).set(drivername="postgresql+psycopg", database=name)
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


@pytest.mark.postgres
def test_a_missing_postgres_database_says_how_and_db_create_makes_it(
    briefbot: Run, missing_database: str
) -> None:
    name = make_url(missing_database).database
    code, _, err = briefbot("issues", STORAGE_URL=missing_database)
    line = one_line_error(err)
    assert code == 2 and f'database "{name}" does not exist' in line
    assert "briefbot db create" in line and "storage.url" in line

    code, out, err = briefbot("db", "create")
    assert code == 0 and out.startswith("created, at head: postgresql+psycopg://"), err
    code, out, _ = briefbot("db", "create")
    assert code == 0 and out.startswith("already exists, at head:")
    code, out, err = briefbot("issues")
    assert code == 0 and "the archive is empty" in out, err


def test_db_create_on_sqlite_creates_and_migrates(briefbot: Run, tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'db' / 'new.sqlite3'}"
    code, out, _ = briefbot("db", "create", STORAGE_URL=url)
    assert code == 0 and out.startswith("created, at head: ")
    assert briefbot("db", "create")[1].startswith("already exists")


# --- The cwd decides nothing ------------------------------------------------------------


def test_a_config_elsewhere_keeps_its_archive_beside_it(briefbot: Run, tmp_path: Path) -> None:
    conf = tmp_path / "conf"
    conf.mkdir()
    (conf / "briefs").mkdir()
    (conf / "briefs" / "2026-11-16.md").write_bytes((SAMPLES_DIR / "2026-11-16.md").read_bytes())
    config = conf / "briefbot.toml"
    config.write_text(
        '[storage]\nurl = "sqlite+aiosqlite:///data/b.sqlite3"\n'
        '[[sources]]\nkind = "folder"\npath = "briefs"\n',
        encoding="utf-8",
    )
    code, _, err = briefbot("--config", str(config), "tick", "--now", "2026-11-16T12:00:00")
    assert f"archive: sqlite+aiosqlite:///{conf / 'data' / 'b.sqlite3'} (config {config})" in err
    assert f"sources: folder {conf / 'briefs'}" in err
    code, out, err = briefbot("--config", str(config), "issues")
    assert code == 0 and "2026-11-16" in out, err
    assert (conf / "data" / "b.sqlite3").is_file()
    assert list((tmp_path / "cwd").iterdir()) == []  # no ./data, nothing at all


def test_the_default_sources_are_the_checkouts_samples_whatever_the_cwd(
    briefbot: Run, tmp_path: Path
) -> None:
    db = tmp_path / "elsewhere.sqlite3"
    code, _, err = briefbot(
        "tick", "--now", "2026-11-16T12:00:00", STORAGE_URL=f"sqlite+aiosqlite:///{db}"
    )
    assert f"sources: folder {SAMPLES_DIR}" in err.splitlines()[0], err
    code, out, _ = briefbot("issues")
    assert code == 0 and "2026-11-16" in out  # the bundled samples were found and archived
    assert list((tmp_path / "cwd").iterdir()) == []


def test_issues_from_another_directory_creates_no_data_there(tmp_path: Path) -> None:
    """The real entry point, from an empty cwd, with no environment override at all."""
    entry = Path(sys.executable).with_name("briefbot")
    if not entry.exists():
        pytest.skip("the briefbot entry point is not installed in this venv")
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRIEFBOT_")}
    conf = tmp_path / "conf"
    conf.mkdir()
    (conf / "c.toml").write_text('[storage]\nurl = "sqlite+aiosqlite:///data/c.db"\n', "utf-8")
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    done = subprocess.run(
        [str(entry), "--config", str(conf / "c.toml"), "issues"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert list(cwd.iterdir()) == [] and (conf / "data" / "c.db").is_file()


# --- The web port ------------------------------------------------------------------------


@pytest.fixture
def occupied_port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield int(sock.getsockname()[1])


def test_a_port_in_use_is_one_line_in_a_real_process(tmp_path: Path, occupied_port: int) -> None:
    entry = Path(sys.executable).with_name("briefbot")
    if not entry.exists():
        pytest.skip("the briefbot entry point is not installed in this venv")
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRIEFBOT_")} | {
        "BRIEFBOT_STORAGE_URL": f"sqlite+aiosqlite:///{tmp_path / 'p.db'}",
        "BRIEFBOT_WECHAT_APP_ID": "wx1",
        "BRIEFBOT_WECHAT_TOKEN": SECRET,  # callbacks configured: run must serve HTTP
        "BRIEFBOT_WEB_PORT": str(occupied_port),
    }
    done = subprocess.run(
        [str(entry), "run", "--no-chat"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert one_line_error(done.stderr) == (
        f"briefbot: web.port {occupied_port} is in use on 127.0.0.1"
    )


def test_a_host_that_cannot_be_bound_is_one_line(briefbot: Run, tmp_path: Path) -> None:
    code, _, err = briefbot(
        "run",
        "--no-chat",
        STORAGE_URL=f"sqlite+aiosqlite:///{tmp_path / 'h.db'}",
        WECHAT_APP_ID="wx1",
        WECHAT_TOKEN=SECRET,
        WEB_HOST="203.0.113.7",  # TEST-NET-3: never an address of this machine
    )
    line = one_line_error(err)
    assert code == 2 and line.startswith("briefbot: web.host 203.0.113.7 cannot be bound")
