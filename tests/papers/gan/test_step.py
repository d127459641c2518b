"""AdversarialStep: k D-steps per G-step, both G losses, schedules, exact resume through the loop."""
import numpy as np
import paddle
import pytest

from ppcls_repro.config import load_config
from ppcls_repro.engine.trainer import train
from ppcls_repro.papers.gan.model import generator_weights
from ppcls_repro.papers.gan.step import AdversarialStep, ExponentialDecay, momentum_at

CONFIG = "configs/gan_mnist.yaml"
SMALL = ["Arch.generator.noise_dim=8", "Arch.generator.hidden=[16]", "Arch.discriminator.units=[12]",
         "Arch.discriminator.pieces=2"]


def tiny_step(k, loss="non_saturating", update="simultaneous", extra=()):
    cfg = load_config(CONFIG, SMALL + [f"Step.k={k}", f"Step.generator_loss={loss}", f"Step.update={update}", *extra])
    return AdversarialStep.from_config(cfg, steps_per_epoch=10)


def batch(seed=0):
    return {"input": paddle.to_tensor(np.random.default_rng(seed).random((6, 1, 28, 28)).astype(np.float32))}


def snapshot(net):
    return {k: v.numpy().copy() for k, v in net.state_dict().items()}


@pytest.mark.parametrize("update", ["simultaneous", "alternating"])
@pytest.mark.parametrize("k", [1, 3])
def test_k_discriminator_steps_per_generator_step(k, update):
    paddle.seed(0)
    step = tiny_step(k, update=update)
    changed = []
    for i in range(6):
        before = snapshot(step.gan.generator)
        d_before = snapshot(step.gan.discriminator)
        out = step.train_step(batch(i))
        assert set(out) == {"d_loss", "g_loss", "d_real", "d_fake"}
        assert any(not np.array_equal(d_before[n], v) for n, v in snapshot(step.gan.discriminator).items())
        changed.append(any(not np.array_equal(before[n], v) for n, v in snapshot(step.gan.generator).items()))
    assert changed == [(i + 1) % k == 0 for i in range(6)]
    assert step.generator_updates == 6 // k and step.iteration == 6


@pytest.mark.parametrize("update", ["simultaneous", "alternating"])
@pytest.mark.parametrize("loss", ["minimax", "non_saturating"])
def test_generator_losses(loss, update):
    paddle.seed(0)
    step = tiny_step(1, loss, update)
    out = step.train_step(batch())
    # the logged G objective: its sign tells the two apart (minimax log(1 - D) < 0, -log D > 0)
    assert (out["g_loss"] < 0) == (loss == "minimax")
    assert 0 < out["d_real"] < 1 and 0 < out["d_fake"] < 1


@pytest.mark.parametrize("loss", ["minimax", "non_saturating"])
def test_simultaneous_update_steps_each_net_on_its_own_objective(loss):
    """As AdversaryCost2: one forward pass of D on (x, G(z)); D descends d_obj, G descends g_obj, both
    gradients taken before either net moves. Dropout off so the reference forward pass is the same."""
    step = tiny_step(1, loss, extra=["Arch.discriminator.input_keep=1.0", "Arch.discriminator.hidden_keep=1.0"])
    g, d = step.gan.generator, step.gan.discriminator
    real = batch()["input"]
    paddle.seed(7)
    fake = g(g.sample_noise(int(real.shape[0])))
    logit_fake = d(fake)
    d_grads = paddle.grad(step._d_loss(d(real), logit_fake), d.parameters(), retain_graph=True)
    g_grads = paddle.grad(step._g_loss(logit_fake), g.parameters())
    expected = {"discriminator": [p.numpy() - 0.1 * gr.numpy() for p, gr in zip(d.parameters(), d_grads)],
                "generator": [p.numpy() - 0.1 * gr.numpy() for p, gr in zip(g.parameters(), g_grads)]}
    paddle.seed(7)
    step.train_step({"input": real})  # first momentum step at lr 0.1: p - 0.1 * grad
    for net, values in expected.items():
        for param, value in zip(getattr(step.gan, net).parameters(), values):
            np.testing.assert_allclose(param.numpy(), value, rtol=1e-5, atol=1e-7, err_msg=f"{net} {param.name}")


