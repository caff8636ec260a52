"""CONTRIBUTING.md's commands, run as a new maintainer types them (after `make build`, with
the virtual environment's `healthcoop`), on a copy of the repository: the new-source line
(with the placeholder path replaced by a real article, the only substitution), the draft
line, and validate, which must then name the unconfirmed draft at its file, since a draft
never passes for finished records."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ARTICLE = ROOT / "tests" / "fixtures" / "new_article.txt"


def _commands() -> list[str]:
    text = (ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```sh\n(.*?)```", text, re.S)
    lines = [ln.split("  #")[0].strip() for b in blocks for ln in b.splitlines()]
    return [ln for ln in lines if ln.startswith("healthcoop ")]


def test_contributing_commands_run_as_written(tmp_path):
    commands = _commands()
    new_source = next(c for c in commands if c.startswith("healthcoop new-source"))
    draft = next(c for c in commands if c.startswith("healthcoop draft"))
    validate = next(c for c in commands if c == "healthcoop validate")
    assert "path/to/article.txt" in new_source
    project = tmp_path / "repo"
    for part in ("data", "ontology", "shapes", "queries"):
        shutil.copytree(ROOT / part, project / part)
    shutil.copy(ARTICLE, tmp_path / "article.txt")
    env = {**os.environ, "PYTHONPATH": str(ROOT),
           "PATH": f"{ROOT / '.venv' / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}"}

    def run(command: str) -> subprocess.CompletedProcess:
        return subprocess.run(shlex.split(command), cwd=project, env=env, capture_output=True,
                              text=True, timeout=300)

    added = run(new_source.replace("path/to/article.txt", str(tmp_path / "article.txt")))
    assert added.returncode == 0, added.stderr
    source_id = re.search(r"--id (\S+)", new_source).group(1)
    assert (project / "data/records" / f"{source_id}.yaml").is_file()
    drafted = run(draft)
    assert drafted.returncode == 0, drafted.stderr
    assert (project / "data/records" / f"{source_id}.draft.yaml").is_file()
    checked = run(validate)
    assert checked.returncode == 1, checked.stdout
    assert f"data/records/{source_id}.draft.yaml" in checked.stdout
    assert "draft not confirmed" in checked.stdout
    assert "Traceback" not in checked.stderr
