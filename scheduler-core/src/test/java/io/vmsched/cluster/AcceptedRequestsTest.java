package io.vmsched.cluster;

import io.vmsched.dispatch.Await;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The promise of the embedding API, checked from the caller's side: a request whose call returned
 * normally takes effect or is reported failed to the listener, exactly once; after {@code close()}
 * everything accepted is settled, and a restart recovers exactly the VMs the API and the listener
 * acknowledged; after {@code close()} every call throws.
 */
class AcceptedRequestsTest
{
    /** What the listener heard, per VM. */
    static final class Ledger implements ClusterListener
    {
        final Map<Long, AtomicInteger> admitted = new ConcurrentHashMap<>();
        final Map<Long, AtomicInteger> removed = new ConcurrentHashMap<>();
        final Map<Long, AtomicInteger> admitFailed = new ConcurrentHashMap<>();
        final Map<Long, AtomicInteger> removeFailed = new ConcurrentHashMap<>();
        final List<String> removeFailures = new CopyOnWriteArrayList<>();
        final List<String> admitFailures = new CopyOnWriteArrayList<>();
        final List<Throwable> otherErrors = new CopyOnWriteArrayList<>();
        final AtomicLong requestFailures = new AtomicLong();

        private static void count(final Map<Long, AtomicInteger> map, final long vmId)
        {
            map.computeIfAbsent(vmId, k -> new AtomicInteger()).incrementAndGet();
        }

        static int get(final Map<Long, AtomicInteger> map, final long vmId)
        {
            final AtomicInteger n = map.get(vmId);
            return n == null ? 0 : n.get();
        }

        @Override
        public void onAdmitted(final int host, final long vmId)
        {
            count(admitted, vmId);
        }

        @Override
        public void onRemoved(final int host, final long vmId)
        {
            count(removed, vmId);
        }

        @Override
        public void onRequestFailed(final int host, final Request request, final long vmId, final String reason)
        {
            requestFailures.incrementAndGet();
            if (request == Request.ADMIT)
            {
                count(admitFailed, vmId);
                if (admitFailures.size() < 5)
                {
                    admitFailures.add("vm " + vmId + " at host " + host + ": " + reason);
                }
            }
            else if (request == Request.REMOVE)
            {
                count(removeFailed, vmId);
                removeFailures.add("vm " + vmId + ": " + reason);
            }
        }

        @Override
        public void onError(final int host, final Throwable error)
        {
            otherErrors.add(error);
        }
    }

    @BeforeEach
    @AfterEach
    void resetGuests()
    {
        TrackingGuest.reset();
    }

