"""DSCMR against the fixture computed with the authors' code (penghu-cs/DSCMR: IDCM_NN, calc_loss,
fx_calc_map_label; shared/reference): the weights regenerated from its recipe give the official
features, predictions, every loss term and every gradient, and the official mAP.

Names: img_net.denseL1 -> image_branch, text_net.denseL1 -> text_branch, linearLayer -> common,
linearLayer2 -> classifier (both shared by the modalities, as in the official model); Paddle's Linear
weight is the torch one transposed."""
import numpy as np
import paddle
import pytest

from ppcls_repro.papers.dscmr.loss import DSCMRLoss
from ppcls_repro.papers.dscmr.metrics import retrieval_map
from ppcls_repro.papers.dscmr.model import DSCMR

NAMES = {"image_branch": "img_net.denseL1", "text_branch": "text_net.denseL1", "common": "linearLayer",
         "classifier": "linearLayer2"}


@pytest.fixture(scope="module")
def run(dscmr_reference):
    """The suite's model and loss on the fixture's inputs, after one backward."""
    fixture, w = dscmr_reference
    net = DSCMR(num_classes=20, image_dim=4096, text_dim=300)
    net.set_state_dict({f"{ours}.{kind}": paddle.to_tensor(w[f"{theirs}.{kind}"].T if kind == "weight"
                                                           else w[f"{theirs}.{kind}"])
                        for ours, theirs in NAMES.items() for kind in ("weight", "bias")})
    u, v, p_img, p_txt = net(paddle.to_tensor(fixture["input/img"]), paddle.to_tensor(fixture["input/txt"]))
    loss = DSCMRLoss(alpha=float(fixture["loss/alpha"]), beta=float(fixture["loss/beta"]))(
        u, v, p_img, p_txt, paddle.to_tensor(fixture["input/label_idx"]))
    loss["loss"].backward()
    grads = {f"{theirs}.{kind}": getattr(getattr(net, ours), kind).grad.numpy()
             for ours, theirs in NAMES.items() for kind in ("weight", "bias")}
    grads = {k: g.T if k.endswith("weight") else g for k, g in grads.items()}  # back to the torch layout
    outputs = {"view1_feature": u, "view2_feature": v, "view1_predict": p_img, "view2_predict": p_txt}
    return fixture, {k: t.numpy() for k, t in outputs.items()}, {k: float(t) for k, t in loss.items()}, grads


def test_features_and_predictions_are_the_official_ones(run):
    fixture, outputs, _, _ = run
    for name, value in outputs.items():
        np.testing.assert_allclose(value, fixture[f"output/{name}"], rtol=1e-5, atol=1e-6, err_msg=name)


def test_every_loss_term_is_the_official_one(run):
    fixture, _, loss, _ = run
    assert loss["j1"] == pytest.approx(float(fixture["loss/term1"]), rel=1e-5)
    assert loss["j2"] == pytest.approx(float(fixture["loss/term2"]), rel=1e-5)
    assert loss["j3"] == pytest.approx(float(fixture["loss/term3"]), rel=1e-5)
    assert loss["loss"] == pytest.approx(float(fixture["loss/total"]), rel=1e-5)
    # the official J1 and J3 are means of per-sample norms, not the paper's Frobenius norms over n
    assert loss["j1"] != pytest.approx(float(fixture["nonofficial/term1_frobenius_over_n"]), rel=1e-2)


def test_every_gradient_is_the_official_one(run):
    fixture, _, _, grads = run
    for name, g in grads.items():
        if f"grad/{name}" in fixture:
            ref = fixture[f"grad/{name}"]
            np.testing.assert_allclose(g, ref, rtol=1e-4, atol=1e-5 * np.abs(ref).max(), err_msg=name)
            continue
        pre = f"grad_summary/{name}"
        flat, at = g.astype(np.float64).reshape(-1), 1e-5 * float(fixture[f"{pre}/max_abs"])
        np.testing.assert_allclose(flat[:256], fixture[f"{pre}/first256"], rtol=1e-4, atol=at, err_msg=name)
        np.testing.assert_allclose(flat[fixture[f"{pre}/idx256"]], fixture[f"{pre}/at_idx256"], rtol=1e-4, atol=at)
        np.testing.assert_allclose(flat.sum(), fixture[f"{pre}/sum"], rtol=1e-4, atol=1e-4 * float(fixture[f"{pre}/l2"]))
        assert np.sqrt((flat ** 2).sum()) == pytest.approx(float(fixture[f"{pre}/l2"]), rel=1e-4)


def test_the_map_is_the_official_one(dscmr_reference):
    fixture, _ = dscmr_reference
    labels = fixture["map/labels"]
    assert retrieval_map(fixture["map/img"], fixture["map/txt"], labels, labels) == pytest.approx(
        float(fixture["map/i2t"]), abs=1e-9)
    assert retrieval_map(fixture["map/txt"], fixture["map/img"], labels, labels) == pytest.approx(
        float(fixture["map/t2i"]), abs=1e-9)


def test_the_batch_map_of_the_models_features_is_the_official_one(run):
    fixture, outputs, _, _ = run
    labels = fixture["input/label_idx"]
    assert retrieval_map(outputs["view1_feature"], outputs["view2_feature"], labels, labels) == pytest.approx(
        float(fixture["map/batch_i2t"]), abs=1e-9)
    assert retrieval_map(outputs["view2_feature"], outputs["view1_feature"], labels, labels) == pytest.approx(
        float(fixture["map/batch_t2i"]), abs=1e-9)
