"""Print a command block of README.md, so that CI runs the commands exactly as the README writes them.

`python tools/readme_commands.py SECTION` prints the first ```bash block under the README heading `## SECTION`
(`Set-up`, `Tests`, `Main job`), with backslash-continued lines joined. `--list` prints every section's command.
"""
import re, sys
from pathlib import Path

README = Path(__file__).resolve().parent.parent / 'README.md'

def command(section: str, text: str | None = None) -> str:
    "The first bash block under `## section` in the README text."
    text = README.read_text(encoding='utf-8') if text is None else text
    m = re.search(rf'^## {re.escape(section)}\s*$(.*?)(?=^## |\Z)', text, flags=re.M | re.S)
    if m is None: raise SystemExit(f'README.md has no section "## {section}"')
    block = re.search(r'^```bash\n(.*?)^```', m.group(1), flags=re.M | re.S)
    if block is None: raise SystemExit(f'README.md section "## {section}" has no ```bash block')
    return block.group(1).replace('\\\n', ' ').strip()

if __name__ == '__main__':
    if sys.argv[1:] == ['--list']:
        for s in ('Set-up', 'Tests', 'Main job'): print(f'{s}:\n{command(s)}\n')
    elif len(sys.argv) == 2: print(command(sys.argv[1]))
    else: raise SystemExit(__doc__)
