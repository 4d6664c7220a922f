"""The review app in a real headless Chromium: sign in, open a seizure, play, mark a span by keyboard while playing,
resize it, accept a model proposal, correct a joint, reload and see all of it; a conflicting edit; another site's 403."""

from __future__ import annotations

import time

import httpx
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from semiology.layouts import UPPER_BODY_11
from tests.review.browser import chromium, screenshot, wait_for
from tests.review.review_world import PASSWORD, Running, World
from tests.review.test_review_api import signed_in

WRIST = UPPER_BODY_11.index("left_wrist")


def sign_in(driver, url: str, username: str, password: str = PASSWORD) -> None:
    driver.get(f"{url}/login")
    driver.find_element(By.ID, "username").send_keys(username)
    driver.find_element(By.ID, "password").send_keys(password)
    driver.find_element(By.ID, "login-button").click()
    wait_for(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "#seizures tbody tr"), f"the seizure list of {username}")


def open_seizure(driver, url: str, seizure_id: int) -> None:
    driver.get(f"{url}/seizures/{seizure_id}")
    wait_for(driver, lambda d: d.execute_script("return document.getElementById('video').readyState >= 2 && state.keypoints !== null"),
             "the video and keypoints")
    wait_for(driver, lambda d: int(d.find_element(By.ID, "overlay").get_attribute("data-frame")) >= 0, "the first overlay")


def seek(driver, seconds: float) -> int:
    driver.execute_script("video.pause(); video.currentTime = arguments[0];", seconds)
    wait_for(driver, lambda d: d.execute_script("return !video.seeking && state.frame === Math.round(video.currentTime * state.fps)"), "the seek")
    return int(driver.find_element(By.ID, "overlay").get_attribute("data-frame"))


def spans(driver, term: str) -> list[dict]:
    return driver.execute_script("return state.seizure.labels.filter((l) => l.term === arguments[0]);", term)


def overlay_pixel(driver, x_px: float, y_px: float) -> list[int]:
    """The overlay's RGBA at a point given in video pixels."""
    return driver.execute_script(
        "const k = scale(); return Array.from(overlay.getContext('2d').getImageData(Math.round(arguments[0] * k), Math.round(arguments[1] * k), 1, 1).data);",
        x_px, y_px)


