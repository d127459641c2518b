import numpy as np
import pytest

from ppcls_repro.metrics.activations import active_fraction, dead_units


def test_known_values_over_maps_of_different_sizes():
    a = np.zeros((3, 2, 2)); a[0, 0, 0] = 1.0; a[1] = 0.5          # ch0 1/4, ch1 all, ch2 never
    b = np.zeros((3, 1, 4)); b[0, 0, :2] = 2.0                      # ch0 2/4, ch1 never, ch2 never
    np.testing.assert_allclose(active_fraction([a, b]), [3 / 8, 4 / 8, 0.0])
    assert dead_units([a, b]) == 1


def test_negative_values_count_as_inactive_and_empty_input_is_refused():
    assert dead_units([-np.ones((4, 3, 3))]) == 4
    with pytest.raises(ValueError, match="no feature maps"):
        active_fraction([])
