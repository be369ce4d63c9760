package io.vmsched.cluster;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * The gate between a {@link Cluster}'s requests and its {@code close()}, without a lock on the
 * request path.
 * <p>
 * Invariant: {@link #closeAndWait()} sets {@code closed}, then waits for {@code calls} to reach 0; a
 * request increments {@code calls}, then reads {@code closed}. Both are volatile (sequentially
 * consistent), so either the request sees the gate closed and throws, or close waits until the request
 * has queued its message (counted as pending, which close then waits to be settled).
 * <p>
 * Threadsafe.
 */
final class RequestGate
{
    private final AtomicInteger calls = new AtomicInteger();
    private volatile boolean closed;

    /** Enter a request; pair with {@link #exit()} in a finally block. @throws IllegalStateException if closed. */
    void enter()
    {
        calls.incrementAndGet();
        if (closed)
        {
            calls.decrementAndGet();
            throw new IllegalStateException("the cluster is closed");
        }
    }

    void exit()
    {
        calls.decrementAndGet();
    }

    /** @throws IllegalStateException if the gate is closed. */
    void checkOpen()
    {
        if (closed)
        {
            throw new IllegalStateException("the cluster is closed");
        }
    }

    /** Close the gate, then wait for the requests already inside to leave. */
    void closeAndWait()
    {
        closed = true;
        while (calls.get() > 0)
        {
            LockSupport.parkNanos(100_000);
        }
    }
}