def test_generator_update_raises_its_score_on_the_same_noise():
    """The non-saturating G step with D held fixed moves D(G(z)) up on the noise it was computed on."""
    paddle.seed(0)
    step = tiny_step(1000, "non_saturating", "alternating",
                     extra=["Arch.discriminator.input_keep=1.0", "Arch.discriminator.hidden_keep=1.0",
                            "Arch.discriminator.irange=0.1"])
    g, d = step.gan.generator, step.gan.discriminator
    for i in range(30):  # D alone learns to tell the samples apart, so G's gradient is not vanishingly small
        step.train_step(batch(i))
    z = g.sample_noise(64, np.random.default_rng(3))
    before = float(d.probability(g(z)).mean())
    assert before < 0.48
    loss = step._g_loss(d(g(z)))
    loss.backward()
    step._step("generator")
    d.clear_gradients()
    assert float(d.probability(g(z)).mean()) > before


def test_schedules_follow_pylearn2():
    lr = ExponentialDecay(0.1, 10, 1)
    values = []
    for _ in range(3):
        values.append(lr.get_lr())
        lr.step()
    assert np.allclose(values, [0.1, 0.1 / 1.000004, 0.1 / 1.000004 ** 2])
    floor = ExponentialDecay(0.1, 10, 1, decay_factor=2.0, min_lr=0.01)
    for _ in range(20):
        floor.step()
    assert floor.get_lr() == pytest.approx(0.01)
    assert momentum_at(1, 0.5, 0.7, 1, 250) == 0.5 and momentum_at(250, 0.5, 0.7, 1, 250) == pytest.approx(0.7)
    assert momentum_at(400, 0.5, 0.7, 1, 250) == pytest.approx(0.7)
    step = tiny_step(1)
    step.set_epoch(125)
    assert step.momentum() == pytest.approx(0.5 + 0.2 * 124 / 249)


def test_release_weights_load_into_the_generator_alone():
    step = tiny_step(1)
    other = tiny_step(1)
    other.load_weights(generator_weights(step.weights()), "release")
    for n, v in snapshot(step.gan.generator).items():
        assert np.array_equal(v, snapshot(other.gan.generator)[n])


def tiny_mnist_overrides(tmp_path, mnist_dir):
    return SMALL + [f"DataLoader.Train.dataset.root={mnist_dir}", "DataLoader.Train.dataset.val_size=4",
                    "DataLoader.Train.sampler.batch_size=4", f"DataLoader.Eval.dataset.root={mnist_dir}",
                    "DataLoader.Eval.dataset.val_size=4", "DataLoader.Eval.dataset.num_val=null",
                    "DataLoader.Eval.dataset.num_reference=6", "Metric.num_samples=50", "Global.use_visualdl=false", "Global.eval_interval=1"]


def write_tiny_mnist(folder):
    from ppcls_repro.data.mnist import write_idx

    rng = np.random.default_rng(0)
    folder.mkdir()
    write_idx(folder / "train-images-idx3-ubyte", (rng.random((16, 28, 28)) * 255).astype(np.uint8))
    write_idx(folder / "train-labels-idx1-ubyte", np.arange(16) % 10)
    write_idx(folder / "t10k-images-idx3-ubyte", (rng.random((5, 28, 28)) * 255).astype(np.uint8))
    write_idx(folder / "t10k-labels-idx1-ubyte", np.arange(5))
    return folder


def test_resume_continues_exactly(tmp_path):
    """2 epochs in one go == 1 epoch, then resume for the second: identical weights of both nets."""
    data = write_tiny_mnist(tmp_path / "mnist")
    base = tiny_mnist_overrides(tmp_path, data)
    whole = train(load_config(CONFIG, base + ["Global.epochs=2", f"Global.output_dir={tmp_path / 'a'}"]))
    train(load_config(CONFIG, base + ["Global.epochs=1", f"Global.output_dir={tmp_path / 'b'}"]))
    resumed = train(load_config(CONFIG, base + ["Global.epochs=2", f"Global.output_dir={tmp_path / 'b'}",
                                                f"Global.checkpoints={tmp_path / 'b' / 'latest'}"]))
    a = paddle.load(str(tmp_path / "a" / "latest.pdparams"))
    b = paddle.load(str(tmp_path / "b" / "latest.pdparams"))
    assert set(a) == set(b) and any(k.startswith("discriminator.") for k in a)
    for key in a:
        assert np.array_equal(np.asarray(a[key]), np.asarray(b[key])), key
    assert whole["ours"]["parzen_ll"] == resumed["ours"]["parzen_ll"]
    assert (tmp_path / "a" / "best_model.pdparams").is_file()
