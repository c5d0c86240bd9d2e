"""``fedsafe crate show``: a readable summary, and a clear refusal of a broken crate."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from provenance.crates import partly_released
from provenance.test_crates import make

FEDSAFE = str(Path(sys.executable).with_name("fedsafe"))


def test_show_summarises_a_crate(tmp_path):
    data, _ = make("partly_released", tmp_path)
    file = tmp_path / "crate.zip"
    file.write_bytes(data)
    done = subprocess.run([FEDSAFE, "crate", "show", str(file)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    record = partly_released()[0]
    assert f"crate urn:uuid:{record.crate_uuid}" in out
    assert "project: diabetes" in out
    assert "released outputs/north/output/table.csv sha256" in out
    assert "DisclosureCheck" in out and "rejected (file withheld)" in out
    assert "SignOff" in out and "profile 0.4: conforms" in out
    assert "small_counts" not in out


def test_show_refuses_a_broken_crate(tmp_path):
    file = tmp_path / "crate.zip"
    file.write_bytes(b"PK not really")
    done = subprocess.run([FEDSAFE, "crate", "show", str(file)], capture_output=True, text=True)
    assert done.returncode != 0
    assert "not a zip file" in done.stderr + done.stdout
