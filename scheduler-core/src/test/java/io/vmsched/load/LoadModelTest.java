package io.vmsched.load;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class LoadModelTest
{
    @Test
    void loadIsTheWeightedSumOfUsageOverCapacity()
    {
        final LoadModel model = new LoadModel(new LoadWeights(2, 1, 1)); // normalised to 0.5, 0.25, 0.25
        final HostCapacity host = new HostCapacity(4, 1, 100, 1000);
        final LoadFactors usage = new LoadFactors(2, 50, 250);
        assertEquals(0.5 * 0.5 + 0.25 * 0.5 + 0.25 * 0.25, model.load(usage, host), 1e-12);
        final LoadFactors full = new LoadFactors(4, 100, 1000);
        assertEquals(1.0, model.load(full, host), 1e-12, "a host whose every resource is used has load 1");
    }

    @Test
    void theSameVmIsASmallerLoadOnAFasterOrLargerHost()
    {
        final LoadModel model = new LoadModel(LoadWeights.DEFAULT);
        final LoadFactors usage = new LoadFactors(1, 10, 100);
        final double small = model.load(usage, new HostCapacity(2, 1, 100, 1000));
        final double faster = model.load(usage, new HostCapacity(2, 2, 100, 1000));
        final double bigger = model.load(usage, new HostCapacity(4, 1, 200, 2000));
        assertTrue(faster < small);
        assertEquals(small / 2, bigger, 1e-12);
    }

    @Test
    void smootherDampsASpike()
    {
        final LoadModel.Smoother smoother = new LoadModel.Smoother(9); // alpha 0.2
        for (int i = 0; i < 50; i++)
        {
            smoother.update(1.0);
        }
        assertEquals(1.0, smoother.value(), 1e-9);
        assertEquals(1.0 + 0.2 * 9, smoother.update(10.0), 1e-9, "one spike of 10 moves it by a fifth of the jump");
        final LoadModel.Smoother none = new LoadModel.Smoother(1);
        none.update(3);
        assertEquals(7, none.update(7), 1e-12, "window 1: no smoothing");
    }

    @Test
    void badInputIsRejected()
    {
        assertThrows(IllegalArgumentException.class, () -> new LoadWeights(-1, 1, 1));
        assertThrows(IllegalArgumentException.class, () -> new LoadWeights(0, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> new HostCapacity(0, 1, 1, 1));
        assertThrows(IllegalArgumentException.class, () -> new HostCapacity(1, Double.NaN, 1, 1));
        assertThrows(IllegalArgumentException.class, () -> new LoadModel.Smoother(0.5));
    }
}