    @Test
    void underManyThreadsAndFullInboxesTheRestartHoldsExactlyWhatWasAcknowledged(@TempDir final Path dir)
        throws Exception
    {
        final int hosts = 4;
        final int threads = 8;
        final long durationNs = Long.getLong("vmsched.accepted.seconds", 4) * 1_000_000_000L;
        final ClusterConfig config = ClusterTest.config(hosts, dir);
        config.host.inboxBytes = 4096; // fills under this load: back-pressure and forwarding are exercised
        config.host.requestTimeoutNs = 2_000_000L; // a full inbox refuses soon: refused calls are counted
        config.host.scheduleCapacity = 1024; // room for VMs held by slow migrations on a busy machine
        config.host.handoffTimeoutNs = 100_000_000L;
        final Ledger ledger = new Ledger();
        config.listener = ledger;

        // per VM, from its one thread: 1 admit accepted, 2 remove accepted
        final Map<Long, Integer> accepted = new ConcurrentHashMap<>();
        final AtomicLong refused = new AtomicLong();
        final AtomicLong migrations = new AtomicLong();
        final long deadline;
        try (Cluster cluster = Cluster.start(config))
        {
            deadline = System.nanoTime() + durationNs;
            final List<Thread> workers = new ArrayList<>();
            final List<Throwable> unexpected = new CopyOnWriteArrayList<>();
            for (int t = 0; t < threads; t++)
            {
                final int thread = t;
                workers.add(new Thread(() ->
                {
                    final SplittableRandom random = new SplittableRandom(thread * 31L + 7);
                    final List<Long> live = new ArrayList<>();
                    long next = thread * 1_000_000_000L;
                    while (System.nanoTime() - deadline < 0)
                    {
                        final int op = random.nextInt(10);
                        try
                        {
                            if (op < 4 || live.size() < 4)
                            {
                                if (live.size() >= 30)
                                {
                                    continue; // bounded: a leak shows as a schedule that does not match its VMs
                                }
                                final long vm = next++;
                                if (random.nextBoolean())
                                {
                                    cluster.admit(vm, 1, new TrackingGuest(vm));
                                }
                                else
                                {
                                    cluster.admit(random.nextInt(hosts), vm, 1, new TrackingGuest(vm));
                                }
                                accepted.put(vm, 1);
                                live.add(vm);
                            }
                            else if (op < 8)
                            {
                                cluster.migrate(live.get(random.nextInt(live.size())), random.nextInt(hosts));
                                migrations.incrementAndGet();
                            }
                            else
                            {
                                final long vm = live.get(random.nextInt(live.size()));
                                cluster.remove(vm); // refused (throws): it stays live
                                live.remove(Long.valueOf(vm));
                                accepted.put(vm, 2);
                            }
                        }
                        catch (final IllegalStateException ex)
                        {
                            if (!ex.getMessage().contains("inbox full"))
                            {
                                unexpected.add(ex); // e.g. every schedule full: a leak
                                return;
                            }
                            refused.incrementAndGet(); // not accepted: the ledger ignores it
                        }
                        catch (final IllegalArgumentException ex)
                        {
                            // migrate to the host it is on, or a VM whose admission a host refused: fine
                        }
                        catch (final Throwable ex)
                        {
                            unexpected.add(ex);
                            return;
                        }
                    }
                }, "client-" + t));
            }
            workers.forEach(Thread::start);
            for (final Thread worker : workers)
            {
                worker.join();
            }
            assertEquals(List.of(), unexpected);

            // quiet: no slot may be held by a VM that is gone (a leak would show as a full schedule)
            Await.until("migrations settle", 20, () -> cluster.migrationsInFlight() == 0);
            Await.until("every schedule holds exactly its host's VMs", 20, () -> scheduleMatches(cluster));
        }
        for (final String failure : ledger.admitFailures)
        {
            assertTrue(failure.contains("schedule full"), failure); // migrating VMs hold a slot on both hosts
        }
        assertEquals(List.of(), ledger.otherErrors, "no error outside the requests");

        final Set<Long> expected = new TreeSet<>();
        for (final Map.Entry<Long, Integer> e : accepted.entrySet())
        {
            final long vm = e.getKey();
            final int admits = Ledger.get(ledger.admitted, vm);
            final int admitFailures = Ledger.get(ledger.admitFailed, vm);
            assertEquals(1, admits + admitFailures, "vm " + vm + ": its accepted admission settled exactly once");
            final boolean removeAccepted = e.getValue() == 2;
            final int removes = Ledger.get(ledger.removed, vm);
            final int removeFailures = Ledger.get(ledger.removeFailed, vm);
            assertEquals(removeAccepted ? 1 : 0, removes + removeFailures,
                "vm " + vm + ": its accepted removal settled exactly once");
            if (removeFailures > 0)
            {
                assertEquals(1, admitFailures, () -> "vm " + vm + ": a removal fails only if the admission did: " +
                    ledger.removeFailures.subList(0, Math.min(5, ledger.removeFailures.size())));
            }
            if (admits == 1 && removes == 0)
            {
                expected.add(vm);
            }
        }
        assertTrue(accepted.size() > 200, "the clients got work done: " + accepted.size() + " admissions");
        System.out.printf("accepted %d admissions, %d refused calls, %d failed admissions (%s), %d failed removals%n",
            accepted.size(), refused.get(), ledger.admitFailed.size(), ledger.admitFailures, ledger.removeFailed.size());
        assertTrue(migrations.get() > 100, "migrations requested: " + migrations.get());

        final ClusterConfig again = ClusterTest.config(hosts, dir);
        again.host.scheduleCapacity = config.host.scheduleCapacity;
        try (Cluster restarted = Cluster.start(again))
        {
            assertEquals(expected, new TreeSet<>(restarted.placement().keySet()),
                "the restart holds exactly the acknowledged VMs (" + refused.get() + " calls refused, " +
                ledger.requestFailures.get() + " accepted requests reported failed)");
        }
    }

    private static boolean scheduleMatches(final Cluster cluster)
    {
        int owned = 0;
        for (int h = 0; h < cluster.hostCount(); h++)
        {
            final HostRuntime host = cluster.host(h);
            if (host.schedule().size() != host.vmCount())
            {
                return false;
            }
            owned += host.vmCount();
        }
        return owned == cluster.placement().size();
    }

