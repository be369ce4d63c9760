package io.vmsched.cluster;

import io.vmsched.dispatch.Await;
import io.vmsched.guest.PacedBurnerGuest;
import io.vmsched.journal.ChronicleJournal;
import io.vmsched.journal.RecordType;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.*;

class ClusterTest
{
    @BeforeEach
    @AfterEach
    void resetGuests()
    {
        TrackingGuest.reset();
    }

    static ClusterConfig config(final int hosts, final Path dir)
    {
        final ClusterConfig config = ClusterConfig.of(hosts, dir);
        config.host.balancing = false;
        config.host.handoffTimeoutNs = 200_000_000L;
        config.host.samplePeriodNs = 20_000_000L;
        config.host.scheduleCapacity = 64;
        config.host.inboxBytes = 64 * 1024;
        return config;
    }

    static List<RecordType> types(final Path journalDir, final int host)
    {
        final List<RecordType> types = new ArrayList<>();
        try (ChronicleJournal journal = ChronicleJournal.openReadOnly(journalDir, host))
        {
            journal.replay((index, record) -> types.add(record.type()));
        }
        return types;
    }

    @Test
    void aMigrationMovesTheVmAndJournalsEveryStepOnBothSides(@TempDir final Path dir)
    {
        final List<String> events = new CopyOnWriteArrayList<>();
        final ClusterConfig config = config(2, dir);
        config.listener = new ClusterListener()
        {
            @Override
            public void onMigrated(final long vmId, final int source, final int target, final long durationNs)
            {
                events.add("migrated " + vmId + " " + source + "->" + target);
            }
        };
        try (Cluster cluster = Cluster.start(config))
        {
            cluster.admit(0, 1, 1, new TrackingGuest(1));
            Await.until("vm 1 running on host 0", 10, () -> TrackingGuest.slices(1) > 10);
            cluster.migrate(1, 1);
            // the listener runs on the source's agent just after the counters move: wait for both
            Await.until("the migration", 10, () -> cluster.migrationsCommitted() == 1 && cluster.migrationsInFlight() == 0 &&
                !events.isEmpty());
            assertEquals(Map.of(1L, 1), cluster.placement());
            assertEquals(0, cluster.host(0).vmCount());
            assertEquals(1, cluster.host(1).vmCount());
            final long before = TrackingGuest.slices(1);
            Await.until("vm 1 running on host 1", 10, () -> TrackingGuest.slices(1) > before + 10);
            assertEquals(List.of("migrated 1 0->1"), events);
        }
        assertEquals(0, TrackingGuest.OVERLAPS.get(), "never ran in two places");
        final List<RecordType> source = types(config.journalDir(0), 0);
        final List<RecordType> target = types(config.journalDir(1), 1);
        assertTrue(containsInOrder(source, RecordType.ADMITTED, RecordType.MIGRATION_INTENT, RecordType.SUSPENDED,
            RecordType.COMMITTED), source.toString());
        assertTrue(containsInOrder(target, RecordType.RECEIVED, RecordType.ACTIVATED), target.toString());
    }

