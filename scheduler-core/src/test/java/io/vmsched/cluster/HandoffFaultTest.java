package io.vmsched.cluster;

import io.vmsched.dispatch.Await;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A fault at every step of the handoff, on both sides: an exception, a lost message, a message held
 * past the timeout. After each, the VM is owned by exactly one host, runs there and nowhere else,
 * and a restart from the journals puts it in the same place.
 */
class HandoffFaultTest
{
    @BeforeEach
    @AfterEach
    void resetGuests()
    {
        TrackingGuest.reset();
    }

    static Stream<Arguments> faults()
    {
        final List<Arguments> cases = new ArrayList<>();
        for (final Faults.Point point : Faults.Point.values())
        {
            cases.add(Arguments.of(point, Faults.Action.THROW, expected(point, Faults.Action.THROW)));
            if (point == Faults.Point.SOURCE_SEND_TRANSFER || point == Faults.Point.TARGET_SEND_ACK)
            {
                cases.add(Arguments.of(point, Faults.Action.DROP, expected(point, Faults.Action.DROP)));
                cases.add(Arguments.of(point, Faults.Action.DELAY, expected(point, Faults.Action.DELAY)));
            }
        }
        return cases.stream();
    }

    /** Where the VM must end: at the target once the target activated it, otherwise at the source. */
    private static int expected(final Faults.Point point, final Faults.Action action)
    {
        switch (point)
        {
            case TARGET_AFTER_ACTIVATED:
            case TARGET_SEND_ACK:
            case SOURCE_ON_ACK:
                return 1;
            case SOURCE_SEND_TRANSFER:
                return 0;
            default:
                return action == Faults.Action.THROW ? 0 : 1;
        }
    }

    @ParameterizedTest(name = "{1} at {0} -> vm on host {2}")
    @MethodSource("faults")
    void theVmEndsOnExactlyOneHostAndRunsOnlyThere(final Faults.Point point, final Faults.Action action,
        final int expectedHost, @org.junit.jupiter.api.io.TempDir final Path dir)
    {
        final AtomicBoolean fired = new AtomicBoolean();
        final ClusterConfig config = ClusterTest.config(2, dir);
        config.faults = (at, host, migrationId) -> at == point && fired.compareAndSet(false, true) ? action :
            Faults.Action.PROCEED;
        final java.util.List<Throwable> unexpected = new java.util.concurrent.CopyOnWriteArrayList<>();
        config.listener = new ClusterListener()
        {
            @Override
            public void onError(final int host, final Throwable error)
            {
                if (!(error instanceof Faults.InjectedFault))
                {
                    unexpected.add(error);
                }
            }
        };
        try (Cluster cluster = Cluster.start(config))
        {
            cluster.admit(0, 7, 1, new TrackingGuest(7));
            Await.until("vm 7 running", 10, () -> TrackingGuest.slices(7) > 5);
            cluster.migrate(7, 1);
            Await.until("the outcome", 20, () -> cluster.migrationsCommitted() + cluster.migrationsAborted() == 1 &&
                cluster.migrationsInFlight() == 0);
            assertTrue(fired.get(), "the fault fired");
            assertEquals(Map.of(7L, expectedHost), cluster.placement());
            assertEquals(expectedHost == 1 ? 1 : 0, cluster.migrationsCommitted());
            Await.until("the loser's entry gone", 10, () -> cluster.host(expectedHost).vmCount() == 1 &&
                cluster.host(1 - expectedHost).vmCount() == 0);
            final long before = TrackingGuest.slices(7);
            Await.until("vm 7 running on its owner", 10, () -> TrackingGuest.slices(7) > before + 5);
            if (action == Faults.Action.DELAY)
            {
                // the held-back message arrives after the outcome: it must change nothing
                final long due = System.nanoTime() + 3 * config.host.handoffTimeoutNs;
                Await.until("the delayed message to land", 10, () -> System.nanoTime() - due > 0);
                assertEquals(Map.of(7L, expectedHost), cluster.placement());
                assertEquals(1, cluster.host(expectedHost).vmCount());
                assertEquals(0, cluster.host(1 - expectedHost).vmCount());
            }
        }
        assertEquals(0, TrackingGuest.OVERLAPS.get(), "never ran in two places at once");
        assertEquals(java.util.List.of(), unexpected, "no error but the injected one");
        try (Cluster cluster = Cluster.start(config))
        {
            assertEquals(1, cluster.recoveredVms());
            assertEquals(Map.of(7L, expectedHost), cluster.placement(), "recovery agrees with the run");
        }
    }
}
