import numpy as np
import paddle
import pytest

from ppcls_repro.engine.checkpoint import (CheckpointError, atomic_save, load_file, load_resume_state,
                                           optimizer_state, save_checkpoint, set_optimizer_state, set_weights_strict)
from ppcls_repro.utils import files


def test_interrupted_save_leaves_previous_file_intact(tmp_path, monkeypatch):
    path = tmp_path / "latest.pdparams"
    atomic_save({"w": paddle.ones([2])}, path)

    def die(fd):
        raise KeyboardInterrupt  # as if the process were killed between write and rename

    monkeypatch.setattr(files.os, "fsync", die)
    with pytest.raises(KeyboardInterrupt):
        atomic_save({"w": paddle.zeros([2])}, path)
    np.testing.assert_array_equal(load_file(path)["w"].numpy(), [1, 1])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["latest.pdparams"]  # no partial file left


def test_truncated_checkpoint_is_a_clear_error(tmp_path):
    path = tmp_path / "latest.pdckpt"
    atomic_save({"w": paddle.ones([100])}, path)
    path.write_bytes(path.read_bytes()[:50])
    with pytest.raises(CheckpointError, match="cannot read checkpoint .*latest.pdckpt"):
        load_file(path)
    with pytest.raises(CheckpointError, match="not found"):
        load_file(tmp_path / "none.pdckpt")


def test_optimizer_state_survives_a_model_built_elsewhere(tmp_path):
    # Paddle names parameters by creation order (linear_0.w_0, linear_1.w_0, ...): the saved
    # state must not depend on it. After loading, one more step must match exactly.
    def make():
        model = paddle.nn.Sequential(paddle.nn.Linear(3, 2), paddle.nn.Linear(2, 1))
        return model, paddle.optimizer.Adam(learning_rate=0.1, parameters=model.parameters())

    def step(model, opt):
        (model(paddle.to_tensor([[1.0, -2.0, 3.0]])) ** 2).sum().backward()
        opt.step()
        opt.clear_grad()

    model_a, opt_a = make()
    step(model_a, opt_a)
    atomic_save(optimizer_state(opt_a, model_a), tmp_path / "opt.pdckpt")  # as a checkpoint does
    state = load_file(tmp_path / "opt.pdckpt")
    assert any(k.startswith("0.weight_moment1") for k in state)
    model_b, opt_b = make()
    model_b.set_state_dict(model_a.state_dict())
    set_optimizer_state(opt_b, model_b, state, source="opt.pdckpt")
    control, opt_control = make()  # same weights, fresh optimizer: must end elsewhere
    control.set_state_dict(model_a.state_dict())
    for model, opt in ((model_a, opt_a), (model_b, opt_b), (control, opt_control)):
        step(model, opt)
    for wa, wb in zip(model_a.parameters(), model_b.parameters()):
        np.testing.assert_array_equal(wa.numpy(), wb.numpy())
    assert not np.array_equal(control[0].weight.numpy(), model_a[0].weight.numpy())


def test_a_checkpoint_of_another_optimizer_is_one_line():
    """Adam's state into Momentum (``-o Optimizer.name=Momentum`` on resume) was Paddle's AssertionError."""
    model = paddle.nn.Linear(3, 2)
    adam = paddle.optimizer.Adam(learning_rate=0.1, parameters=model.parameters())
    (model(paddle.ones([1, 3])) ** 2).sum().backward()
    adam.step()
    momentum = paddle.optimizer.Momentum(learning_rate=0.1, parameters=model.parameters())
    with pytest.raises(CheckpointError, match=r"^run/latest: its optimizer state is Adam's, the config builds "
                                              r"Momentum \(Optimizer.name\); resume with the optimizer"):
        set_optimizer_state(momentum, model, optimizer_state(adam, model), source="run/latest")


def test_strict_weights_reject_missing_extra_and_shapes():
    model = paddle.nn.Linear(3, 2)
    good = {k: v.clone() for k, v in model.state_dict().items()}
    set_weights_strict(model, good, "x")
    with pytest.raises(CheckpointError, match="missing"):
        set_weights_strict(model, {"weight": good["weight"]}, "f.pdparams")
    with pytest.raises(CheckpointError, match="'weight' has shape \\[4, 2\\] in the file"):
        set_weights_strict(model, {**good, "weight": paddle.zeros([4, 2])}, "f.pdparams")