    @Test
    void theRuntimeScalesTheThresholdWithTheClusterSizeAsTheSimulatorDoes(@TempDir final Path dir)
    {
        final ClusterConfig config = config(2, dir);
        config.host.balancing = true;
        config.host.balancePeriodNs = 20_000_000L;
        config.host.balance.dryRun = true; // decisions journaled with their threshold, nothing moves
        config.host.balance.thresholdFraction = 0.05;
        config.host.balance.sizeExponent = 1;
        config.host.balance.referenceHosts = 1; // 2 hosts: twice the threshold
        final Pattern decision = Pattern.compile(
            "loads ([0-9.]+) vs ([0-9.]+), difference [-0-9.]+ \\(threshold ([0-9.]+), mean ([0-9.]+)\\)");
        try (Cluster cluster = Cluster.start(config))
        {
            for (long vm = 0; vm < 4; vm++)
            {
                cluster.admit(0, vm, 1, new PacedBurnerGuest(0.1)); // a tenth of a core each
            }
            Await.until("host 0 decides with a measured load, its gossiped mean near the true one", 20, () ->
            {
                final List<String> texts = new ArrayList<>();
                try (ChronicleJournal journal = ChronicleJournal.openReadOnly(config.journalDir(0), 0))
                {
                    journal.replay((index, record) ->
                    {
                        if (record.type() == RecordType.DECISION)
                        {
                            texts.add(record.text());
                        }
                    });
                }
                for (final String text : texts)
                {
                    final Matcher m = decision.matcher(text);
                    assertTrue(m.find(), text);
                    final double estimate = Double.parseDouble(m.group(4));
                    // printed to 4 decimals: the threshold is 2 x 0.05 x the mean estimate, not 0.05 x it
                    assertEquals(2 * 0.05 * estimate, Double.parseDouble(m.group(3)), 2e-4, text);
                    final double mean = (Double.parseDouble(m.group(1)) + Double.parseDouble(m.group(2))) / 2;
                    if (mean >= 0.05 && Math.abs(estimate - mean) <= 0.1 * mean)
                    {
                        return true; // the averaging gossip between the two hosts found the mean
                    }
                }
                return false;
            });
            assertEquals(0, cluster.migrationsCommitted(), "a dry run moves nothing");
        }
    }

    @Test
    void aRestartRecoversEveryVmWhereItWas(@TempDir final Path dir)
    {
        final ClusterConfig config = config(3, dir);
        final Map<Long, Integer> before;
        try (Cluster cluster = Cluster.start(config))
        {
            for (long vm = 0; vm < 9; vm++)
            {
                cluster.admit((int)(vm % 3), vm, 1, new TrackingGuest(vm));
            }
            Await.until("admissions", 10, () -> cluster.placement().size() == 9 &&
                cluster.host(0).vmCount() + cluster.host(1).vmCount() + cluster.host(2).vmCount() == 9);
            cluster.migrate(0, 1);
            cluster.migrate(4, 2);
            Await.until("two migrations", 10, () -> cluster.migrationsCommitted() == 2 && cluster.migrationsInFlight() == 0);
            cluster.remove(8);
            Await.until("the removal", 10, () -> cluster.placement().size() == 8);
            before = cluster.placement();
        }
        assertEquals(1, before.get(0L));
        assertEquals(2, before.get(4L));
        try (Cluster cluster = Cluster.start(config))
        {
            assertEquals(8, cluster.recoveredVms());
            assertEquals(before, cluster.placement());
            Await.until("every recovered VM runs", 10, () ->
            {
                for (long vm = 0; vm < 8; vm++)
                {
                    if (TrackingGuest.slices(vm) == 0)
                    {
                        return false;
                    }
                }
                return true;
            });
        }
    }

    @Test
    void badRequestsAreRefusedWithTheReason(@TempDir final Path dir)
    {
        try (Cluster cluster = Cluster.start(config(2, dir)))
        {
            cluster.admit(0, 5, 1, new TrackingGuest(5));
            final IllegalArgumentException twice = assertThrows(IllegalArgumentException.class,
                () -> cluster.admit(1, 5, 1, new TrackingGuest(5)));
            assertEquals("vm 5 is already admitted (host 0)", twice.getMessage());
            assertEquals("vm 6 is not in the cluster",
                assertThrows(IllegalArgumentException.class, () -> cluster.remove(6)).getMessage());
            assertEquals("no host 2 (hosts 0-1)",
                assertThrows(IllegalArgumentException.class, () -> cluster.migrate(5, 2)).getMessage());
            assertEquals("vm 6: weight must be in [1, 65536], got 0",
                assertThrows(IllegalArgumentException.class, () -> cluster.admit(1, 6, 0, new TrackingGuest(6))).getMessage());
            cluster.admit(1, 6, 1, new TrackingGuest(6));
            Await.until("vm 6 on host 1", 10, () -> cluster.host(1).vmCount() == 1);
        }
        final IllegalArgumentException fewer = assertThrows(IllegalArgumentException.class,
            () -> Cluster.start(config(1, dir)));
        assertEquals(dir.resolve(DataDirectory.MANIFEST_FILE) + " records 2 hosts, but the cluster is started with 1: " +
            "the VMs of host 1 would be lost; start it with all its hosts", fewer.getMessage());
        try (Cluster cluster = Cluster.start(config(2, dir)))
        {
            assertEquals(Map.of(5L, 0, 6L, 1), cluster.placement(), "nothing was lost by the refused start");
        }
        final ClusterConfig bad = config(0, dir);
        assertEquals("hosts must be in [1, 1048576], got 0",
            assertThrows(IllegalArgumentException.class, () -> Cluster.start(bad)).getMessage());
    }

