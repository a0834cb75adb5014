"""The explorer in a real browser: JupyterLab on localhost, nbs/12_explore.ipynb run in headless Chromium, a query typed
into the widget, the ranked images and panels checked, a screenshot saved.

Usage: python tools/browser_test.py [--screenshot nbs/images/explorer.png] [--timeout 900]

It serves a temporary copy of the notebook (JupyterLab autosaves; the repository's copy is never touched), opens it,
runs its cells down to the one that shows the widget through JupyterLab's own commands (the app exposed to the page),
waits for the explorer widget, replaces the query with a typed description, presses "search", and requires the widget's
output area to show the one-line summary and a decoded image (the figure of ranked images and panels). Chromium is
Debian's (`apt-get install chromium chromium-driver`), driven by Selenium, headless with --no-sandbox --disable-gpu
--disable-background-networking. Without a Chromium binary or driver it skips with a message and exits 0;
every other failure exits 1.
"""
import argparse, os, shutil, socket, subprocess, sys, tempfile, time, urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = shutil.which('chromium') or shutil.which('chromium-browser')
DRIVER = shutil.which('chromedriver')
QUERY = 'a man in a black jacket and blue jeans with a backpack'

def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]

def wait_for(what: str, fn, timeout: float, every: float = 1.):
    "fn() until it returns something truthy; fail naming `what` after `timeout` seconds."
    end = time.time() + timeout
    while time.time() < end:
        try:
            v = fn()
            if v: return v
        except Exception:
            pass
        time.sleep(every)
    raise TimeoutError(f'timed out after {timeout:.0f} s waiting for {what}')

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--screenshot', default=None, help='save a PNG of the explorer widget here')
    p.add_argument('--timeout', type=float, default=900, help='seconds for the notebook to reach the widget')
    a = p.parse_args(argv)
    if not CHROMIUM or not DRIVER:
        print('SKIPPED: no Chromium or chromedriver on this machine (apt-get install chromium chromium-driver)')
        return 0
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By

    work = Path(tempfile.mkdtemp(prefix='cumdr-browser-'))
    shutil.copy(ROOT / 'nbs' / '12_explore.ipynb', work / 'explore.ipynb')
    port = free_port()
    log = open(work / 'jupyter.log', 'w')
    server = subprocess.Popen([sys.executable, '-m', 'jupyter', 'lab', '--no-browser', f'--port={port}',
                               '--ServerApp.ip=127.0.0.1', "--IdentityProvider.token=", '--ServerApp.password=',
                               '--LabApp.expose_app_in_browser=True', '--allow-root', f'--ServerApp.root_dir={work}'],
                              stdout=log, stderr=subprocess.STDOUT, env={**os.environ, 'MPLBACKEND': 'Agg'})
    driver = None
    t0 = time.time()
    try:
        wait_for('JupyterLab to answer', lambda: urllib.request.urlopen(f'http://127.0.0.1:{port}/api').status == 200, 120)
        opts = webdriver.ChromeOptions()
        opts.binary_location = CHROMIUM
        for arg in ('--headless=new', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
                    '--disable-dev-shm-usage', '--window-size=1400,1800'):
            opts.add_argument(arg)
        driver = webdriver.Chrome(service=Service(DRIVER), options=opts)
        driver.get(f'http://127.0.0.1:{port}/lab/tree/explore.ipynb')
        js_idle = ("const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;"
                   "const k = w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel;"
                   "return !!k && k.status === 'idle';")
        wait_for('the notebook to open with an idle kernel', lambda: driver.execute_script(js_idle), 180)
        # run the notebook down to the cell that shows the widget (the cells after it drive the same widget from Python)
        run_to_widget = (
            "const app = window.jupyterapp; const nb = app.shell.currentWidget.content;"
            "const i = nb.widgets.findIndex(c => c.model.sharedModel.getSource().trim().startsWith('w = ex.widget()'));"
            "if (i < 0) return -1; nb.activeCellIndex = i;"
            "app.commands.execute('notebook:run-all-above').then(() => app.commands.execute('notebook:run-cell'));"
            "return i;")
        cell = driver.execute_script(run_to_widget)
        if cell < 0: raise RuntimeError("the notebook has no cell starting with 'w = ex.widget()'")
        print(f'notebook opened, running cells 0..{cell} ({time.time() - t0:.0f} s)', flush=True)
        box = wait_for('the explorer widget (its query box)', lambda: [
            e for e in driver.find_elements(By.CSS_SELECTOR, '.widget-text input[type="text"]')
            if e.get_attribute('placeholder') and 'describe a person' in e.get_attribute('placeholder')], a.timeout, 2)[0]
        wait_for('the kernel to finish the cells', lambda: driver.execute_script(js_idle), 300, 2)
        print(f'explorer widget shown ({time.time() - t0:.0f} s)', flush=True)
        driver.execute_script('arguments[0].scrollIntoView({block: "start"});', box)
        widget = box.find_element(By.XPATH, './ancestor::div[contains(@class, "widget-vbox")][1]')
        widget.find_element(By.CSS_SELECTOR, '.widget-text input[placeholder="optional"]').clear()   # no true pid: free text
        box.clear()
        box.send_keys(QUERY)
        button = [b for b in widget.find_elements(By.CSS_SELECTOR, 'button') if b.text.strip() == 'search'][0]
        button.click()
        def result():
            imgs = widget.find_elements(By.CSS_SELECTOR, '.widget-output img')
            text = ' '.join(e.text for e in widget.find_elements(By.CSS_SELECTOR, '.widget-output'))
            ok = [i for i in imgs if driver.execute_script('return arguments[0].complete && arguments[0].naturalWidth', i)]
            return (ok, text) if ok and QUERY[:20] in text else None
        imgs, text = wait_for('the ranked images and panels after "search"', result, 240, 2)
        width = driver.execute_script('return arguments[0].naturalWidth', imgs[0])
        print(f'query answered ({time.time() - t0:.0f} s): {text.strip().splitlines()[0][:160]}; figure {width} px wide')
        assert width > 400, f'the result figure is only {width} px wide'
        if a.screenshot:
            driver.execute_script('arguments[0].scrollIntoView({block: "start"});', widget)
            Path(a.screenshot).parent.mkdir(parents=True, exist_ok=True)
            widget.screenshot(a.screenshot)
            print(f'screenshot: {a.screenshot}')
        print(f'BROWSER TEST PASSED in {time.time() - t0:.0f} s')
        return 0
    except Exception as e:
        print(f'BROWSER TEST FAILED after {time.time() - t0:.0f} s: {type(e).__name__}: {e}', file=sys.stderr)
        if driver is not None:
            driver.save_screenshot(str(work / 'failure.png'))
            print(f'page screenshot: {work / "failure.png"}; server log: {work / "jupyter.log"}', file=sys.stderr)
        return 1
    finally:
        if driver is not None: driver.quit()
        server.terminate()
        try: server.wait(20)
        except subprocess.TimeoutExpired: server.kill()

if __name__ == '__main__':
    sys.exit(main())
