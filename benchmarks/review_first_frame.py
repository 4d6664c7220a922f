"""Time to the seizure page's first video frame with its skeleton overlay, in Debian's headless Chromium.

    python benchmarks/review_first_frame.py [--demo out/review-demo] [--loads 10]

Serves the test world (`tests/review/review_world.py`, a 160 x 128 IR video) or, with `--demo`,
a store seeded by `tools/review.py seed-demo` (512 x 424 rendered IR scenes; password
`review-demo-password` unless $SEMIOLOGY_PASSWORD), with `tools/review.py` in a subprocess on
loopback, signs in as `rita`, and opens the first seizure `--loads` times. Printed, in ms from
navigation start (the page's `performance.now()`): the first load (the 8-bit preview is transcoded
then), and the median and p95 of the others for the first decoded video frame (the baseline,
`loadeddata`) and for the first frame drawn with its overlay; their ratio is what the overlay
(keypoints request, JSON parse, drawing) adds.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from semiology.review.cli import DEMO_PASSWORD  # noqa: E402
from tests.review.browser import chromium, wait_for  # noqa: E402
from tests.review.review_world import PASSWORD, free_port, seed_world  # noqa: E402
from tests.review.test_review_browser import sign_in  # noqa: E402


def _page_load(driver, url: str) -> tuple[float, float]:
    driver.get(url)
    wait_for(driver, lambda d: d.execute_script("return document.body.dataset.firstOverlayMs !== undefined"), "the first overlay", timeout_s=120)
    return tuple(float(driver.execute_script(f"return document.body.dataset.{name};")) for name in ("videoReadyMs", "firstOverlayMs"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--demo", type=Path, help="a folder made by tools/review.py seed-demo")
    parser.add_argument("--loads", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        if args.demo:
            db, cache, videos, password = args.demo / "store.sqlite", args.demo / "cache", args.demo / "videos", os.environ.get("SEMIOLOGY_PASSWORD", DEMO_PASSWORD)
            for preview in (cache / "previews").glob("*.mp4"):
                preview.unlink()
        else:
            world = seed_world(str(Path(folder) / "store.sqlite"), Path(folder) / "files")
            db, cache, videos, password = Path(world.db), world.cache, world.videos, PASSWORD
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        server = subprocess.Popen([sys.executable, str(ROOT / "tools" / "review.py"), "--db", str(db), "--cache", str(cache), "--videos", str(videos),
                                   "--port", str(port)], stdout=subprocess.DEVNULL)
        try:
            for _ in range(200):
                try:
                    httpx.get(f"{url}/login", timeout=1)
                    break
                except httpx.TransportError:
                    time.sleep(0.1)
            with chromium() as driver:
                sign_in(driver, url, "rita", password)
                seizure = driver.find_element("css selector", "#seizures tbody tr").get_attribute("data-id")
                loads = [_page_load(driver, f"{url}/seizures/{seizure}") for _ in range(args.loads)]
        finally:
            server.terminate()
            server.wait(timeout=30)
    first, warm = loads[0], loads[1:]
    video_ms, overlay_ms = [v for v, _ in warm], [o for _, o in warm]
    p95 = lambda values: sorted(values)[min(len(values) - 1, int(round(0.95 * (len(values) - 1))))]  # noqa: E731
    print(f"first load (preview transcoded): video frame {first[0]:.0f} ms, with overlay {first[1]:.0f} ms")
    print(f"next {len(warm)} loads: video frame median {statistics.median(video_ms):.0f} ms (p95 {p95(video_ms):.0f}), "
          f"with overlay median {statistics.median(overlay_ms):.0f} ms (p95 {p95(overlay_ms):.0f})")
    print(f"overlay / video alone (medians): {statistics.median(overlay_ms) / statistics.median(video_ms):.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
