"""Which external programs (installed by .ci/install-tools) are here, and the rule for
tests that need one: outside CI a missing program skips the test with the install hint;
under CI=true (as .ci/run is run) it fails it, so CI cannot go green without its judges.
(tests/test_tools_present.py applies the same rule to the list of tools itself.)"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

TOOLS = Path(__file__).resolve().parent
JENA = TOOLS / "jena"
OWL_PROFILE = TOOLS / "owl-profile"
JAVA_DIR = Path(os.environ.get("JENA_JAVA_DIR", "/usr/share/java"))  # as tests/tools/jena
OWLAPI_DIR = Path(os.environ.get("OWLAPI_JAVA_DIR", "/usr/share/java"))  # as owl-profile
IN_CI = os.environ.get("CI", "").lower() == "true"


def need(ok: object, what: str) -> None:
    """Skip (outside CI) or fail (under CI=true) unless `ok`."""
    if ok:
        return
    message = f"{what} is missing: run .ci/install-tools"
    if IN_CI:
        pytest.fail(message)
    pytest.skip(message)


def jena_present() -> bool:
    """Debian's libapache-jena-java and a java to run it (through tests/tools/jena)."""
    return bool(shutil.which("java")) and (JAVA_DIR / "jena-core.jar").is_file()


def owlapi_present() -> bool:
    """Debian's libowlapi-java, and javac to compile tests/tools/OwlProfile.java."""
    return (bool(shutil.which("java")) and bool(shutil.which("javac"))
            and (OWLAPI_DIR / "owlapi-distribution.jar").is_file())


def virtuoso_present() -> bool:
    return bool(shutil.which("virtuoso-t")) and bool(shutil.which("isql-vt"))
