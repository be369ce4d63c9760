package io.vmsched.cli;

import java.util.concurrent.TimeUnit;

/** Waiting for wall-clock moments, for the demos' once-a-second lines. */
final class Clock
{
    private Clock()
    {
    }

    /**
     * Sleep until {@code System.nanoTime()} reaches a deadline.
     *
     * @param deadlineNanos the deadline on the {@code nanoTime} clock.
     * @throws IllegalStateException if interrupted (the interrupt flag is kept).
     */
    static void sleepUntil(final long deadlineNanos)
    {
        long remaining;
        while ((remaining = deadlineNanos - System.nanoTime()) > 0)
        {
            try
            {
                TimeUnit.NANOSECONDS.sleep(remaining);
            }
            catch (final InterruptedException ex)
            {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted");
            }
        }
    }
}
