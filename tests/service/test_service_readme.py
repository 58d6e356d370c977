"""The README's service example runs as written: its curl commands against a real server.

Only the address (a free port instead of 8000), the dataset name (the test's) and the run id
(``ID``, taken from the first answer) are substituted; the commands are run with curl.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
from service_helpers import REPO, Server, wait_for


def _service_commands() -> list[str]:
    readme = (REPO / "README.md").read_text()
    section = readme.split("## The service", 1)[1].split("\n## ", 1)[0]
    (block,) = re.findall(r"```bash\n(.*?)```", section, flags=re.S)
    joined = block.replace("\\\n", " ")
    return [
        line.split(" #", 1)[0].strip() for line in joined.splitlines() if line.startswith("curl ")
    ]


def test_readme_curl_example(server: Server, tmp_path: Path) -> None:
    if shutil.which("curl") is None:
        pytest.skip("curl is not installed")
    commands = _service_commands()
    assert len(commands) == 5 and "workbench serve" in (REPO / "README.md").read_text()
    host = server.url.removeprefix("http://")

    def run(command: str, record_id: str = "") -> str:
        command = command.replace("localhost:8000", host).replace('"nifty-demo"', '"nifty"')
        command = command.replace("/ID", f"/{record_id}")
        done = subprocess.run(
            shlex.split(command), cwd=tmp_path, capture_output=True, text=True, check=True
        )
        return done.stdout

    submitted = json.loads(run(commands[0]))
    assert submitted["status"] == "queued"
    record_id = submitted["id"]
    status = json.loads(run(commands[1], record_id))
    assert status["id"] == record_id and "progress" in status
    assert wait_for(server.client(), f"/api/backtests/{record_id}")["status"] == "completed"
    metrics = json.loads(run(commands[1], record_id))["metrics"]
    assert metrics["days_traded"] == 3 and metrics["days"] == 21  # January: 3 days with data
    run(commands[2], record_id)
    assert "<html" in (tmp_path / "tearsheet.html").read_text()
    run(commands[3], record_id)
    lines = (tmp_path / "tradebook.csv").read_text().splitlines()
    assert lines[0].startswith('"run_id"') and len(lines) > 1
    cancelled = json.loads(run(commands[4], record_id))
    assert "already completed" in cancelled["detail"]