    /** A guest whose state outgrows an inbox message once it runs on a host (it was small when admitted). */
    public static final class BigGuest implements io.vmsched.dispatch.Guest
    {
        private boolean restored;

        @Override
        public void runSlice(final io.vmsched.dispatch.SliceContext context)
        {
            context.idle();
        }

        @Override
        public byte[] snapshot()
        {
            return new byte[restored ? 64 * 1024 : 16];
        }

        @Override
        public void restore(final byte[] state)
        {
            restored = true;
        }
    }

    @Test
    void aStateTooLargeForTheTargetsInboxAbortsAndTheVmRunsOnAtTheSource(@TempDir final Path dir)
    {
        final List<String> reasons = new CopyOnWriteArrayList<>();
        final ClusterConfig config = config(2, dir); // 64 KiB inboxes: at most 8 KiB a message
        config.listener = new ClusterListener()
        {
            @Override
            public void onAborted(final long vmId, final int source, final int target, final String reason)
            {
                reasons.add(reason);
            }
        };
        try (Cluster cluster = Cluster.start(config))
        {
            cluster.admit(0, 3, 1, new BigGuest());
            Await.until("admission", 10, () -> cluster.host(0).vmCount() == 1);
            cluster.migrate(3, 1);
            Await.until("the abort", 10, () -> cluster.migrationsAborted() == 1 && cluster.migrationsInFlight() == 0);
            assertEquals(Map.of(3L, 0), cluster.placement());
            assertEquals(1, cluster.host(0).vmCount());
            assertEquals(0, cluster.host(1).vmCount());
        }
        assertEquals(1, reasons.size());
        assertTrue(reasons.get(0).startsWith("the transfer of 65") && reasons.get(0).contains("could not be queued at host 1"),
            reasons.get(0));
        try (Cluster cluster = Cluster.start(config))
        {
            assertEquals("vm 4: its state of 65536 bytes does not fit a message to host 1 (at most 8192 bytes; raise " +
                "HostConfig.inboxBytes)", assertThrows(IllegalArgumentException.class, () ->
            {
                final BigGuest big = new BigGuest();
                big.restore(new byte[0]);
                cluster.admit(1, 4, 1, big);
            }).getMessage());
            assertEquals(Map.of(3L, 0), cluster.placement(), "the refused admission reserved nothing");
        }
    }

    @Test
    void anExternalVmCarriesTheLoadReportedForItStaysPutAndIsRecovered(@TempDir final Path dir)
    {
        final List<Throwable> errors = new CopyOnWriteArrayList<>();
        final ClusterConfig config = config(2, dir);
        config.host.balancing = true;
        config.host.balancePeriodNs = 20_000_000L;
        config.listener = new ClusterListener()
        {
            @Override
            public void onError(final int host, final Throwable error)
            {
                errors.add(error);
            }
        };
        try (Cluster cluster = Cluster.start(config))
        {
            cluster.admitExternal(0, 50, "qemu-guest", ProcessHandle.current().pid());
            Await.until("admission", 10, () -> cluster.host(0).vmCount() == 1);
            cluster.reportUsage(50, 0.8, 0, 0);
            Await.until("host 0 carries the reported load", 10, () -> cluster.load(0) > 0.6);
            // host 1 is idle and exchanges every 20 ms, yet the external VM never moves
            final long decisions = cluster.host(0).decisions();
            Await.until("a few exchanges", 10, () -> cluster.host(0).decisions() > decisions + 3);
            assertEquals(0, cluster.migrationsCommitted() + cluster.migrationsAborted());
            cluster.migrate(50, 1);
            Await.until("the refusal", 10, () -> !errors.isEmpty());
            final RequestFailedException refused = assertInstanceOf(RequestFailedException.class, errors.get(0));
            assertEquals(Request.MIGRATE, refused.request());
            assertEquals(50, refused.vmId());
            assertEquals("migrate of vm 50 failed: vm 50 is an external process (no driver moves it)", refused.getMessage());
            assertEquals(Map.of(50L, 0), cluster.placement());
        }
        try (Cluster cluster = Cluster.start(config))
        {
            assertEquals(1, cluster.recoveredVms());
            assertEquals(Map.of(50L, 0), cluster.placement());
        }
    }

