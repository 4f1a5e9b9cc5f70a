"""`keras-latent serve`'s page in a real browser: headless Chromium, driven by
Playwright, against the page served by this process on the test's backend.

Needs Gradio (`pip install "keras-latent[demo]"`), Playwright (the `dev`
extra) and the system's Chromium (Debian: `apt-get install chromium`;
Playwright's own browser download is not used). Without them the tests are
skipped with the reason, except where `KERAS_LATENT_REQUIRE_BROWSER=1` (CI
sets it), where a missing piece fails them.
"""

import importlib.util
import os
import shutil
import socket

import numpy as np
import pytest
from PIL import Image

import keras_latent
from keras_latent.demo import DemoSession

PRESET = "celeba_latent_constraints"
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")
# As the machine's notes advise for a closed network: no background
# connections, no sandbox (CI runs as root), no GPU.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 60_000


def _chromium() -> str | None:
    explicit = os.environ.get("KERAS_LATENT_CHROMIUM")
    if explicit:
        return explicit
    return next(filter(None, map(shutil.which, CHROMIUM_NAMES)), None)


def _missing() -> str | None:
    if importlib.util.find_spec("gradio") is None:
        return 'Gradio is not installed (pip install "keras-latent[demo]")'
    if importlib.util.find_spec("playwright") is None:
        return "Playwright is not installed (pip install playwright)"
    if _chromium() is None:
        return "no Chromium on this machine (apt-get install chromium)"
    return None


@pytest.fixture(scope="module")
def browser():
    missing = _missing()
    if missing:
        if os.environ.get("KERAS_LATENT_REQUIRE_BROWSER") == "1":
            pytest.fail(f"the browser test must run here, but {missing}")
        pytest.skip(missing)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=_chromium(), args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def served(browser):
    from keras_latent.demo.page import build_page, launch

    model = keras_latent.from_preset(PRESET)
    page = build_page(DemoSession(model, name=PRESET))
    url = launch(page, port=_free_port(), block=False)
    yield url, model
    page.close()


@pytest.fixture
def tab(browser, served):
    tab = browser.new_page(viewport={"width": 1280, "height": 1000})
    tab.set_default_timeout(TIMEOUT_MS)
    tab.goto(served[0])
    tab.wait_for_selector("#samples img")
    yield tab
    tab.close()


def _image_source(tab, selector: str) -> str:
    return tab.locator(f"{selector} img").get_attribute("src")


def _wait_for_new_image(tab, selector: str, old: str | None) -> str:
    tab.wait_for_function(
        """([selector, old]) => {
            const img = document.querySelector(selector + " img");
            return img && img.complete && img.naturalWidth > 0 && img.src !== old;
        }""",
        arg=[selector, old],
    )
    return _image_source(tab, selector)


def _grid_pixels(tab, selector: str) -> np.ndarray:
    """The image the browser shows, fetched from the page's own URL."""
    response = tab.request.get(_image_source(tab, selector))
    assert response.ok
    from io import BytesIO

    return np.asarray(Image.open(BytesIO(response.body())).convert("RGB"))


def test_changing_an_attribute_changes_the_grid(tab):
    before = _image_source(tab, "#samples")
    pixels_before = _grid_pixels(tab, "#samples")
    tab.locator("#attribute-eyeglasses").get_by_label("on", exact=True).check()
    _wait_for_new_image(tab, "#samples", before)
    pixels_after = _grid_pixels(tab, "#samples")
    assert pixels_after.shape == pixels_before.shape
    assert np.abs(pixels_after.astype(int) - pixels_before).mean() > 1.0
    assert tab.locator("#sample-message").inner_text().strip() == ""


def _upload(tab, path) -> None:
    clear = tab.locator("#upload").get_by_role("button", name="Clear")
    if clear.count():
        clear.click()
    tab.locator("#upload input[type=file]").set_input_files(str(path))


def test_an_uploaded_face_is_edited(tab, served, tmp_path):
    face = np.round(served[1].generate(num_samples=1, seed=5)[0] * 255)
    path = tmp_path / "face.png"
    Image.fromarray(face.astype(np.uint8)).save(path)
    tab.get_by_role("tab", name="Edit a photo").click()
    _upload(tab, path)
    first = _wait_for_new_image(tab, "#edited", None)
    tab.locator("#edit-smiling").get_by_label("on", exact=True).check()
    tab.wait_for_function(
        "() => document.querySelector('#edit-message').innerText"
        ".includes('Edited: Smiling on')"
    )
    _wait_for_new_image(tab, "#edited", first)
    grid = _grid_pixels(tab, "#edited")
    # Photo | reconstruction | edit, side by side, the edit unlike the photo.
    height, width = grid.shape[:2]
    padding = (3 * height - width) // 2  # width = 3 tiles + 4 paddings
    side = height - 2 * padding
    assert padding >= 0 and width == 3 * side + 4 * padding
    photo, _, edit = (
        grid[padding:-padding, padding + i * (side + padding) :][:, :side].astype(int)
        for i in range(3)
    )
    assert np.abs(photo - edit).mean() > 1.0


@pytest.mark.parametrize(
    "content, message",
    [
        (b"this is not a picture", "is not an image the page can read"),
        (None, "pixels: the model reads 64x64 images"),
    ],
    ids=["not_an_image", "tiny"],
)
def test_a_bad_upload_shows_a_message(tab, tmp_path, content, message):
    path = tmp_path / "upload.png"
    if content is None:
        Image.new("RGB", (4, 4), "white").save(path)
    else:
        path.write_bytes(content)
    tab.get_by_role("tab", name="Edit a photo").click()
    _upload(tab, path)
    tab.wait_for_function(
        "(m) => document.querySelector('#edit-message').innerText.includes(m)",
        arg=message,
    )
    text = tab.locator("#edit-message").inner_text()
    assert "upload.png" in text and "Traceback" not in text
    assert str(tmp_path) not in text
