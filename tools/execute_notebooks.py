"""Execute notebooks in place, keeping their outputs, as nbdev_test runs them (same skip flags), then clean them.

Usage: python tools/execute_notebooks.py [--compact-only] [NOTEBOOK ...]   (default: every notebook under nbs/)

Each notebook runs in its own directory in a fresh IPython shell (execnb, as nbdev_test); cells flagged with one of
settings.ini's `tst_flags` (`#| slow`, `#| gpu`) and `nbdev_export()` cells are not run and keep no output. The first
error stops that notebook (it is left unchanged) and the script exits non-zero after the others. At the end
`nbdev_clean` strips metadata and execution counts; the outputs stay (settings.ini: clear_all = False).
Figures are stored web-sized: at most 1,000 pixels wide (the width of a code-hosting page) and reduced to a 256-colour palette PNG (plots and the
synthetic people lose nothing visible; a notebook shrinks about tenfold). Text outputs name temporary folders as `<tmp>`
and this checkout's folder as `.`: the reader's machine has neither. --compact-only does only that, on the
notebooks' current outputs, without running them.
"""
import base64, configparser, io, json, os, re, subprocess, sys, time
from pathlib import Path

from PIL import Image

from execnb.nbio import read_nb, write_nb
from execnb.shell import CaptureShell

ROOT = Path(__file__).resolve().parent.parent

def skip_flags() -> set[str]:
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / 'settings.ini')
    return set(cfg['DEFAULT'].get('tst_flags', '').split())

def directives(source: str) -> set[str]:
    "The words of a cell's leading '#|' lines: '#| slow' -> {'slow'}."
    out = set()
    for line in source.splitlines():
        if not line.startswith('#|'): break
        out.update(line[2:].replace(':', ' ').split())
    return out

def skipped(cell, flags: set[str]) -> bool:
    "Whether nbdev_test would skip this cell: not code, an nbdev_export() call, or flagged with a skip flag."
    if cell.cell_type != 'code': return True
    return 'nbdev_export' + '(' in cell.source or bool(flags & directives(cell.source))

MAX_WIDTH = 1000   # a code-hosting page shows a notebook about this wide: wider figures are scaled down there

def compact_png(data: str) -> str:
    "A base64 PNG at most MAX_WIDTH wide, as a 256-colour palette PNG (the original where that is not smaller)."
    raw = base64.b64decode(data)
    im = Image.open(io.BytesIO(raw)).convert('RGB')
    wide = im.width > MAX_WIDTH
    if wide: im = im.resize((MAX_WIDTH, round(im.height * MAX_WIDTH / im.width)), Image.LANCZOS)
    buf = io.BytesIO()
    im.quantize(256, method=Image.Quantize.MEDIANCUT).save(buf, 'PNG', optimize=True)
    # a figure wider than the page is always scaled down; otherwise the palette version only where it is smaller
    return base64.b64encode(buf.getvalue()).decode() if wide or buf.tell() < len(raw) else data

TMP_DIR = re.compile(r'/tmp/tmp\w+')

def local_paths(text: str) -> str:
    "A text output as a reader should see it: temporary folders as <tmp>, this checkout's folder as '.'."
    return TMP_DIR.sub('<tmp>', text).replace(str(ROOT) + '/', './')

def compact_figures(path: Path) -> None:
    "Rewrite every PNG output of a notebook file with compact_png, and its text outputs with local_paths."
    nb = json.loads(path.read_text())
    for cell in nb['cells']:
        for out in cell.get('outputs', []):
            png = out.get('data', {}).get('image/png')
            if png: out['data']['image/png'] = compact_png(png if isinstance(png, str) else ''.join(png))
            if 'text' in out: out['text'] = local_paths(''.join(out['text'])).splitlines(True)
            plain = out.get('data', {}).get('text/plain')
            if plain: out['data']['text/plain'] = local_paths(''.join(plain)).splitlines(True)
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + '\n')

def execute(path: Path, flags: set[str]) -> tuple[bool, float, str]:
    "Run one notebook and write it back with its outputs; (ok, seconds, error text)."
    nb = read_nb(path)
    shell = CaptureShell(path)
    t = time.time()
    cwd = os.getcwd()
    os.chdir(path.parent)
    try:
        for cell in nb.cells:
            if cell.cell_type == 'code': cell.outputs = []
            if skipped(cell, flags): continue
            shell.cell(cell)
            if shell.exc: return False, time.time() - t, shell.prettytb(fname=path)
    finally:
        os.chdir(cwd)
    write_nb(nb, path)
    compact_figures(path)
    return True, time.time() - t, ''

def main(argv):
    compact_only = '--compact-only' in argv
    argv = [a for a in argv if a != '--compact-only']
    paths = [Path(p).resolve() for p in argv] or sorted(p for p in (ROOT / 'nbs').rglob('*.ipynb')
                                                       if not p.name.startswith('_') and '.ipynb_checkpoints' not in p.parts)
    flags = skip_flags()
    failed = []
    if compact_only:
        for p in paths: compact_figures(p)
        paths = []
    for p in paths:
        ok, dt, err = execute(p, flags)
        print(f'{"ok    " if ok else "FAILED"} {dt:7.1f} s  {p.relative_to(ROOT)}', flush=True)
        if not ok:
            failed.append(p)
            print(err, file=sys.stderr)
    subprocess.run([str(Path(sys.executable).parent / 'nbdev_clean')], cwd=ROOT, check=True)  # this environment's
    if failed: sys.exit(f'{len(failed)} notebook(s) failed: ' + ', '.join(str(p.relative_to(ROOT)) for p in failed))

if __name__ == '__main__':
    main(sys.argv[1:])
