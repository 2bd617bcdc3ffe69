"""The documentation site builds with warnings as errors, and the README stays a short front door.

``mkdocs build --strict`` with mkdocs.yml's ``validation`` block turns a broken link, a link to a missing
page, a dangling ``#anchor``, a missing snippet (a schema, CONTRIBUTING.md) and an API page whose module
does not load into a failed build. A second, tiny site checks that those settings really fail on a
dangling anchor, so a weakened mkdocs.yml cannot pass unnoticed.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
README_MAX_LINES = 200


def mkdocs_build(config: Path, site_dir: Path, cwd: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")  # mkdocs-material's banner about mkdocs 2
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(config), "-d", str(site_dir)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.slow
def test_site_builds_strict(tmp_path):
    site = tmp_path / "site"
    done = mkdocs_build(ROOT / "mkdocs.yml", site, ROOT)
    assert done.returncode == 0, f"mkdocs build --strict failed:\n{done.stdout}\n{done.stderr}"
    # the generated parts are there: the API reference from docstrings, the included schemas and CONTRIBUTING.md
    api = (site / "api" / "index.html").read_text(encoding="utf-8")
    assert "FinetuneSpec" in api and "compare_models" in api
    assert "DataReaderSpec" in (site / "base-configs" / "index.html").read_text(encoding="utf-8")
    assert "Adding a component" in (site / "contributing" / "index.html").read_text(encoding="utf-8")


@pytest.mark.slow
def test_strict_settings_fail_on_a_dangling_anchor(tmp_path):
    """The repository's validation settings, on two pages where one links to an anchor the other lacks."""
    settings = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "index.md").write_text("# Home\n\nSee [the part](other.md#no-such-part).\n", encoding="utf-8")
    (docs / "other.md").write_text("# Other\n\n## A part\n", encoding="utf-8")
    config = tmp_path / "mkdocs.yml"
    config.write_text(
        yaml.safe_dump({"site_name": "t", "docs_dir": "docs", "validation": settings["validation"]}), encoding="utf-8"
    )
    done = mkdocs_build(config, tmp_path / "site", tmp_path)
    assert done.returncode != 0
    assert "no-such-part" in done.stdout + done.stderr


def test_readme_is_short_and_its_links_resolve():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    lines = text.splitlines()
    assert len(lines) <= README_MAX_LINES, f"README.md has {len(lines)} lines; keep it at most {README_MAX_LINES}"
    targets = re.findall(r"\]\(([^)\s]+)\)", text)
    local = [t.split("#")[0] for t in targets if not re.match(r"[a-z]+://", t) and not t.startswith("#")]
    assert local, "README.md links to no documentation page"
    missing = [t for t in local if not (ROOT / t).exists()]
    assert not missing, f"README.md links to missing files: {missing}"
