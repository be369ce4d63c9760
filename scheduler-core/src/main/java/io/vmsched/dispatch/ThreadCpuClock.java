package io.vmsched.dispatch;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;

/**
 * The calling thread's CPU time, which is how the dispatcher charges a slice: time the worker
 * thread was descheduled by the OS is not charged to the guest.
 * <p>
 * Falls back to {@link System#nanoTime()} (wall time) where the JVM cannot measure thread CPU time;
 * {@link #isThreadCpuTime()} says which. Threadsafe.
 */
public final class ThreadCpuClock
{
    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();
    private static final boolean THREAD_CPU_TIME = initThreadCpuTime();

    private ThreadCpuClock()
    {
    }

    private static boolean initThreadCpuTime()
    {
        try
        {
            if (!THREADS.isCurrentThreadCpuTimeSupported())
            {
                return false;
            }
            if (!THREADS.isThreadCpuTimeEnabled())
            {
                THREADS.setThreadCpuTimeEnabled(true);
            }
            return THREADS.getCurrentThreadCpuTime() >= 0;
        }
        catch (final UnsupportedOperationException | SecurityException ex)
        {
            return false;
        }
    }

    /**
     * @return true if {@link #nanos()} is the thread's CPU time, false if it is wall time.
     */
    public static boolean isThreadCpuTime()
    {
        return THREAD_CPU_TIME;
    }

    /**
     * @return the calling thread's CPU time in nanoseconds (or wall time, see above).
     */
    public static long nanos()
    {
        return THREAD_CPU_TIME ? THREADS.getCurrentThreadCpuTime() : System.nanoTime();
    }
}
