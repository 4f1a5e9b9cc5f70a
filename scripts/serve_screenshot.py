"""Screenshots of `keras-latent serve` for the README, taken in headless Chromium.

    KERAS_BACKEND=jax python scripts/serve_screenshot.py \
        [--preset celeba_latent_constraints] [--output_dir docs]

Writes `serve_generate.png` (Smiling and Eyeglasses on) and `serve_edit.png`
(a generated face uploaded, Smiling set on). Needs the `demo` extra,
Playwright and the system's Chromium, like tests/demo_browser_test.py.
"""

from __future__ import annotations

import shutil
import socket
import tempfile
from pathlib import Path

import numpy as np
from absl import app, flags
from PIL import Image

import keras_latent
from keras_latent.demo import DemoSession
from keras_latent.demo.page import build_page, launch

flags.DEFINE_string("preset", "celeba_latent_constraints", "Preset to show.")
flags.DEFINE_string("output_dir", "docs", "Where the screenshots go.")
flags.DEFINE_integer("face_seed", 5, "Seed of the generated face that is edited.")
FLAGS = flags.FLAGS

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _settled(tab, selector: str, old: str | None) -> str:
    """Waits until the image under `selector` is new and loaded; returns its src."""
    tab.wait_for_function(
        """([selector, old]) => {
            const img = document.querySelector(selector + " img");
            return img && img.complete && img.naturalWidth > 0 && img.src !== old
                && !document.querySelector(".pending");
        }""",
        arg=[selector, old],
    )
    return tab.locator(f"{selector} img").get_attribute("src")


def _shoot(tab, path: Path) -> None:
    tab.wait_for_timeout(500)  # Gradio's fade-in of an updated image
    tab.screenshot(path=str(path), full_page=True)
    # A palette PNG is a third of the size and looks the same on a page.
    Image.open(path).convert("RGB").quantize(256).save(path, optimize=True)
    print(f"wrote {path} ({path.stat().st_size // 1024} KB)")


def main(argv) -> None:
    del argv
    from playwright.sync_api import sync_playwright

    output = Path(FLAGS.output_dir)
    output.mkdir(parents=True, exist_ok=True)
    model = keras_latent.from_preset(FLAGS.preset)
    page = build_page(DemoSession(model, name=FLAGS.preset))
    url = launch(page, port=_free_port(), block=False)
    workdir = Path(tempfile.mkdtemp())
    face = model.generate(num_samples=1, seed=FLAGS.face_seed)[0]
    face = np.round(face * 255)
    Image.fromarray(face.astype(np.uint8)).save(workdir / "face.png")
    chromium = next(filter(None, map(shutil.which, ("chromium", "google-chrome"))))
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=chromium, args=CHROMIUM_ARGS
            )
            tab = browser.new_page(viewport={"width": 1200, "height": 900})
            tab.set_default_timeout(60_000)
            tab.goto(url)
            source = _settled(tab, "#samples", None)
            for control in ("#attribute-smiling", "#attribute-eyeglasses"):
                tab.locator(control).get_by_label("on", exact=True).check()
                source = _settled(tab, "#samples", source)
            _shoot(tab, output / "serve_generate.png")
            tab.get_by_role("tab", name="Edit a photo").click()
            tab.locator("#upload input[type=file]").set_input_files(
                str(workdir / "face.png")
            )
            source = _settled(tab, "#edited", None)
            tab.locator("#edit-smiling").get_by_label("on", exact=True).check()
            _settled(tab, "#edited", source)
            _shoot(tab, output / "serve_edit.png")
            browser.close()
    finally:
        page.close()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    app.run(main)
