package io.vmsched.cluster;

import io.vmsched.dispatch.Await;
import io.vmsched.journal.JournalCheck;
import io.vmsched.placement.Rule;
import io.vmsched.placement.StatusReport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * {@link Cluster#drain}, {@link Cluster#removeHost}: a drained host takes no VM and its VMs leave to where
 * the placement chooses, honouring the hard rules; a VM that can go nowhere is reported with its cause; the
 * drain is journaled (a restart goes on draining); every host of a cluster under load is replaced in turn.
 */
class DrainTest
{
    private static ClusterConfig config(final Path dir, final int hosts, final boolean balancing)
    {
        final ClusterConfig config = ClusterConfig.of(hosts, dir);
        config.maxHosts = 8;
        config.host.balancing = balancing;
        config.host.balancePeriodNs = 50_000_000L;
        config.host.samplePeriodNs = 20_000_000L;
        config.host.handoffTimeoutNs = 500_000_000L;
        config.host.scheduleCapacity = 256;
        config.host.inboxBytes = 1 << 20;
        return config;
    }

    private static long on(final Cluster cluster, final int host)
    {
        return cluster.placement().values().stream().filter(h -> h == host).count();
    }

    @Test
    void aDrainedHostEmptiesHonouringTheRulesAndTakesNothingMeanwhile(@TempDir final Path dir)
    {
        TrackingGuest.reset();
        try (Cluster cluster = Cluster.start(config(dir, 4, false)))
        {
            for (long vm = 0; vm < 12; vm++)
            {
                cluster.admit((int)(vm % 3), vm, 1, new TrackingGuest(vm)); // hosts 0, 1, 2; host 3 empty
            }
            Await.until("12 admitted", 10, () -> cluster.placement().size() == 12);
            // vms 0, 1, 2 are apart on hosts 0, 1, 2: vm 0 may only go to host 3
            cluster.addRule(Rule.antiAffinity("apart", true, 0, 1, 2));
            cluster.drain(0);
            final IllegalArgumentException admit = assertThrows(IllegalArgumentException.class,
                () -> cluster.admit(0, 100, 1, new TrackingGuest(100)));
            assertTrue(admit.getMessage().contains("host 0 is draining"), admit.getMessage());
            final IllegalArgumentException migrate = assertThrows(IllegalArgumentException.class, () -> cluster.migrate(4, 0));
            assertTrue(migrate.getMessage().contains("draining"), migrate.getMessage());
            Await.until("host 0 to empty", 30, () -> on(cluster, 0) == 0 && cluster.migrationsInFlight() == 0);
            assertEquals(3, (int)cluster.placement().get(0L), "vm 0 went where its rule allows");
            assertEquals(12, cluster.placement().size());
            final StatusReport status = cluster.status();
            assertEquals(1, status.drains().size());
            assertEquals(0, status.drains().get(0).vms());
            assertTrue(status.toText().contains("host 0 drained: empty"), status.toText());
            assertTrue(status.rules().get(0).holds());
            assertEquals(0, TrackingGuest.OVERLAPS.get(), "no VM ran in two places");

            // a drained host refuses arrivals; undrained, it takes VMs again
            cluster.undrain(0);
            cluster.migrate(4, 0);
            Await.until("vm 4 back on host 0", 10, () -> cluster.placement().get(4L) == 0);
        }
    }

    @Test
    void aVmThatCanGoNowhereIsReportedAndLeavesWhenAHostIsAdded(@TempDir final Path dir)
    {
        TrackingGuest.reset();
        try (Cluster cluster = Cluster.start(config(dir, 2, false)))
        {
            cluster.admit(0, 1, 1, new TrackingGuest(1));
            cluster.admit(1, 2, 1, new TrackingGuest(2));
            cluster.admit(0, 3, 1, new TrackingGuest(3));
            Await.until("3 admitted", 10, () -> cluster.placement().size() == 3);
            cluster.addRule(Rule.antiAffinity("apart", true, 1, 2));
            cluster.drain(0);
            // (the source drops vm 3's entry once the target acknowledged: the count follows the owner table)
            Await.until("vm 3 to leave and vm 1 to be reported blocked", 30, () ->
                cluster.status().toText().contains("host 0 draining: 1 VM left; vm 1 can go nowhere: apart (host 1)"));
            assertEquals(1, on(cluster, 0));
            final IllegalStateException early = assertThrows(IllegalStateException.class, () -> cluster.removeHost(0));
            assertTrue(early.getMessage().contains("still holds or moves 1 VM"), early.getMessage());
            assertEquals(2, cluster.addHost());
            Await.until("vm 1 to leave to the new host", 30, () -> cluster.placement().get(1L) == 2 && on(cluster, 0) == 0);
            Await.until("the handoffs settle", 10, () -> cluster.migrationsInFlight() == 0);
            cluster.removeHost(0);
            assertThrows(IllegalArgumentException.class, () -> cluster.drain(0), "a removed host");
            assertEquals("there is no host 9 (hosts are 0 to 2)",
                assertThrows(IllegalArgumentException.class, () -> cluster.drain(9)).getMessage());
        }
        // the removal is journaled: a restart does not run host 0, and the VMs are where they went
        try (Cluster cluster = Cluster.start(config(dir, 3, false)))
        {
            final Map<Long, Integer> where = cluster.placement();
            assertEquals(3, where.size());
            assertEquals(2, (int)where.get(1L));
            assertEquals(1, (int)where.get(2L));
            assertTrue(where.get(3L) == 1 || where.get(3L) == 2, "vm 3 left host 0: " + where);
            assertThrows(IllegalArgumentException.class, () -> cluster.admit(0, 9, 1, new TrackingGuest(9)));
        }
    }

    @Test
    void aDrainCutShortByARestartGoesOn(@TempDir final Path dir)
    {
        TrackingGuest.reset();
        try (Cluster cluster = Cluster.start(config(dir, 3, false)))
        {
            for (long vm = 0; vm < 30; vm++)
            {
                cluster.admit(0, vm, 1, new TrackingGuest(vm));
            }
            Await.until("30 admitted", 10, () -> cluster.placement().size() == 30);
            cluster.drain(0); // closed at once: at most a few of the 30 have left
        }
        try (Cluster cluster = Cluster.start(config(dir, 3, false)))
        {
            assertEquals(30, cluster.recoveredVms());
            assertEquals(1, cluster.drains().size(), "still draining host 0 after the restart");
            Await.until("host 0 to empty after the restart", 30, () -> on(cluster, 0) == 0 && cluster.migrationsInFlight() == 0);
            assertEquals(30, cluster.placement().size());
        }
    }

    /**
     * A clean close leaves no migration in doubt, even while a drain starts migrations every few milliseconds: the
     * close waits until each agent has seen that no more may start, then for those it started to settle.
     */
    @Test
    void aCloseWhileADrainMovesVmsLeavesNoMigrationInDoubt(@TempDir final Path dir) throws Exception
    {
        for (int round = 0; round < 20; round++)
        {
            TrackingGuest.reset();
            final Path data = dir.resolve("round-" + round);
            final ClusterConfig config = config(data, 2, false);
            config.host.balancePeriodNs = 1_000_000L; // a drain turn each millisecond
            config.host.drainParallel = 1;
            try (Cluster cluster = Cluster.start(config))
            {
                for (long vm = 0; vm < 40; vm++)
                {
                    cluster.admit(0, vm, 1, new TrackingGuest(vm));
                }
                Await.until("40 admitted", 10, () -> cluster.placement().size() == 40);
                cluster.drain(0);
                Await.until("a first VM moved", 10, () -> cluster.migrationsCommitted() > 0);
            }
            for (int host = 0; host < 2; host++)
            {
                final io.vmsched.journal.HostJournalState state;
                try (io.vmsched.journal.ChronicleJournal read = io.vmsched.journal.ChronicleJournal.openReadOnly(
                    config.journalDir(host), host))
                {
                    state = io.vmsched.journal.HostJournalState.replay(read, false);
                }
                assertEquals(0, state.pendingOut().size(), "round " + round + ", host " + host + ": migrations out in doubt");
                assertEquals(0, state.pendingIn().size(), "round " + round + ", host " + host + ": migrations in in doubt");
            }
        }
    }

    @Test
    void everyHostOfALoadedClusterIsReplacedInTurn(@TempDir final Path dir)
    {
        TrackingGuest.reset();
        final int vms = 64;
        try (Cluster cluster = Cluster.start(config(dir, 4, true)))
        {
            for (long vm = 0; vm < vms; vm++)
            {
                cluster.admit(vm, 1, new TrackingGuest(vm));
                cluster.programLoad(vm, 0.002 + 0.001 * (vm % 5), 0, 0);
            }
            Await.until("64 admitted", 10, () -> cluster.placement().size() == vms);
            for (int old = 0; old < 4; old++)
            {
                final int added = cluster.addHost();
                assertEquals(4 + old, added);
                cluster.drain(old);
                final int host = old;
                Await.until("host " + old + " to empty", 60, () -> on(cluster, host) == 0 && cluster.drains().stream()
                    .anyMatch(d -> d.host() == host && d.vms() == 0));
                Await.until("the handoffs settle", 30, () ->
                {
                    try
                    {
                        cluster.removeHost(host);
                        return true;
                    }
                    catch (final IllegalStateException ex)
                    {
                        return false; // a handoff still in flight
                    }
                });
            }
            assertEquals(vms, cluster.placement().size());
            assertTrue(cluster.placement().values().stream().allMatch(h -> h >= 4), "every VM on a new machine");
            for (long vm = 0; vm < vms; vm++)
            {
                final long id = vm;
                final long before = TrackingGuest.slices(vm);
                Await.until("vm " + vm + " to run on", 10, () -> TrackingGuest.slices(id) > before);
            }
            assertEquals(0, TrackingGuest.OVERLAPS.get(), "no VM ran in two places");
        }
        for (int h = 0; h < 8; h++)
        {
            assertTrue(JournalCheck.verify(config(dir, 8, false).journalDir(h)) > 0, "host " + h + "'s journal");
        }
        try (Cluster cluster = Cluster.start(config(dir, 8, false)))
        {
            assertEquals(vms, cluster.recoveredVms(), "every VM recovered once, on the new machines");
            assertTrue(cluster.placement().values().stream().allMatch(h -> h >= 4));
        }
    }
}