    @Test
    void aProgrammedTargetLoadReplacesTheMeasuredOneUntilCleared(@TempDir final Path dir)
    {
        try (Cluster cluster = Cluster.start(config(2, dir)))
        {
            cluster.admit(0, 9, 1, new io.vmsched.guest.PacedBurnerGuest(0.01));
            Await.until("admission", 10, () -> cluster.host(0).vmCount() == 1);
            cluster.programLoad(9, 0.9, 0, 0); // claims 6, 7: the target mode
            Await.until("host 0 carries the programmed load", 10, () -> cluster.load(0) > 0.8);
            cluster.clearProgrammedLoad(9);
            Await.until("back to the measured load", 10, () -> cluster.load(0) < 0.2);
            assertEquals("programmed usage must be non-negative",
                assertThrows(IllegalArgumentException.class, () -> cluster.programLoad(9, -1, 0, 0)).getMessage());
        }
    }

    @Test
    void aHostWithTwiceTheCapacityCarriesTwiceTheVmsAtTheSameLoad(@TempDir final Path dir)
    {
        final ClusterConfig config = config(2, dir);
        config.host.balancing = true;
        config.host.balancePeriodNs = 20_000_000L;
        config.host.balance.thresholdFraction = 0.05;
        config.host.balance.minGainFraction = 0.01;
        final HostConfig big = new HostConfig();
        big.balancing = true;
        big.balancePeriodNs = 20_000_000L;
        big.samplePeriodNs = 20_000_000L;
        big.handoffTimeoutNs = 200_000_000L;
        big.scheduleCapacity = 64;
        big.inboxBytes = 64 * 1024;
        big.balance = config.host.balance;
        big.coreSpeed = 2.0; // one core that does twice the reference core's work: twice the CPU capacity
        config.configureHost(1, big);
        try (Cluster cluster = Cluster.start(config))
        {
            for (long vm = 0; vm < 12; vm++)
            {
                cluster.admit(0, vm, 1, new TrackingGuest(vm));
                cluster.programLoad(vm, 0.05, 0, 0); // a programmed usage: the same figure on any host
            }
            // 12 x 0.05 reference cores: host 0 (1 core) at 0.2 with 4, host 1 (2 reference cores) at 0.2 with 8
            Await.until("the VMs spread in proportion to capacity, at equal loads (fractions of each host's capacity)", 20,
                () -> cluster.host(0).vmCount() == 4 && cluster.host(1).vmCount() == 8 &&
                cluster.migrationsInFlight() == 0 && Math.abs(cluster.load(0) - 0.2) < 1e-6 &&
                Math.abs(cluster.load(1) - 0.2) < 1e-6);
        }
    }

    @Test
    void settingsGivenToAHostOutsideTheClusterOrBadAreRefusedNamingIt(@TempDir final Path dir)
    {
        final ClusterConfig outside = config(2, dir).configureHost(2, new HostConfig());
        assertEquals("settings given to host 2, but the hosts are 0..1",
            assertThrows(IllegalArgumentException.class, () -> Cluster.start(outside)).getMessage());
        final HostConfig slow = new HostConfig();
        slow.coreSpeed = 0;
        final ClusterConfig bad = config(2, dir).configureHost(1, slow);
        assertEquals("host 1: core speed must be finite and above 0, got 0.0",
            assertThrows(IllegalArgumentException.class, () -> Cluster.start(bad)).getMessage());
    }

    static boolean containsInOrder(final List<RecordType> types, final RecordType... wanted)
    {
        int next = 0;
        for (final RecordType type : types)
        {
            if (next < wanted.length && type == wanted[next])
            {
                next++;
            }
        }
        return next == wanted.length;
    }
}
