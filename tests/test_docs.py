"""The docs site is whole: every page in the nav exists, every page is in the nav, and every
theorem id cited in a docs page is registered."""

import re
from pathlib import Path

import proofs_check

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


def _nav_files():
    return re.findall(r":\s*([\w/.-]+\.md)\s*$", (ROOT / "mkdocs.yml").read_text(), flags=re.M)


def test_nav_pages_exist_and_cover_docs():
    nav = set(_nav_files())
    for f in nav:
        assert (DOCS / f).is_file(), f"mkdocs nav names a missing page: {f}"
    pages = {str(p.relative_to(DOCS)) for p in DOCS.rglob("*.md")}
    assert pages - nav == set(), f"pages missing from the mkdocs nav: {sorted(pages - nav)}"


def test_relative_links_resolve():
    for page in DOCS.rglob("*.md"):
        for target in re.findall(r"\]\(([^)#:]+\.md)(?:#[^)]*)?\)", page.read_text()):
            assert (page.parent / target).resolve().is_file(), f"{page.relative_to(ROOT)} links to missing {target}"


def _is_api_name(dotted: str) -> bool:
    """True when ``online_algs.<dotted>`` names a module or attribute (an API name, not a theorem id)."""
    import importlib

    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module("online_algs." + ".".join(parts[:cut]))
        except ImportError:
            continue
        try:
            for attr in parts[cut:]:
                obj = getattr(obj, attr)
            return True
        except AttributeError:
            return False
    return False


def test_theorem_ids_cited_in_docs_are_registered():
    proofs_check.load_all()
    ids = set(proofs_check.THEOREMS)
    families = {i.split(".")[0] for i in ids}
    bad = []
    for page in DOCS.rglob("*.md"):
        if page.name == "theorems.md":
            continue
        for cited in re.findall(r"`([a-z_]+(?:\.[a-z0-9_]+){1,3})`", page.read_text()):
            if (cited.split(".")[0] in families and cited not in ids
                    and not any(i.startswith(cited + ".") for i in ids) and not _is_api_name(cited)):
                bad.append(f"{page.relative_to(ROOT)}: {cited}")
    assert not bad, "docs cite theorem ids that are not registered:\n" + "\n".join(bad)
