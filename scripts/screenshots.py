"""Screenshots of the public pages for docs/web.md, at phone and desktop widths.

    .venv/bin/python scripts/screenshots.py [--out docs/screenshots]

Serves the sample archive (samples/*.md, without the browser tests' hostile issue) on
a free loopback port and photographs the home page, an issue page and a search page in
Debian's headless Chromium at 390 px (a phone, pixel ratio 2) and 1280 px. Needs
chromium, chromium-driver and a CJK font for the Chinese text (apt-get install
chromium chromium-driver fonts-wqy-microhei).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGES = {
    "home": "/",
    "issue": "/embedded-ai/2026-11-02",
    "search": "/search?q=量化",
}
WIDTHS = {"phone": (390, 844), "desktop": (1280, 900)}
MAX_HEIGHT = 1800  # CSS pixels: enough to show a page's shape without a poster


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from tests.web.live import LiveSite, chromium, chromium_paths

    if chromium_paths() is None:
        print("chromium and chromium-driver are needed: apt-get install chromium chromium-driver")
        return 1
    args.out.mkdir(parents=True, exist_ok=True)
    with (
        tempfile.TemporaryDirectory() as folder,
        LiveSite(Path(folder), charts_data=False, hostile=False) as site,
    ):
        for device, (width, height) in WIDTHS.items():
            driver = chromium(width, height, mobile=device == "phone")
            try:
                for name, path in PAGES.items():
                    driver.get(site.url + path)
                    full = driver.execute_script("return document.documentElement.scrollHeight")
                    shot = min(int(full), MAX_HEIGHT)
                    if device == "phone":
                        driver.execute_cdp_cmd(
                            "Emulation.setDeviceMetricsOverride",
                            {
                                "width": width,
                                "height": shot,
                                "deviceScaleFactor": 2,
                                "mobile": True,
                            },
                        )
                    else:
                        driver.set_window_size(width, shot)
                    target = args.out / f"{name}-{device}.png"
                    driver.get_screenshot_as_file(str(target))
                    print(f"{target.relative_to(ROOT) if target.is_relative_to(ROOT) else target}")
                    if device == "phone":
                        driver.execute_cdp_cmd(
                            "Emulation.setDeviceMetricsOverride",
                            {
                                "width": width,
                                "height": height,
                                "deviceScaleFactor": 2,
                                "mobile": True,
                            },
                        )
                    else:
                        driver.set_window_size(width, height)
            finally:
                driver.quit()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
