"""ember/flags.py is the one list of EMBER_* switches: README's table is generated from it, and a flag reads the
environment when it is asked."""

import pathlib

from ember import flags

REPO_ROOT = pathlib.Path(__file__).resolve().parent.parent
REGENERATE = "python -m ember flags --markdown"


def _readme_table():
    text = (REPO_ROOT / "README.md").read_text()
    start = text.index("<!-- generated from ember/flags.py")
    start = text.index("\n", start) + 1
    return text[start:text.index("<!-- end of the generated table -->", start)].strip()


def test_readme_table_is_generated_from_the_flags_module():
    assert _readme_table() == flags.markdown_table(), (
        f"README.md's environment table differs from ember/flags.py: run `{REGENERATE}` and paste its output "
        "between the markers in README.md")


def test_flags_are_read_when_asked(monkeypatch):
    monkeypatch.setenv(flags.FUSED_POOL.name, "0")
    assert not flags.FUSED_POOL.enabled()
    monkeypatch.setenv(flags.FUSED_POOL.name, "")  # empty counts as unset
    assert flags.FUSED_POOL.enabled()
    monkeypatch.delenv(flags.DEBUG.name, raising=False)
    assert not flags.DEBUG.enabled()
    monkeypatch.setenv(flags.CACHE_DIR.name, "/tmp/kernels-here")
    assert flags.CACHE_DIR.value() == "/tmp/kernels-here"

