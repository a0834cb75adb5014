"""Fail if a committed notebook has a code cell that shows something but holds no output (it was not executed).

Usage: python tools/check_outputs.py [NOTEBOOK ...]   (default: every notebook under nbs/)

A cell "shows something" when one of its top-level statements calls print, display, a plot (`plt.*`, `*.plot*`,
`imshow`, `plot_*`, `subplots`), or when its last top-level statement is a bare expression other than a call (a name,
an attribute, an operation: IPython displays its value) not silenced with ';'. Cells that nbdev_test skips (settings.ini's
`tst_flags`, e.g. `#| slow`, `#| gpu`) are exempt: they are not executed by `tools/execute_notebooks.py` either.
Each notebook must also stay under 1.5 MB, and every figure at most `MAX_WIDTH` pixels wide (1,000: a code-hosting
page's width). Regenerate outputs with `python tools/execute_notebooks.py`.
"""
import ast, base64, io, json, sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from execute_notebooks import MAX_WIDTH, ROOT, directives, skip_flags  # noqa: E402

MAX_BYTES = 1_500_000  # a notebook stays readable on the repository's web page
SHOWING = ('print', 'display', 'imshow', 'subplots', 'figure', 'Markdown')

def _called(node) -> str:
    "The name a call ends in: plt.subplots(...) -> 'subplots', print(...) -> 'print'."
    f = node.func
    return f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else ''

def shows_something(source: str) -> bool:
    code = '\n'.join(l for l in source.splitlines() if not l.lstrip().startswith(('%', '!')))
    try: tree = ast.parse(code)
    except SyntaxError: return False
    calls = {_called(n) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    if 'close' in calls: return False                # a figure drawn to be checked and closed: nothing shown
    for st in tree.body:
        for node in ast.walk(st) if not isinstance(st, (ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef)) else ():
            if isinstance(node, ast.Call):
                name = _called(node)
                if name in SHOWING or name.startswith('plot'): return True
            if isinstance(node, (ast.If, ast.For, ast.While, ast.Try, ast.With)): break  # conditional: may show nothing
    last = tree.body[-1] if tree.body else None
    if isinstance(last, ast.Expr) and not source.rstrip().endswith(';'):
        v = last.value
        if isinstance(v, ast.Call): return False     # a call's value may be None (shows nothing): judged by name above
        if isinstance(v, ast.Constant) and isinstance(v.value, str): return False   # a docstring-like string
        return True
    return False

def missing_outputs(path: Path, flags: set[str]) -> list[int]:
    nb = json.loads(path.read_text())
    bad = []
    for i, c in enumerate(nb['cells']):
        if c['cell_type'] != 'code': continue
        src = ''.join(c['source'])
        if flags & directives(src) or 'nbdev_export(' in src: continue
        if shows_something(src) and not c.get('outputs'): bad.append(i)
    return bad

def wide_figures(path: Path) -> list[tuple[int, int]]:
    "(cell, width) of every PNG output wider than MAX_WIDTH."
    from PIL import Image
    nb = json.loads(path.read_text())
    wide = []
    for i, c in enumerate(nb['cells']):
        for out in c.get('outputs', []):
            png = out.get('data', {}).get('image/png')
            if png:
                width = Image.open(io.BytesIO(base64.b64decode(png if isinstance(png, str) else ''.join(png)))).width
                if width > MAX_WIDTH: wide.append((i, width))
    return wide

def main(argv):
    paths = [Path(p).resolve() for p in argv] or sorted(p for p in (ROOT / 'nbs').rglob('*.ipynb')
                                                       if not p.name.startswith('_') and '.ipynb_checkpoints' not in p.parts)
    flags = skip_flags()
    problems = {p: missing_outputs(p, flags) for p in paths}
    problems = {p: b for p, b in problems.items() if b}
    for p, b in problems.items():
        print(f'{p.relative_to(ROOT) if p.is_relative_to(ROOT) else p}: cells {b} show something but have no output')
    big = {p: p.stat().st_size for p in paths if p.stat().st_size > MAX_BYTES}
    for p, n in big.items(): print(f'{p}: {n / 1e6:.2f} MB, over {MAX_BYTES / 1e6:.1f} MB: smaller figures (dpi, size)')
    wide = {p: w for p in paths if (w := wide_figures(p))}
    for p, w in wide.items(): print(f'{p}: figures wider than {MAX_WIDTH} px (cell, width): {w}')
    if big: sys.exit(f'{len(big)} notebook(s) too large for reading on the web')
    if wide: sys.exit(f'{len(wide)} notebook(s) with figures wider than the page: python tools/execute_notebooks.py '
                      '--compact-only')
    if problems: sys.exit(f'{len(problems)} notebook(s) not committed executed: run python tools/execute_notebooks.py')
    print(f'{len(paths)} notebooks: every cell that shows something has its output')

if __name__ == '__main__':
    main(sys.argv[1:])