    @Test
    void closeSettlesEverythingItAcceptedAndTheRestartAgrees(@TempDir final Path dir)
    {
        final ClusterConfig config = ClusterTest.config(4, dir);
        config.host.scheduleCapacity = 2048;
        config.host.balancing = true;
        config.host.balancePeriodNs = 50_000_000L;
        final Ledger ledger = new Ledger();
        config.listener = ledger;
        final Set<Long> present = new TreeSet<>();
        try (Cluster cluster = Cluster.start(config))
        {
            for (long vm = 1; vm <= 1000; vm++)
            {
                cluster.admit(vm, 1, new TrackingGuest(vm));
                present.add(vm);
            }
            for (int round = 0; round < 3; round++)
            {
                final long base = 1000L * round;
                for (long vm = base + 1; vm <= base + 1000; vm++)
                {
                    cluster.remove(vm);
                    present.remove(vm);
                    cluster.admit(vm + 1000, 1, new TrackingGuest(vm + 1000));
                    present.add(vm + 1000);
                }
            }
        } // close() at once
        assertEquals(0, ledger.requestFailures.get(), "nothing failed: " + ledger.removeFailures);
        assertEquals(4000, ledger.admitted.size());
        assertEquals(3000, ledger.removed.size());
        final ClusterConfig again = ClusterTest.config(4, dir);
        again.host.scheduleCapacity = config.host.scheduleCapacity;
        try (Cluster restarted = Cluster.start(again))
        {
            assertEquals(present, new TreeSet<>(restarted.placement().keySet()));
        }
    }

    @Test
    void everyCallAfterCloseThrows(@TempDir final Path dir)
    {
        final Cluster cluster = Cluster.start(ClusterTest.config(2, dir));
        cluster.admit(0, 1, 1, new TrackingGuest(1));
        cluster.close();
        cluster.close(); // idempotent
        final List<Runnable> calls = List.of(
            () -> cluster.admit(2, 1, new TrackingGuest(2)),
            () -> cluster.admit(0, 3, 1, new TrackingGuest(3)),
            () -> cluster.admitExternal(0, 4, "x", ProcessHandle.current().pid()),
            () -> cluster.remove(1),
            () -> cluster.migrate(1, 1),
            () -> cluster.programLoad(1, 0.5, 0, 0),
            () -> cluster.clearProgrammedLoad(1),
            () -> cluster.reportUsage(1, 0.1, 0, 0),
            () -> cluster.balancing(true),
            cluster::placement,
            cluster::loads,
            cluster::cv,
            () -> cluster.load(0),
            () -> cluster.host(0),
            cluster::migrationsInFlight);
        for (int i = 0; i < calls.size(); i++)
        {
            final IllegalStateException ex = assertThrows(IllegalStateException.class, calls.get(i)::run, "call " + i);
            assertEquals("the cluster is closed", ex.getMessage());
        }
        assertEquals(2, cluster.hostCount()); // the final figures stay readable
        assertEquals(0, cluster.migrationsCommitted());
    }

    @Test
    void closeFromAListenerCallbackIsRefusedInsteadOfHanging(@TempDir final Path dir)
    {
        final ClusterConfig config = ClusterTest.config(2, dir);
        final java.util.concurrent.atomic.AtomicReference<Cluster> cluster = new java.util.concurrent.atomic.AtomicReference<>();
        final java.util.concurrent.CompletableFuture<Throwable> refusal = new java.util.concurrent.CompletableFuture<>();
        config.listener = new ClusterListener()
        {
            @Override
            public void onAdmitted(final int host, final long vmId)
            {
                try
                {
                    cluster.get().close();
                    refusal.complete(null);
                }
                catch (final RuntimeException ex)
                {
                    refusal.complete(ex);
                }
            }
        };
        try (Cluster c = Cluster.start(config))
        {
            cluster.set(c);
            c.admit(0, 1, 1, new TrackingGuest(1));
            final Throwable thrown = refusal.orTimeout(20, java.util.concurrent.TimeUnit.SECONDS).join();
            assertInstanceOf(IllegalStateException.class, thrown);
            assertTrue(thrown.getMessage().startsWith("close() cannot be called from a listener callback"));
            assertEquals(Map.of(1L, 0), c.placement(), "the cluster runs on");
        }
    }

    @Test
    void aNullGuestOrKindIsRefusedInOneLine(@TempDir final Path dir)
    {
        try (Cluster cluster = Cluster.start(ClusterTest.config(2, dir)))
        {
            assertEquals("vm 1: the guest is null",
                assertThrows(IllegalArgumentException.class, () -> cluster.admit(0, 1, 1, null)).getMessage());
            assertThrows(IllegalArgumentException.class, () -> cluster.admit(1, 1, null));
            final IllegalArgumentException noKind = assertThrows(IllegalArgumentException.class,
                () -> cluster.admit(0, 2, 1, new io.vmsched.dispatch.Guest()
                {
                    @Override
                    public void runSlice(final io.vmsched.dispatch.SliceContext context)
                    {
                    }

                    @Override
                    public byte[] snapshot()
                    {
                        return new byte[0];
                    }

                    @Override
                    public void restore(final byte[] state)
                    {
                    }

                    @Override
                    public String kind()
                    {
                        return null;
                    }
                }));
            assertTrue(noKind.getMessage().startsWith("vm 2: the guest "), noKind.getMessage());
            assertTrue(cluster.placement().isEmpty(), "nothing was reserved");
        }
    }
}
