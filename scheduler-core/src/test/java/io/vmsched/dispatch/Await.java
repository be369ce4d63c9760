package io.vmsched.dispatch;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

/**
 * Waits on a condition with a deadline: tests never sleep a fixed time.
 */
public final class Await
{
    private Await()
    {
    }

    /**
     * @param what      what is awaited, for the failure message.
     * @param seconds   deadline.
     * @param condition polled until true.
     */
    public static void until(final String what, final long seconds, final BooleanSupplier condition)
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (!condition.getAsBoolean())
        {
            if (System.nanoTime() - deadline > 0)
            {
                throw new AssertionError("timed out after " + seconds + " s waiting for " + what);
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
        }
    }
}
