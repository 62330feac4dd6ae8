"""Every Python block of the docs and the README runs here, so the docs cannot rot.

What "runs" means depends on the block:

* a **script** (it compiles as a module) is executed; if it ends with comment lines,
  they are its expected output, compared with what it printed. A script that defines
  ``test_*`` functions is run by pytest, in a subprocess;
* a **signature** (``Name(arg=default, ...)`` alone, the "Options" blocks) must list
  the parameters of the real ``Name``, in order, with the same defaults;
* a **fragment** (it needs top-level ``await`` or ``async with``, or is listed in
  :data:`FRAGMENTS` because it uses names the page defines elsewhere) must compile, and
  its imports must import.

Snippet includes (``--8<-- "path"``, mkdocs' pymdownx.snippets) are expanded first.
"""

from __future__ import annotations

import ast
import contextlib
import gc
import importlib.util
import inspect
import io
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import e2estream
import e2estream.backends

ROOT = Path(__file__).resolve().parent.parent
PAGES = [*sorted((ROOT / "docs").rglob("*.md")), ROOT / "README.md"]
FENCE = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)
SNIPPET = re.compile(r'^--8<-- "([^"]+)"$', re.MULTILINE)
SIGNATURE = re.compile(r"\A(\w+)\((.*)\)\s*\Z", re.DOTALL)

#: Blocks that compile as a module but use names defined elsewhere on their page:
#: (page, first line of the block's code) -> why.
FRAGMENTS = {
    ("docs/segmentation.md", 8): "llm_deltas and speak() stand for the host's own",
}


@dataclass(frozen=True)
class Block:
    page: str
    line: int  # of the block's first line of code
    source: str

    def __str__(self) -> str:
        return f"{self.page}:{self.line}"


def collect() -> list[Block]:
    blocks = []
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        for match in FENCE.finditer(text):
            source = SNIPPET.sub(
                lambda include: (ROOT / include[1]).read_text(encoding="utf-8"), match[1]
            )
            line = text.count("\n", 0, match.start(1)) + 1
            blocks.append(Block(str(page.relative_to(ROOT)), line, source))
    return blocks


BLOCKS = collect()


def kind(block: Block) -> str:
    if SIGNATURE.match(block.source.strip()) and "*" in block.source:
        return "signature"
    if (block.page, block.line) in FRAGMENTS:
        return "fragment"
    try:
        compile(block.source, str(block), "exec", dont_inherit=True)
    except SyntaxError:
        return "fragment"
    return "script"


def blocks_of(wanted: str) -> list[Any]:
    return [pytest.param(block, id=str(block)) for block in BLOCKS if kind(block) == wanted]


def expected_output(source: str) -> list[str] | None:
    """The comment lines that end a script: what it prints (None if it ends in code)."""
    lines = source.rstrip("\n").split("\n")
    tail: list[str] = []
    while lines and lines[-1].startswith("#"):
        tail.insert(0, lines.pop().removeprefix("#").removeprefix(" ").rstrip())
    return tail or None


def test_the_docs_have_blocks_of_every_kind() -> None:
    kinds = [kind(block) for block in BLOCKS]
    assert kinds.count("script") >= 20 and "signature" in kinds and "fragment" in kinds
    assert set(FRAGMENTS) <= {(block.page, block.line) for block in BLOCKS}, "stale FRAGMENTS"


@pytest.mark.parametrize("block", blocks_of("script"))
def test_script(block: Block, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # SDK clients want a key when they are made (not used: no request is sent).
    monkeypatch.setenv("OPENAI_API_KEY", "sk-docs-test")
    monkeypatch.setenv("ELEVENLABS_API_KEY", "docs-test")
    monkeypatch.chdir(tmp_path)  # scripts that write files write them here
    tree = ast.parse(block.source)
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)) and not _checkable(node):
            pytest.skip(f"{block} imports a package that is not installed: {ast.unparse(node)}")
    namespace: dict[str, Any] = {"__name__": "docs_block"}
    printed = io.StringIO()
    thresholds = gc.get_threshold()  # docs/scaling.md tunes the collector, as a host would
    try:
        with contextlib.redirect_stdout(printed):
            exec(compile(block.source, str(block), "exec", dont_inherit=True), namespace)
    finally:
        gc.set_threshold(*thresholds)
    if any(name.startswith("test_") for name in namespace):
        test_file = tmp_path / "test_docs_block.py"
        test_file.write_text(block.source, encoding="utf-8")
        result = subprocess.run(
            [sys.executable, "-m", "pytest", str(test_file), "-q", "-p", "no:cacheprovider"],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            cwd=tmp_path,
        )
        assert result.returncode == 0, result.stdout + result.stderr
    expected = expected_output(block.source)
    if expected is not None:
        got = [line.rstrip() for line in printed.getvalue().rstrip("\n").split("\n")]
        assert got == expected


def _documented_parameters(source: str) -> tuple[str, list[tuple[str, Any]]]:
    match = SIGNATURE.match(source.strip())
    assert match is not None
    function = ast.parse(f"def {match[1]}({match[2]}): pass").body[0]
    assert isinstance(function, ast.FunctionDef)
    arguments = function.args
    positional = arguments.posonlyargs + arguments.args
    defaults: list[ast.expr | None] = [None] * (len(positional) - len(arguments.defaults))
    defaults += arguments.defaults
    documented = list(zip([a.arg for a in positional], defaults, strict=True))
    documented += list(
        zip([a.arg for a in arguments.kwonlyargs], arguments.kw_defaults, strict=True)
    )
    parameters = []
    for name, default in documented:
        if default is None:
            parameters.append((name, inspect.Parameter.empty))
            continue
        expression = ast.Expression(default)
        try:  # literals and arithmetic on them (1024 * 1024); our own docs, no builtins
            value = eval(compile(expression, "<default>", "eval"), {"__builtins__": {}})
        except NameError:  # a name (a constant of the module): not compared
            value = ...
        parameters.append((name, value))
    return match[1], parameters


@pytest.mark.parametrize("block", blocks_of("signature"))
def test_signature(block: Block) -> None:
    name, documented = _documented_parameters(block.source)
    target = getattr(e2estream.backends, name, None) or getattr(e2estream, name)
    real = [
        (parameter.name, parameter.default)
        for parameter in inspect.signature(target).parameters.values()
    ]
    assert [name for name, _ in documented] == [name for name, _ in real]
    for (parameter, shown), (_, actual) in zip(documented, real, strict=True):
        if shown is not ...:
            assert shown == actual, f"{name}({parameter}=...) is documented as {shown!r}"


def _checkable(node: ast.Import | ast.ImportFrom) -> bool:
    modules = [alias.name for alias in node.names] if isinstance(node, ast.Import) else []
    if isinstance(node, ast.ImportFrom):
        modules = [node.module or ""]
    roots = {module.split(".")[0] for module in modules}
    return all(root == "e2estream" or importlib.util.find_spec(root) for root in roots)


@pytest.mark.parametrize("block", blocks_of("fragment"))
def test_fragment(block: Block) -> None:
    flags = ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
    tree = compile(block.source, str(block), "exec", flags=flags | ast.PyCF_ONLY_AST)
    assert isinstance(tree, ast.Module)
    imports = [node for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom))]
    # e2estream's imports must work; another package's only where it is installed (a
    # fragment may show how to use one e2estream does not depend on).
    body: list[ast.stmt] = [node for node in imports if _checkable(node)]
    module = ast.Module(body=body, type_ignores=[])
    exec(compile(module, str(block), "exec", dont_inherit=True), {})
