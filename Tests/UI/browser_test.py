#!/usr/bin/env python3
"""End-to-end test of `coffer ui` in a real browser (headless Chromium driven by selenium).

Run by Tests/CofferCLITests/UIBrowserTests.swift (so `make test` and CI run it), with the
project's .venv/bin/python (`make deps` installs selenium there and chromium, chromium-driver
from Debian). Needs a vault of generated LinkedIn exports, sealed one by one (the Swift test
makes it), and its passphrase in COFFER_PASSPHRASE.

Starts `coffer ui --no-open --port PORT` (a free port) and stops exactly that process, by pid.
Checks: the series on the overview; the chart of connections has one point per version; the
diff page lists the new connections `coffer diff --records --json` reports, and its search
filters them; a downloaded file has the SHA-256 of the original; no token, a foreign Host and
a POST without the CSRF token get 403; the server listens on 127.0.0.1 only; no Content-
Security-Policy violation in the browser's log. Screenshots go to --screens.
"""

import argparse
import hashlib
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import zipfile

try:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
except ImportError:
    print("browser test: selenium is missing: run 'make deps' (installs it into .venv/)", file=sys.stderr)
    sys.exit(2)


def fail(message):
    raise AssertionError(message)


def check(condition, message):
    if not condition:
        fail(message)
    print("ok   " + message)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def listening_addresses(port):
    """Local addresses (hex, as /proc/net/tcp* writes them) of the sockets listening on port."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                lines = f.read().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            address, hexport = fields[1].split(":")
            if fields[3] == "0A" and int(hexport, 16) == port:
                found.append(address)
    return found


def raw_request(port, method, path, host, cookie=None, body=None, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
    conn.putheader("Host", host)
    if cookie:
        conn.putheader("Cookie", cookie)
    for k, v in (headers or {}).items():
        conn.putheader(k, v)
    data = body.encode() if body is not None else None
    if data is not None:
        conn.putheader("Content-Type", "application/x-www-form-urlencoded")
        conn.putheader("Content-Length", str(len(data)))
    conn.endheaders(data)
    response = conn.getresponse()
    payload = response.read()
    conn.close()
    return response.status, dict(response.getheaders()), payload


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--coffer", required=True)
    parser.add_argument("--vault", required=True)
    parser.add_argument("--exports", required=True, help="folder of the export zips that were sealed, oldest first by name date")
    parser.add_argument("--series", default="Basic_LinkedInDataExport")
    parser.add_argument("--screens", required=True)
    args = parser.parse_args()
    os.makedirs(args.screens, exist_ok=True)
    for tool in ("/usr/bin/chromium", "/usr/bin/chromedriver"):
        if not os.access(tool, os.X_OK):
            print(f"browser test: {tool} is missing: run 'make deps' (installs chromium and chromium-driver)", file=sys.stderr)
            return 2

    env = dict(os.environ)
    versions = json.loads(subprocess.run([args.coffer, "list", "--json"], env=env, check=True, capture_output=True).stdout)
    if isinstance(versions, dict):
        versions = versions.get("versions", [])
    series = sorted((v for v in versions if v["name"] == args.series), key=lambda v: v["time"])
    check(len(series) >= 2, f"the vault holds {len(series)} versions of {args.series}")
    ids = [v["id"] for v in series]

    port = free_port()
    server = subprocess.Popen(
        [args.coffer, "ui", "--no-open", "--port", str(port)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    driver = None
    try:
        url = server.stdout.readline().strip()
        check(url.startswith(f"http://127.0.0.1:{port}/?token=") and len(url.split("token=")[1]) == 64,
              "coffer ui prints http://127.0.0.1:PORT/?token=<256-bit hex>")
        base = f"http://127.0.0.1:{port}"
        host = f"127.0.0.1:{port}"
        token = url.split("token=")[1]

        # Loopback only.
        addresses = listening_addresses(port)
        check(addresses and all(a == "0100007F" for a in addresses), f"listens on 127.0.0.1 only ({addresses})")

        # The guard, with raw requests.
        status, _, _ = raw_request(port, "GET", "/", host)
        check(status == 403, "no token: 403")
        status, headers, _ = raw_request(port, "GET", "/?token=" + token, host)
        cookie = headers.get("Set-Cookie", "").split(";")[0]
        check(status == 303 and cookie.startswith("coffer_ui_session="), "the token sets the session cookie")
        status, _, _ = raw_request(port, "GET", "/", f"rebind.example:{port}", cookie=cookie)
        check(status == 403, "a foreign Host header: 403")
        status, _, _ = raw_request(port, "POST", "/zip/" + ids[-1], host, cookie=cookie, body="p=")
        check(status == 403, "a POST without the CSRF token: 403")
        status, headers, _ = raw_request(port, "GET", "/", host, cookie=cookie)
        check(status == 200 and "default-src 'self'" in headers.get("Content-Security-Policy", ""), "pages carry the Content-Security-Policy")
        check(not any(h.lower().startswith("access-control-") for h in headers), "no CORS header")

        # The browser.
        downloads = os.path.join(args.screens, "downloads")
        os.makedirs(downloads, exist_ok=True)
        for name in os.listdir(downloads):
            os.remove(os.path.join(downloads, name))
        options = webdriver.ChromeOptions()
        options.binary_location = "/usr/bin/chromium"
        for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1280,1000"):
            options.add_argument(flag)
        options.add_experimental_option("prefs", {"download.default_directory": os.path.abspath(downloads), "download.prompt_for_download": False})
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
        driver.set_page_load_timeout(120)

        driver.get(url)
        check(driver.current_url == base + "/", "the first visit redirects to the address without the token")
        table = driver.find_element(By.ID, "series-table")
        check(args.series in table.text, f"the overview lists the series {args.series}")
        check(len(driver.find_elements(By.CSS_SELECTOR, "#chart-size circle.point")) == len(versions), "the size chart has one point per version")
        driver.save_screenshot(os.path.join(args.screens, "overview.png"))

        driver.find_element(By.LINK_TEXT, args.series).click()
        points = driver.find_elements(By.CSS_SELECTOR, "#chart-connections circle.point")
        check(len(points) == len(series), f"the connections chart has {len(points)} points, one per version ({len(series)})")
        counts = [float(p.get_attribute("data-value")) for p in points]
        first_zip = sorted(os.listdir(args.exports))
        check(all(c > 0 for c in counts), f"connections per export: {counts}")
        driver.save_screenshot(os.path.join(args.screens, "series.png"))
        heading = driver.find_element(By.ID, "records-connections")
        driver.execute_script("arguments[0].scrollIntoView()", heading)
        driver.save_screenshot(os.path.join(args.screens, "series-connections.png"))

        # The diff of the last two versions: the new connections coffer diff reports.
        expected = json.loads(subprocess.run(
            [args.coffer, "diff", ids[-2], ids[-1], "--records", "Connections.csv", "--json"], env=env, check=True, capture_output=True).stdout)
        added_keys = sorted(row["key"] for f in expected["files"] for row in f["added"])
        driver.get(f"{base}/diff?a={ids[-2]}&b={ids[-1]}")
        items = driver.find_elements(By.CSS_SELECTOR, "#added-connections li")
        shown_keys = sorted(li.get_attribute("data-key") for li in items)
        check(len(added_keys) > 0 and shown_keys == added_keys, f"the diff page lists the {len(added_keys)} new connections coffer diff reports")
        driver.save_screenshot(os.path.join(args.screens, "diff.png"))
        # Search: type part of the first new connection's text; it stays, non-matching ones hide.
        first_text = items[0].text.lstrip("+").strip()
        word = first_text.split(",")[0].strip()
        box = driver.find_element(By.ID, "record-search-input")
        box.send_keys(word)
        visible = [li for li in driver.find_elements(By.CSS_SELECTOR, "ul.records li") if li.is_displayed()]
        check(0 < len(visible) and all(word.lower() in li.text.lower() for li in visible), f"searching '{word}' shows only matching records ({len(visible)})")
        driver.save_screenshot(os.path.join(args.screens, "diff-search.png"))

        # A version: open the export, download Connections.csv, compare SHA-256 with the original.
        latest_zip = sorted(first_zip)[-1] if first_zip else None
        driver.get(f"{base}/version/{ids[-1]}")
        driver.find_element(By.CSS_SELECTOR, "#entries a.path").click()
        check("Connections.csv" in driver.page_source, "the export opens as a folder of its members")
        driver.save_screenshot(os.path.join(args.screens, "version.png"))
        driver.find_element(By.LINK_TEXT, "Connections.csv").click()
        target = os.path.join(downloads, "Connections.csv")
        deadline = time.time() + 60
        while time.time() < deadline and not os.path.exists(target):
            time.sleep(0.2)
        time.sleep(0.5)
        check(os.path.exists(target), "the file downloaded")
        zips = sorted(os.path.join(args.exports, z) for z in os.listdir(args.exports) if z.endswith(".zip"))
        originals = {}
        for z in zips:
            with zipfile.ZipFile(z) as archive:
                originals[z] = hashlib.sha256(archive.read("Connections.csv")).hexdigest()
        with open(target, "rb") as f:
            got = hashlib.sha256(f.read()).hexdigest()
        newest = max(zips, key=lambda z: series_date(z))
        check(got == originals[newest], f"the downloaded Connections.csv has the SHA-256 of the original ({got[:16]}…)")

        # A phone-sized screen.
        driver.set_window_size(390, 844)
        driver.get(f"{base}/series?name={urllib.parse.quote(args.series)}")
        driver.save_screenshot(os.path.join(args.screens, "series-phone.png"))
        width = driver.execute_script("return document.documentElement.scrollWidth")
        check(width <= 400, f"no sideways scrolling on a phone-sized screen (page width {width})")

        violations = [e["message"] for e in driver.get_log("browser") if "Content Security Policy" in e.get("message", "")]
        check(not violations, "no Content-Security-Policy violation in the browser's log" + (f": {violations}" if violations else ""))
    finally:
        if driver is not None:
            driver.quit()
        if server.poll() is None:
            os.kill(server.pid, signal.SIGTERM)
        try:
            code = server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.kill(server.pid, signal.SIGKILL)
            server.wait()
            code = None
        stderr = server.stderr.read()
    check(code == 0, f"SIGTERM stops the server cleanly (exit status {code}; stderr: {stderr.strip()[-300:]})")
    print("browser test: passed")
    return 0


def series_date(path):
    """The date in an export's file name (..._MM-DD-YYYY.zip) as YYYYMMDD."""
    stem = os.path.basename(path)[:-4]
    mm, dd, yyyy = stem.split("_")[-1].split("-")
    return yyyy + mm + dd


if __name__ == "__main__":
    try:
        sys.exit(main())
    except AssertionError as e:
        print(f"FAIL {e}", file=sys.stderr)
        sys.exit(1)
