package io.vmsched.load;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class VmLoadTest
{
    private static final LoadModel MODEL = new LoadModel(LoadWeights.DEFAULT);
    private static final HostCapacity HOST = new HostCapacity(4, 1, 1000, 4000);

    @Test
    void actualModeSmoothsEachResource()
    {
        final VmLoad vm = new VmLoad(9); // alpha 0.2
        for (int i = 0; i < 40; i++)
        {
            vm.measure(1, 100, 1000);
        }
        vm.measure(3, 100, 1000); // one spike of CPU
        assertEquals(VmLoad.Mode.ACTUAL, vm.mode());
        assertEquals(1 + 0.2 * 2, vm.factors().cpuCores, 1e-9, "a spike moves the actual figure by a fifth");
        assertEquals(100, vm.factors().ioBytesPerSecond, 1e-9);
        assertEquals(1000, vm.factors().memoryBytes, 1e-9);
    }

    @Test
    void aProgrammedTargetReplacesTheMeasurementUntilCleared()
    {
        final VmLoad vm = new VmLoad(1);
        vm.measure(1, 0, 0);
        final double measured = MODEL.load(vm.factors(), HOST);
        vm.program(3, 0, 0);
        assertEquals(VmLoad.Mode.TARGET, vm.mode());
        vm.measure(0.5, 0, 0); // measurements go on while the target is in force
        assertEquals(3 * MODEL.load(new LoadFactors(1, 0, 0), HOST), MODEL.load(vm.factors(), HOST), 1e-12);
        vm.clearTarget();
        assertEquals(VmLoad.Mode.ACTUAL, vm.mode());
        assertEquals(measured / 2, MODEL.load(vm.factors(), HOST), 1e-12, "back to the latest measurement");
    }

    @Test
    void badUsageIsRejectedWithTheFigures()
    {
        final VmLoad vm = new VmLoad(2);
        final IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> vm.measure(-1, 0, 0));
        assertTrue(e.getMessage().contains("cpu -1.0"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> vm.program(1, Double.NaN, 0));
        assertThrows(IllegalArgumentException.class, () -> new VmLoad(0));
    }
}
