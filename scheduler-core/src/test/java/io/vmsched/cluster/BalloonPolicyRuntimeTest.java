package io.vmsched.cluster;

import io.vmsched.balloon.BalloonResult;
import io.vmsched.balloon.BalloonResult.Outcome;
import io.vmsched.dispatch.Await;
import io.vmsched.guest.MemoryHolderGuest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The host's own balloon policy at its balance turns ({@link HostConfig#balloonPolicy}): a host filled past the
 * band's top by {@link MemoryHolderGuest}s asks a balloon and comes under it without a migration; when its guests
 * cannot give, the balancer migrates as before.
 */
class BalloonPolicyRuntimeTest
{
    private static final long MIB = 1 << 20;

    private static ClusterConfig config(final Path dir, final List<BalloonResult> told, final List<Long> migrated)
    {
        final ClusterConfig config = ClusterConfig.of(2, dir);
        config.host.memoryBytes = 64 * MIB;
        // the load is memory only: what the balloons change, and no CPU noise of a busy machine moves a VM
        config.host.weights = new io.vmsched.load.LoadWeights(0, 0, 1);
        config.host.samplePeriodNs = 20_000_000L;
        config.host.balancePeriodNs = 100_000_000L;
        config.host.loadSnapshotPeriodNs = 50_000_000L; // a record every 50 ms: the tests count turns by them
        config.host.balancing = false; // on once the guests are placed
        config.listener = new ClusterListener()
        {
            @Override
            public void onBalloon(final BalloonResult result)
            {
                told.add(result);
            }

            @Override
            public void onMigrated(final long vmId, final int source, final int target, final long durationNs)
            {
                migrated.add(vmId);
            }
        };
        return config;
    }

    @Test
    void aHostOverTheBandAsksABalloonAndComesUnderItWithoutAMigration(@TempDir final Path dir)
    {
        final List<BalloonResult> told = new CopyOnWriteArrayList<>();
        final List<Long> migrated = new CopyOnWriteArrayList<>();
        try (Cluster cluster = Cluster.start(config(dir, told, migrated)))
        {
            // host 0: 5 x (6 MiB working set + 4 MiB cache, a floor of 3) and 2 x 5 MiB that keep theirs: 60 of
            // 64 MiB, over 85 %; host 1: 53 MiB, within the band. Without the balloon the balancer would move a
            // 5 MiB VM (near half the 7 MiB difference); with it, the host frees 7 MiB first, both hold 53 MiB and
            // nothing moves
            for (long vm = 1; vm <= 5; vm++)
            {
                cluster.admit(0, vm, 1, new MemoryHolderGuest(6 * MIB, 4 * MIB, 3 * MIB));
            }
            cluster.admit(0, 6, 1, new MemoryHolderGuest(5 * MIB, 0, 5 * MIB));
            cluster.admit(0, 7, 1, new MemoryHolderGuest(5 * MIB, 0, 5 * MIB));
            for (long vm = 11; vm <= 14; vm++)
            {
                cluster.admit(1, vm, 1, new MemoryHolderGuest(13 * MIB + MIB / 4, 0, 13 * MIB + MIB / 4));
            }
            final HostRuntime host0 = cluster.host(0);
            Await.until("host 0 counts its 60 MiB", 20, () -> host0.usedMemoryBytes() >= 59 * MIB);
            Await.until("host 1 counts its 53 MiB", 20, () -> cluster.host(1).usedMemoryBytes() >= 52.5 * MIB);
            cluster.balancing(true);

            // down to the band's middle (77.5 % of 64 MiB) is 10.4 MiB: the largest guest gives what it can, 7 MiB
            Await.until("a balloon gave", 20, () -> told.stream().anyMatch(BalloonResult::moved));
            final BalloonResult gave = told.stream().filter(BalloonResult::moved).findFirst().orElseThrow();
            assertEquals(Outcome.SHORT, gave.outcome(), gave.toString());
            assertEquals(3 * MIB, gave.memoryBytes(), "down to its floor");
            Await.until("host 0 under 85 % of its memory", 20, () -> host0.usedMemoryBytes() < 0.85 * 64 * MIB);
            // a few more balance turns: balanced now, nothing moves
            final long records = host0.journalRecords();
            Await.until("at least 1 s of host 0's turns (20 load records)", 30, () -> host0.journalRecords() >= records + 20);
            assertEquals(List.of(), migrated, "the balloon freed the memory: no migration");
            assertEquals(7, host0.vmCount());
        }
    }

    @Test
    void whenTheGuestsCannotGiveTheHostMigrates(@TempDir final Path dir)
    {
        final List<BalloonResult> told = new CopyOnWriteArrayList<>();
        final List<Long> migrated = new CopyOnWriteArrayList<>();
        try (Cluster cluster = Cluster.start(config(dir, told, migrated)))
        {
            // host 0: 4 x 14 MiB that keep all of it (no cache, a floor of their working set): 56 of 64 MiB, over
            // 85 %; host 1: 14 MiB
            for (long vm = 1; vm <= 4; vm++)
            {
                cluster.admit(0, vm, 1, new MemoryHolderGuest(14 * MIB, 0, 14 * MIB));
            }
            cluster.admit(1, 11, 1, new MemoryHolderGuest(14 * MIB, 0, 14 * MIB));
            final HostRuntime host0 = cluster.host(0);
            Await.until("host 0 counts its 56 MiB", 20, () -> host0.usedMemoryBytes() >= 55 * MIB);
            cluster.balancing(true);

            Await.until("a migration", 30, () -> !migrated.isEmpty());
            assertFalse(told.isEmpty(), "the balloons were asked first");
            assertTrue(told.stream().noneMatch(BalloonResult::moved), "none could give: " + told);
            assertTrue(told.stream().allMatch(r -> r.vmId() >= 1 && r.vmId() <= 4), "only host 0's guests: " + told);
        }
    }
}
