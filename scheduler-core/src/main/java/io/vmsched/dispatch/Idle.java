package io.vmsched.dispatch;

import org.agrona.concurrent.BackoffIdleStrategy;

/**
 * How vmsched's threads wait when they have nothing to do: one place for every idle strategy (the
 * dispatcher's workers, the host agents, the embedded media drivers, the registry's agents and clients).
 * They spin briefly, yield, then park for longer and longer up to {@link #MAX_PARK_NS}: an idle host costs
 * little CPU, and a message that arrives while a thread is parked waits up to that long at each thread it
 * crosses (a handoff between processes crosses several: docs/performance.md). The ceiling is the system
 * property {@value #MAX_PARK_PROPERTY}, in µs (default 1,000): lower trades idle CPU for latency.
 * <p>
 * Threadsafe (no state); each call makes a new strategy, which belongs to one thread.
 */
public final class Idle
{
    /** The system property giving {@link #MAX_PARK_NS} in µs. */
    public static final String MAX_PARK_PROPERTY = "vmsched.idle.max-park-us";
    /** The longest park of an idle thread, ns. */
    public static final long MAX_PARK_NS = maxPark();

    private Idle()
    {
    }

    /** @return a backoff for a thread that reads messages (agents, drivers, clients): short spins, then parks. */
    public static BackoffIdleStrategy messages()
    {
        return new BackoffIdleStrategy(10, 20, 1_000, MAX_PARK_NS);
    }

    /** @return a backoff for a thread that runs work as it comes (workers, host agents): longer spins, then parks. */
    public static BackoffIdleStrategy work()
    {
        return new BackoffIdleStrategy(100, 10, 1_000, MAX_PARK_NS);
    }

    private static long maxPark()
    {
        final String value = System.getProperty(MAX_PARK_PROPERTY);
        if (value == null)
        {
            return 1_000_000L;
        }
        try
        {
            final long us = Long.parseLong(value.trim());
            if (us >= 1 && us <= 1_000_000)
            {
                return us * 1_000L;
            }
        }
        catch (final NumberFormatException ex)
        {
            // said below
        }
        throw new IllegalArgumentException("-D" + MAX_PARK_PROPERTY + " must be whole µs from 1 to 1000000, got '" + value + "'");
    }
}
