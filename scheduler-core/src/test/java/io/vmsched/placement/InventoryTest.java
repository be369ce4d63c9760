package io.vmsched.placement;

import io.vmsched.cluster.Cluster;
import io.vmsched.cluster.ClusterConfig;
import io.vmsched.dispatch.Await;
import io.vmsched.guest.IdleGuest;
import io.vmsched.load.HostCapacity;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** {@link Inventory}: free, overcommit and headroom under ceilings, reservations and VM maximums; a drained host fits none. */
class InventoryTest
{
    private static final double GIB = 1024.0 * 1024 * 1024;

    @Test
    void headroomIsTheTightestResourceUnderEachCeilingAndNoneOnAClosedHost()
    {
        final HostCapacity capacity = new HostCapacity(4, 1, 100e6, 8 * GIB);
        final HostLimits limits = new HostLimits(0.8, 1, 1, 10, 0.2, 0, GIB);
        // host 0: 2 cores and 3 GiB required of 4 cores (ceiling 3.2, 0.2 reserved) and 8 GiB (1 reserved)
        final Inventory.Row a = Inventory.row(0, capacity, limits, 4, new double[]{1.5, 0, 2 * GIB}, new double[]{2, 0, 3 * GIB});
        final Inventory.Row b = Inventory.row(1, capacity, limits, 9, new double[]{0, 0, 0}, new double[]{0, 0, 0});
        assertEquals(1.0, a.cpu().free(), 1e-9, "0.8 x 4 - 0.2 - 2");
        assertEquals(2.0 / 3.8, a.cpu().overcommit(), 1e-9);
        assertEquals(4 * GIB, a.memory().free(), 1, "8 - 1 - 3 GiB");
        final Placement placement = new Placement();
        placement.hostLabels(0, java.util.Set.of());
        placement.hostLabels(1, java.util.Set.of());
        placement.hostLabels(2, java.util.Set.of());
        final Inventory.Row c = Inventory.row(2, capacity, limits, 0, new double[]{0, 0, 0}, new double[]{0, 0, 0});
        placement.drain(2);
        final Inventory inventory = Inventory.of(List.of(a, b, c), List.of(limits, limits, limits), placement.constraints(),
            0.25, 0, GIB);
        assertEquals(4, inventory.hosts().get(0).headroom(), "cpu 1.0 / 0.25 = 4, memory 4 GiB / 1 = 4");
        assertEquals(1, inventory.hosts().get(1).headroom(), "the VM maximum: 10 - 9");
        assertEquals(0, inventory.hosts().get(2).headroom(), "a drained host fits none");
        assertEquals(Constraints.DRAINING, inventory.hosts().get(2).closed());
        assertEquals(5, inventory.cluster().headroom());
        assertEquals(12, inventory.cluster().cpu().capacity(), 1e-9);
        assertEquals(2, inventory.cluster().cpu().required(), 1e-9);
        assertTrue(inventory.toText().contains("fits 5 more"), inventory.toText());
        assertEquals("a VM size needs CPU, I/O and memory at least 0 and finite, not all 0; got 0.0, 0.0, 0.0",
            assertThrows(IllegalArgumentException.class, () -> Inventory.of(List.of(a), List.of(limits),
                placement.constraints(), 0, 0, 0)).getMessage());
    }

    @Test
    void aClustersInventoryCountsWhatItsVmsRequire(@TempDir final Path dir)
    {
        final ClusterConfig config = ClusterConfig.of(2, dir);
        config.host.balancing = false;
        config.host.workers = 2;
        config.host.samplePeriodNs = 20_000_000L;
        try (Cluster cluster = Cluster.start(config))
        {
            for (long vm = 0; vm < 4; vm++)
            {
                cluster.admit(0, vm, 1, new IdleGuest());
                cluster.programLoad(vm, 0.25, 0, 0);
            }
            Await.until("the programmed loads counted", 10, () ->
                Math.abs(cluster.inventory(0.5, 0, 0).hosts().get(0).cpu().required() - 1.0) < 1e-9);
            final Inventory inventory = cluster.inventory(0.5, 0, 0);
            assertEquals(4, inventory.hosts().get(0).vms());
            assertEquals(2, inventory.hosts().get(0).headroom(), "(2 - 1) / 0.5");
            assertEquals(4, inventory.hosts().get(1).headroom());
            assertEquals(6, inventory.cluster().headroom());
            assertEquals(0.25, inventory.cluster().cpu().overcommit(), 1e-9, "1 core required of 4");
            cluster.drain(1);
            assertEquals(2, cluster.inventory(0.5, 0, 0).cluster().headroom(), "the drained host fits none");
        }
    }
}
