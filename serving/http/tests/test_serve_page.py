"""The page in a real browser: headless Chromium (Debian's package) driven by Selenium, on an
image-in model trained from a small image tree. Upload an image and read the predicted
class, add a class, see it listed, predict again and see the new class win.

Set ZSL_SERVE_SCREENSHOT=PATH.png to keep a screenshot of the page at the end."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import httpx
import numpy as np
import pytest
from serve_testkit import copy_model, running_server

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--window-size=1200,800",
)


def _browser():
    if not (Path(CHROMIUM).is_file() and Path(CHROMEDRIVER).is_file()):
        pytest.skip(
            f"no browser: {CHROMIUM} / {CHROMEDRIVER} missing "
            f"(apt-get install -y chromium chromium-driver; .ci/run does)"
        )
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)


def _wait(driver, condition, seconds: float = 60):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, seconds, poll_frequency=0.1).until(condition)


def _prediction(driver, round_: int) -> str:
    """The predicted class shown once the page has shown its ``round_``-th results."""
    from selenium.webdriver.common.by import By

    def shown(d):
        if d.find_element(By.ID, "results").get_attribute("data-round") != str(round_):
            return False
        found = d.find_elements(By.CSS_SELECTOR, "#results .result .prediction")
        return found[0].text if found else False

    return _wait(driver, shown)


def test_page_predicts_and_adds_a_class(digits_model, tmp_path):
    from selenium.webdriver.common.by import By
    from zsl_onnx import OnnxPredictor

    model = copy_model(digits_model["model"], tmp_path / "m")
    image = sorted(digits_model["images"].rglob("*.png"))[0]
    predictor = OnnxPredictor(model, "cpu")
    pixels = predictor.images([str(image)])
    scores, embedding = predictor.session.run(["scores", "embedding"], {"images": pixels})
    # A class whose embedding points along the image's projection, scaled past the best
    # score: the model must rank it first for this image once it is added.
    scale = 2 * (abs(float(scores.max())) + 1) / float(embedding[0] @ embedding[0])
    vector = ", ".join(f"{v:.6g}" for v in embedding[0] * scale)

    driver = _browser()
    try:
        with running_server(str(model), "--provider", "cpu") as (url, _):
            api = httpx.post(
                url + "/predict", files=[("images", (image.name, image.read_bytes()))]
            ).json()["predictions"][0]["class"]
            driver.get(url + "/")
            _wait(driver, lambda d: len(d.find_elements(By.CSS_SELECTOR, "#classes li")) == 10)
            kinds = {
                li.get_attribute("data-name"): li.find_element(By.CLASS_NAME, "kind").text
                for li in driver.find_elements(By.CSS_SELECTOR, "#classes li")
            }
            assert set(kinds.values()) == {"seen", "unseen"}

            driver.find_element(By.ID, "files").send_keys(str(image))
            first = _prediction(driver, 1)
            assert first == api
            assert len(driver.find_elements(By.CSS_SELECTOR, "#results .bar")) == 5

            driver.find_element(By.ID, "new-name").send_keys("scribble")
            driver.find_element(By.ID, "new-attributes").send_keys(vector)
            driver.find_element(By.ID, "add").click()
            added = _wait(
                driver,
                lambda d: d.find_elements(By.CSS_SELECTOR, '#classes li[data-name="scribble"]'),
            )
            assert added[0].find_element(By.CLASS_NAME, "kind").text == "added"

            driver.find_element(By.ID, "files").send_keys(str(image))
            assert _prediction(driver, 2) == "scribble"
            shot = os.environ.get("ZSL_SERVE_SCREENSHOT")
            if shot:
                driver.save_screenshot(str(tmp_path / "page.png"))
                shutil.copyfile(tmp_path / "page.png", shot)
    finally:
        driver.quit()
    assert np.isfinite(scale)
