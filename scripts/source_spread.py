"""Where each source's name appears in code outside its own package: `python scripts/source_spread.py`.

Code means identifiers and string literals, not comments or docstrings. A source's own package
is health_pipeline/sources/<name>/ (its tidy SQL and its sandbox fake included). The README's
"Adding a source" promises that only the registry names it.
"""

import ast
import io
import sys
import tokenize
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "health_pipeline"


def _docstrings(tree: ast.AST) -> set[tuple[int, int]]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
                found.add((first.lineno, first.col_offset))
    return found


def code_words(path: Path) -> str:
    """The file's identifiers and string literals (lower case), without comments and docstrings."""
    source = path.read_text(encoding="utf-8")
    docs = _docstrings(ast.parse(source))
    kept = []
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.STRING and token.start in docs:
            continue
        if token.type in (tokenize.NAME, tokenize.STRING) or token.type == getattr(tokenize, "FSTRING_MIDDLE", -1):
            kept.append(token.string.lower())
    return " ".join(kept)


def spread(name: str, package: Path = PACKAGE) -> list[str]:
    """The modules outside the source's own package and the importers' packages (`fitbit_takeout`,
    `health_sync`: mapping an export onto the sources is their own knowledge) whose code names it."""
    own = package / "sources" / name

    importers = {p.parent for p in (package / "sources").glob("*/__init__.py") if "ImportSource(" in p.read_text()}

    def owned(path: Path) -> bool:  # an importer's package maps another tool's data onto the sources: its own knowledge
        return own in path.parents or any(p in importers for p in path.parents)
    return sorted(str(path.relative_to(package)) for path in package.rglob("*.py")
                  if not owned(path) and name in code_words(path))


if __name__ == "__main__":
    sys.path.insert(0, str(PACKAGE.parent))
    from health_pipeline.registry import REGISTRY

    for source in REGISTRY.apis:
        found = spread(source.name)
        print(f"{source.name:<10} {len(found)}  {' '.join(found)}")
