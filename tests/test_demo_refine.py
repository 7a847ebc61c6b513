"""The demo's click -> mask path (cam2seg_utils.demo.refine and RefinementSession) runs the
registered refinement modes (the code the hitl experiment measures), shows the click count and
the mode, and can undo any click. Real LiteMedSAM, the synthetic disk of conftest."""
from __future__ import annotations

import numpy as np
import pytest

from cam2seg_utils.demo.refine import ClickReplay, mode_choices
from cam2seg_utils.demo.state import PromptState, RefinementSession
from cam2seg_utils.refinement import DEFAULT_MODE, REFINEMENT_MODES, Click, build_mode, replay

BOX = np.array([95.0, 55.0, 150.0, 165.0])   # the left half of the disk (centre (150, 110), radius 55)
CLICKS = [(185.0, 110.0, 1), (150.0, 60.0, 1), (120.0, 110.0, 0)]


@pytest.fixture(scope="module")
def disk(litemedsam):
    from conftest import synthetic_disk_image

    image, gt = synthetic_disk_image()
    return image, gt, litemedsam.embed(image)


def _session(disk, litemedsam, **kw):
    image, _, emb = disk
    return RefinementSession(image=image, segmenter=litemedsam, embedding=emb,
                             auto=PromptState.make(BOX, np.zeros((0, 2)), np.zeros(0, np.int64)), **kw)


def _replayed(name, litemedsam, emb, clicks):
    mode = build_mode(name)
    start = mode.start(litemedsam, emb, BOX)
    return replay(mode, litemedsam, emb, start, [Click(x, y, lab == 1) for x, y, lab in clicks])[-1]


def test_the_demo_mask_is_the_modes_replay(disk, litemedsam):
    s = _session(disk, litemedsam)
    assert s.refinement == DEFAULT_MODE and mode_choices()[0] == DEFAULT_MODE
    for x, y, lab in CLICKS:
        s.add_point(x, y, positive=bool(lab))
    for name in REFINEMENT_MODES.names():
        s.set_refinement(name)
        np.testing.assert_array_equal(s.current_mask(), _replayed(name, litemedsam, disk[2], CLICKS).mask)
    st = s.status()
    assert st["clicks"] == 3 and st["positive_points"] == 2 and st["negative_points"] == 1
    assert st["refinement_mode"] == REFINEMENT_MODES.names()[-1]
    s.set_refinement(DEFAULT_MODE)
    assert s.status()["refinement_mode"] == f"{DEFAULT_MODE} (default: best measured)"
    with pytest.raises(KeyError, match="known: "):
        s.set_refinement("brush")


def test_the_demo_calls_the_registered_mode_code_not_a_copy(disk, litemedsam, monkeypatch):
    cls = REFINEMENT_MODES.get(DEFAULT_MODE)
    seen = []
    original = cls.step

    def spy(self, segmenter, embedding, state, click):
        seen.append(click)
        return original(self, segmenter, embedding, state, click)

    monkeypatch.setattr(cls, "step", spy)
    s = _session(disk, litemedsam)
    s.add_point(185.0, 110.0, positive=True)
    s.current_mask()
    assert seen == [Click(185.0, 110.0, True)]


def test_any_click_can_be_undone(disk, litemedsam):
    s = _session(disk, litemedsam)
    for x, y, lab in CLICKS:
        s.add_point(x, y, positive=bool(lab))
    full = s.current_mask().copy()
    s.remove_point(0)                                  # the first click, the others stay
    np.testing.assert_array_equal(s.current.points, [[150.0, 60.0], [120.0, 110.0]])
    np.testing.assert_array_equal(s.current_mask(), _replayed(DEFAULT_MODE, litemedsam, disk[2], CLICKS[1:]).mask)
    assert s.undo()                                    # removing is itself undoable
    np.testing.assert_array_equal(s.current_mask(), full)
    with pytest.raises(ValueError, match="no click number 4"):
        s.remove_point(3)


def test_click_replay_caches_prefixes(disk, litemedsam):
    rep = ClickReplay(litemedsam, disk[2])
    pts = np.array([[x, y] for x, y, _ in CLICKS])
    labs = np.array([lab for *_, lab in CLICKS])
    rep.state(DEFAULT_MODE, BOX, pts[:2], labs[:2])
    assert rep.steps == 2
    rep.state(DEFAULT_MODE, BOX, pts, labs)            # one more click: one more step
    assert rep.steps == 3
    rep.state(DEFAULT_MODE, BOX, pts[:2], labs[:2])    # undo: nothing recomputed
    assert rep.steps == 3
    whole = rep.state(DEFAULT_MODE, None, pts[:0], labs[:0])   # no box: the whole-image box
    np.testing.assert_array_equal(whole.box, [0, 0, 319, 239])