class _RunsACommand:
    """What a crafted weight file holds: unpickling it calls os.system (here: touching a marker)."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        import os
        return os.system, (f"touch {self.marker}",)


def test_a_weight_file_that_would_run_code_is_refused_and_nothing_runs(tmp_path):
    import pickle
    marker = tmp_path / "ran"
    net = paddle.nn.Linear(2, 3)
    weights = {k: v.numpy() for k, v in net.state_dict().items()}
    weights["payload"] = _RunsACommand(marker)  # beside real weights, as in the probe
    (tmp_path / "evil.pdparams").write_bytes(pickle.dumps(weights, protocol=4))
    with pytest.raises(CheckpointError, match=r"evil.pdparams: refused: it asks to run (posix|os)\.system while loading"):
        load_file(tmp_path / "evil.pdparams")
    assert not marker.exists()


def test_weights_and_resume_checkpoints_still_load(tmp_path):
    net = paddle.nn.Linear(2, 3)
    save_checkpoint(tmp_path / "latest", net.state_dict(), {"progress": {"epoch": 1}})
    state = load_resume_state(tmp_path / "latest")  # holds Paddle's RNG state objects too
    assert state["progress"] == {"epoch": 1}
    np.testing.assert_array_equal(load_file(tmp_path / "latest.pdparams")["weight"].numpy(), net.weight.numpy())


def test_a_save_cut_between_its_two_files_is_read_as_one_unit(tmp_path):
    """save_checkpoint writes .pdckpt, then .pdparams; killed in between, the .pdparams is one save
    behind: the weights then come from the newer .pdckpt."""
    import os
    from ppcls_repro.engine.checkpoint import load_weights
    net = paddle.nn.Linear(2, 3)
    save_checkpoint(tmp_path / "latest", net.state_dict(), {"progress": {"epoch": 1}})
    old = os.stat(tmp_path / "latest.pdparams").st_mtime_ns
    net.weight.set_value(net.weight.numpy() + 1.0)
    atomic_save({"progress": {"epoch": 2}, "weights": net.state_dict(), "rng": {}}, tmp_path / "latest.pdckpt")
    os.utime(tmp_path / "latest.pdckpt", ns=(old + 10**9, old + 10**9))
    np.testing.assert_array_equal(load_weights(tmp_path / "latest")["weight"].numpy(), net.weight.numpy())
    save_checkpoint(tmp_path / "latest", net.state_dict(), {"progress": {"epoch": 2}})  # a whole save
    np.testing.assert_array_equal(load_weights(tmp_path / "latest")["weight"].numpy(), net.weight.numpy())


def test_a_weight_file_that_differs_from_its_sha256_is_refused(tmp_path):
    path = tmp_path / "release.pdparams"
    atomic_save({"w": paddle.ones([64])}, path)
    files.write_checksum(path)
    np.testing.assert_array_equal(load_file(path)["w"].numpy(), np.ones(64))  # matching: loads
    data = bytearray(path.read_bytes())
    data[-10] ^= 0x01  # one flipped bit inside the array bytes: still a loadable file
    path.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match=r"release.pdparams: sha256 [0-9a-f]{64} differs from .*\.sha256"):
        load_file(path)


def test_a_malformed_sha256_file_is_a_clear_error(tmp_path):
    path = tmp_path / "release.pdparams"
    atomic_save({"w": paddle.ones([2])}, path)
    files.checksum_path(path).write_text("not-a-hash  release.pdparams\n")
    with pytest.raises(CheckpointError, match=r"release.pdparams.sha256: not a sha256 line"):
        load_file(path)


def test_saving_over_a_checksummed_file_keeps_its_record_true(tmp_path):
    path = tmp_path / "best_model.pdparams"
    atomic_save({"w": paddle.ones([2])}, path)
    files.write_checksum(path)
    atomic_save({"w": paddle.zeros([2])}, path)  # a deliberate save, e.g. a run writing into that folder
    np.testing.assert_array_equal(load_file(path)["w"].numpy(), [0, 0])
    assert files.recorded_checksum(path) == files.sha256_file(path)
