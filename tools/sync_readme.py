"""Write README.md from nbs/index.ipynb (quarto's nbdev_readme is not available everywhere).

Markdown cells are copied as they are (image and notebook links relative to nbs/ made relative to the root); code cells marked `#| hide` are left out; code cells marked
`#| echo: false` contribute their Markdown output (text computed from committed results, as the executed notebook holds
it) instead of their source; other code cells become fenced Python blocks. `--check` exits with status 1 when README.md differs from what would be written.
"""
import json, re, sys
from pathlib import Path

root = Path(__file__).resolve().parent.parent

NOTEBOOK_LINK = re.compile(r'\]\((?!https?:|/|\.\./)([\w./-]+\.ipynb)\)')

def from_root(markdown: str) -> str:
    "Links written relative to nbs/ (images, notebooks) made relative to the root, where README.md lives."
    markdown = markdown.replace('](images/', '](nbs/images/').replace('](../', '](')
    return NOTEBOOK_LINK.sub(r'](nbs/\1)', markdown)

def render(nb_path: Path) -> str:
    cells = json.loads(nb_path.read_text(encoding='utf-8'))['cells']
    parts = []
    for c in cells:
        src = ''.join(c['source']).strip()
        if not src: continue
        if c['cell_type'] == 'markdown': parts.append(from_root(src))
        elif c['cell_type'] == 'code' and '#| echo: false' in src.splitlines()[:3]:
            shown = [''.join(o['data']['text/markdown']) for o in c.get('outputs', [])
                     if 'text/markdown' in o.get('data', {})]
            if not shown: sys.exit(f'{nb_path}: a "#| echo: false" cell has no Markdown output: execute the notebook')
            parts += [t.strip() for t in shown]
        elif c['cell_type'] == 'code' and not src.startswith('#| hide') and '#| hide' not in src.splitlines()[:3]:
            parts.append(f'```python\n{src}\n```')
    return '<!-- generated from nbs/index.ipynb by tools/sync_readme.py: edit the notebook, not this file -->\n\n' + '\n\n'.join(parts) + '\n'

if __name__ == '__main__':
    text = render(root / 'nbs' / 'index.ipynb')
    readme = root / 'README.md'
    if '--check' in sys.argv:
        if not readme.exists() or readme.read_text(encoding='utf-8') != text:
            sys.exit('README.md is out of date with nbs/index.ipynb: run python tools/sync_readme.py')
        print('README.md matches nbs/index.ipynb')
    else:
        readme.write_text(text, encoding='utf-8')
        print(f'wrote {readme}')