def test_review_in_a_real_browser(running: Running, world: World) -> None:
    with chromium() as driver:
        sign_in(driver, running.url, "rita")
        screenshot(driver, "01-list")
        driver.find_element(By.LINK_TEXT, world.key_a).click()
        wait_for(driver, lambda d: d.execute_script("return document.getElementById('video').readyState >= 2 && state.keypoints !== null"),
                 "the seizure page")
        assert "P01" in driver.find_element(By.ID, "facts").text

        # The overlay follows the video frame for frame: at 1.00 s the page draws frame 25, the wrist where the cache has it.
        assert seek(driver, 1.0) == 25
        wrist = driver.execute_script("return state.keypoints.body.coords[25][arguments[0]];", WRIST)
        assert overlay_pixel(driver, *wrist)[3] > 0, "a joint is drawn at its cached position"
        assert seek(driver, 2.0) == 50
        wrist_later = driver.execute_script("return state.keypoints.body.coords[50][arguments[0]];", WRIST)
        assert wrist_later != wrist
        driver.find_element(By.ID, "show-body").click()
        assert overlay_pixel(driver, *wrist_later)[3] == 0, "the skeleton toggles off"
        driver.find_element(By.ID, "show-body").click()
        screenshot(driver, "02-overlay")

        # Play at half speed and hold S for about a second: a span of the chosen sign is stored while the video plays.
        Select(driver.find_element(By.ID, "term")).select_by_value("tonic")
        Select(driver.find_element(By.ID, "speed")).select_by_value("0.5")
        seek(driver, 0.2)
        driver.find_element(By.ID, "play").click()
        wait_for(driver, lambda d: d.execute_script("return !video.paused && video.currentTime > 0.3"), "playback")
        body = driver.find_element(By.TAG_NAME, "body")
        ActionChains(driver).key_down("s", body).perform()
        time.sleep(1.0)
        ActionChains(driver).key_up("s", body).perform()
        wait_for(driver, lambda d: len(spans(d, "tonic")) == 1, "the span made by keyboard")
        (made,) = spans(driver, "tonic")
        assert driver.execute_script("return video.playbackRate") == 0.5
        assert 1 / 25 <= made["end_s"] - made["start_s"] <= 1.5, made  # playback slows when the machine is busy: at least one frame
        assert made["annotator"] == "rita" and made["status"] == "human"
        # A short tap starts a span and the next press ends it. The taps are dispatched as events in one script each: the
        # WebDriver's key_down/key_up pair can be more than HOLD_MS apart on a busy machine, which the page rightly reads as a hold.
        Select(driver.find_element(By.ID, "term")).select_by_value("myoclonic")
        tap = "for (const type of ['keydown', 'keyup']) document.body.dispatchEvent(new KeyboardEvent(type, {key: 's', bubbles: true}));"
        driver.execute_script(tap)
        assert driver.execute_script("return state.openStart !== null"), "a tap leaves the span open"
        time.sleep(0.8)
        driver.execute_script(tap)
        wait_for(driver, lambda d: len(spans(d, "myoclonic")) == 1, "the span made by two taps")
        tapped = spans(driver, "myoclonic")[0]
        assert driver.execute_script("return state.openStart === null && !document.querySelector('.span.pending')")
        assert tapped["start_s"] >= made["end_s"] and 1 / 25 <= tapped["end_s"] - tapped["start_s"] <= 1.2, tapped
        Select(driver.find_element(By.ID, "term")).select_by_value("tonic")
        driver.execute_script("video.pause();")
        # N and P jump between spans.
        seek(driver, 0.0)
        ActionChains(driver).send_keys_to_element(body, "n").perform()
        wait_for(driver, lambda d: abs(d.execute_script("return video.currentTime") - 0.2) < 0.02, "the jump to the first span (clonic, 0.2 s)")
        ActionChains(driver).send_keys_to_element(body, "n").perform()
        wait_for(driver, lambda d: abs(d.execute_script("return video.currentTime") - made["start_s"]) < 0.02, "the jump to the next span")
        screenshot(driver, "03-span")

        # Resize: drag the span's end handle to the right.
        handle = driver.find_element(By.CSS_SELECTOR, f'.span[data-id="{made["id"]}"] .handle.end')
        ActionChains(driver).click_and_hold(handle).move_by_offset(20, 0).move_by_offset(20, 0).release().perform()
        wait_for(driver, lambda d: spans(d, "tonic")[0]["version"] == made["version"] + 1, "the resized span")
        resized = spans(driver, "tonic")[0]
        assert resized["end_s"] > made["end_s"] + 0.1 and resized["start_s"] == made["start_s"]

        # Accept the model's proposal.
        driver.find_element(By.CSS_SELECTOR, "#proposals button.accept").click()
        wait_for(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "#proposals li.accepted"), "the accepted proposal")

        # Correct a joint on a paused frame: drag the left wrist in frame 25.
        assert seek(driver, 1.0) == 25
        x, y, k = *driver.execute_script("return state.keypoints.body.coords[25][arguments[0]];", WRIST), driver.execute_script("return scale();")
        driver.execute_script("window.scrollTo(0, 0);")
        canvas = driver.find_element(By.ID, "overlay")
        offset_x, offset_y = x * k - canvas.size["width"] / 2, y * k - canvas.size["height"] / 2
        (ActionChains(driver).move_to_element_with_offset(canvas, round(offset_x), round(offset_y)).click_and_hold()
         .move_by_offset(10, 0).move_by_offset(10, 6).release().perform())
        wait_for(driver, lambda d: "Corrected left_wrist in frame 25" in d.find_element(By.ID, "message").text, "the stored correction")
        corrected = driver.execute_script("return state.keypoints.body.coords[25][arguments[0]];", WRIST)
        screenshot(driver, "04-corrected")

        # Reload: everything is still there.
        open_seizure(driver, running.url, world.seizure_a)
        after = spans(driver, "tonic")
        assert [(s["start_s"], s["end_s"], s["version"]) for s in after] == [(resized["start_s"], resized["end_s"], resized["version"])]
        statuses = driver.execute_script("return state.seizure.labels.filter((l) => l.model !== null).map((l) => l.status);")
        assert statuses == ["accepted"]
        reloaded = driver.execute_script("return [state.keypoints.body.coords[25][arguments[0]], state.keypoints.body.confidence[25][arguments[0]]];", WRIST)
        assert reloaded[1] == 1.0 and abs(reloaded[0][0] - corrected[0]) < 0.02 and abs(reloaded[0][0] - x) > 5
        assert seek(driver, 1.0) == 25
        assert overlay_pixel(driver, *reloaded[0])[3] > 0, "the corrected joint is drawn where it was dropped"
        screenshot(driver, "05-reloaded")

        # Another reviewer changes the span meanwhile; rita's stale drag gets the conflict message and changes nothing.
        sam = signed_in(running.url, "sam")
        moved = sam.put(f"/api/labels/{resized['id']}", json={**resized, "start_s": resized["start_s"] + 0.2})
        assert moved.status_code == 200
        span = driver.find_element(By.CSS_SELECTOR, f'.span[data-id="{resized["id"]}"]')
        ActionChains(driver).click_and_hold(span).move_by_offset(15, 0).move_by_offset(15, 0).release().perform()
        wait_for(driver, lambda d: "Conflict" in d.find_element(By.ID, "message").text, "the conflict message")
        text = driver.find_element(By.ID, "message").text
        assert "was changed by another user" in text and "Your change (tonic" in text
        assert spans(driver, "tonic")[0]["start_s"] == moved.json()["start_s"], "the page now shows the other user's version"
        screenshot(driver, "06-conflict")

        # An annotator of site B opens site A's seizure: 403, and nothing of it is shown.
        driver.find_element(By.ID, "logout").click()
        wait_for(driver, lambda d: d.current_url.endswith("/login"), "the login page")
        sign_in(driver, running.url, "bob")
        assert [row.text.split()[1] for row in driver.find_elements(By.CSS_SELECTOR, "#seizures tbody tr")] == [world.key_b]
        driver.get(f"{running.url}/seizures/{world.seizure_a}")
        wait_for(driver, lambda d: "belongs to another site" in d.find_element(By.ID, "message").text, "the 403 message")
        assert world.key_a not in driver.find_element(By.TAG_NAME, "body").text
        screenshot(driver, "07-forbidden")
    assert httpx.get(f"{running.url}/api/seizures").status_code == 401
