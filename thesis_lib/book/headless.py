"""Headless Chromium through selenium: find the browser and its chromedriver, open a session."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service

INSTALL_HINT = "install them with `apt-get install chromium chromium-driver`, or name them with --browser/--driver " \
               "(or the environment variables CHROME_BIN and CHROMEDRIVER)"
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu")


def _find(given: str | None, env: str, names: tuple[str, ...], what: str) -> str:
    """The path given, else the one in the environment variable env, else the first of names on PATH."""
    for candidate in (given, os.environ.get(env)):
        if candidate:
            path = shutil.which(candidate)
            if path is None:
                raise FileNotFoundError(f"{what} {candidate!r} (from {'the argument' if candidate == given else env}) "
                                        f"is not an executable file; {INSTALL_HINT}")
            return path
    for name in names:
        path = shutil.which(name)
        if path:
            return path
    raise FileNotFoundError(f"no {what} found on PATH (looked for {', '.join(names)}); {INSTALL_HINT}")


def find_chrome(browser: str | None = None, driver: str | None = None) -> tuple[str, str]:
    """Paths of the Chromium/Chrome binary and of its chromedriver."""
    return (_find(browser, "CHROME_BIN", BROWSERS, "Chromium/Chrome browser"),
            _find(driver, "CHROMEDRIVER", ("chromedriver",), "chromedriver"))


def open_chrome(browser: str | None = None, driver: str | None = None):
    """A headless Chrome WebDriver that records the browser console; quit() it when done."""
    browser_path, driver_path = find_chrome(browser, driver)
    options = webdriver.ChromeOptions()
    options.binary_location = browser_path
    for flag in FLAGS:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(options=options, service=Service(executable_path=driver_path, log_output=os.devnull))


def file_url(path: Path) -> str:
    """The file:// URL of a local path."""
    return Path(path).resolve().as_uri()
