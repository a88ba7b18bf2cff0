"""ember/flags.py is the one list of EMBER_* switches: README's table is generated from it, every switch the code
names is declared there, and a flag reads the environment when it is asked."""

import pathlib
import re

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


def test_every_switch_the_repository_names_is_declared_once():
    declared = [flag.name for flag in flags.ALL]
    assert len(declared) == len(set(declared))
    named = set()
    for folder in ("ember", "bench", "tests", "examples", "docs"):
        for path in (REPO_ROOT / folder).rglob("*"):
            if path.suffix in (".py", ".md") and path != REPO_ROOT / "ember" / "flags.py":
                text = path.read_text()
                constants = set(re.findall(r"^\s*(EMBER_\w+) =", text, re.MULTILINE))  # Python names, not switches
                named.update(set(re.findall(r"\bEMBER_[A-Z_]*[A-Z]\b", text)) - constants)
    assert named <= set(declared), f"switches missing from ember/flags.py: {sorted(named - set(declared))}"


def test_flags_are_read_when_asked(monkeypatch):
    monkeypatch.setenv(flags.FUSED_POOL.name, "0")
    assert not flags.FUSED_POOL.enabled()
    monkeypatch.setenv(flags.FUSED_POOL.name, "")  # empty counts as unset
    assert flags.FUSED_POOL.enabled()
    monkeypatch.delenv(flags.DEBUG.name, raising=False)
    assert not flags.DEBUG.enabled()
    monkeypatch.setenv(flags.CACHE_DIR.name, "/tmp/kernels-here")
    assert flags.CACHE_DIR.value() == "/tmp/kernels-here"


def test_no_module_reads_an_ember_switch_from_the_environment_directly():
    pattern = re.compile(r"""environ(\.get\(|\[)\s*["']EMBER_""")
    offenders = [str(path.relative_to(REPO_ROOT)) for folder in ("ember", "bench", "examples")
                 for path in (REPO_ROOT / folder).rglob("*.py")
                 if path != REPO_ROOT / "ember" / "flags.py" and pattern.search(path.read_text())]
    assert offenders == [], f"read these switches through ember.flags: {offenders}"
