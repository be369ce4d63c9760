package io.vmsched.dispatch;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

import static org.junit.jupiter.api.Assertions.*;

/**
 * {@link Idle}'s heat: a thread parked by a heated strategy is woken when the process turns hot, and parks briefly
 * (or yields, for a window after its work or the heat) while it stays hot; work of a {@link Idle#heating()} strategy's thread heats the process. Waits are on conditions
 * with deadlines ({@link Await}); the parks of the strategies under test are 5 s, longer than any deadline here, so a thread that
 * moves on within one was woken, not timed out.
 */
@Timeout(60)
class IdleTest
{
    private static final long LONG_PARK_NS = 5_000_000_000L;
    private static final long DEADLINE_S = 3;
    private static final long DEADLINE_NS = DEADLINE_S * 1_000_000_000L;

    @Test
    void aThreadParkedLongIsWokenWhenTheProcessTurnsHotAndParksBrieflyWhileItIsHot() throws Exception
    {
        awaitCold();
        try (Idler idler = new Idler(new Idle.Heated(0, 0, LONG_PARK_NS, LONG_PARK_NS, false, 0))) // parks, hot or not
        {
            // spin, yield, then a 5 s park: the process is cold
            final long parked = idler.awaitParked("the thread parks");

            Idle.heat(DEADLINE_NS);
            assertTrue(Idle.hot());
            Await.until("the heat wakes it", DEADLINE_S, () -> idler.idles.get() > parked);
            final long woken = idler.idles.get();
            Await.until("while hot it parks at most " + Idle.HOT_PARK_NS + " ns at a time", DEADLINE_S,
                () -> idler.idles.get() >= woken + 100 || !Idle.hot());
            assertTrue(idler.idles.get() >= woken + 100, "100 short parks within the hot window");
        }
    }

    @Test
    void aHotStrategyYieldsForItsWindowAfterTheProcessTurnsHotAndAfterItsWorkThenParks() throws Exception
    {
        awaitCold();
        final long windowNs = 200_000_000L;
        try (Idler idler = new Idler(new Idle.Heated(0, 0, LONG_PARK_NS, LONG_PARK_NS, false, windowNs)))
        {
            final long parked = idler.awaitParked("the thread parks while cold");
            final long hotFrom = System.nanoTime();
            Idle.heat(DEADLINE_NS);
            Await.until("the heat wakes it", DEADLINE_S, () -> idler.idles.get() > parked);
            neverParksUntil(idler.thread, hotFrom + windowNs / 2, "after the process turned hot");
            idler.awaitParked("past the window it parks, the process hot");
            assertTrue(Idle.hot(), "still hot");

            idler.work.set(true);
            LockSupport.unpark(idler.thread);
            Await.until("it works", DEADLINE_S, () -> idler.works.get() == 1);
            final long workedAt = System.nanoTime();
            neverParksUntil(idler.thread, workedAt + windowNs / 2, "after its work");
            idler.awaitParked("past the window it parks again");
            assertTrue(Idle.hot(), "still hot");
        }
    }

    /** A thread that idles on a strategy and counts it, working once each time {@link #work} is set. */
    private static final class Idler implements AutoCloseable
    {
        final AtomicLong idles = new AtomicLong();
        final AtomicLong works = new AtomicLong();
        final AtomicBoolean work = new AtomicBoolean();
        private final AtomicBoolean running = new AtomicBoolean(true);
        final Thread thread;

        Idler(final Idle.Heated strategy)
        {
            thread = new Thread(() ->
            {
                while (running.get())
                {
                    if (work.compareAndSet(true, false))
                    {
                        strategy.idle(1);
                        works.incrementAndGet();
                    }
                    strategy.idle(0);
                    idles.incrementAndGet();
                }
            }, "idle-test");
            thread.start();
        }

        /** @return its idles once it is seen parked (after 3 idles at least, so past the spins and yields). */
        long awaitParked(final String what)
        {
            Await.until(what, DEADLINE_S, () -> idles.get() >= 3 && thread.getState() == Thread.State.TIMED_WAITING);
            return idles.get();
        }

        @Override
        public void close() throws InterruptedException
        {
            running.set(false);
            Idle.heat(DEADLINE_NS); // wakes it if it parks again
            thread.join(10_000);
            assertFalse(thread.isAlive());
        }
    }

    /** Samples the thread's state until the deadline: a yielding thread is runnable, a park of any length shows. */
    private static void neverParksUntil(final Thread thread, final long deadlineNs, final String when)
    {
        int samples = 0;
        while (System.nanoTime() - deadlineNs < 0)
        {
            assertNotEquals(Thread.State.TIMED_WAITING, thread.getState(), "parked " + when + ", sample " + samples);
            samples++;
            Thread.onSpinWait();
        }
        assertTrue(samples > 0);
    }

    @Test
    void workOnAHeatingStrategyHeatsTheProcessAndWorkOnAnotherDoesNot() throws Exception
    {
        awaitCold();
        Idle.messages().idle(1);
        Idle.agent().idle(1);
        assertFalse(Idle.hot(), "a reading thread's work alone does not heat");
        Idle.heating().idle(1);
        assertTrue(Idle.hot(), "a registry member's does");
        awaitCold();
        Idle.receiving().idle(1);
        assertTrue(Idle.hot(), "and a media driver's");
        assertTrue(Idle.RECEIVE_PARK_NS <= Idle.MAX_PARK_NS && Idle.HOT_PARK_NS <= Idle.MAX_PARK_NS);
    }

    @Test
    void aThreadOnTheMessagePathSetsItsTimerSlackWhenItFirstParksAndAWorkerDoesNot() throws Exception
    {
        awaitCold(); // a hot strategy yields and would not park
        org.junit.jupiter.api.Assumptions.assumeTrue(LinuxThread.timerSlack() > 0 && LinuxThread.timerSlack(LinuxThread.timerSlack()),
            "needs a writable /proc/TID/timerslack_ns (Linux 4.6+)");
        assertEquals(1_000, Idle.TIMER_SLACK_NS, "the default");
        Idle.resetTimerSlack(); // this thread may have parked on the message path in an earlier test
        final long[] slack = new long[6];
        final Runnable[] runs = {
            () -> slack[0] = parkOnceThenSlack(Idle.messages()),
            () -> slack[1] = parkOnceThenSlack(Idle.work()),
            () -> slack[2] = parkOnceThenSlack(Idle.receiving()),
            () -> slack[3] = LinuxThread.timerSlack(),
            () ->
            {
                parkOnceThenSlack(Idle.messages());
                final Thread started = new Thread(() ->
                {
                    slack[4] = LinuxThread.timerSlack();
                    Idle.resetTimerSlack();
                    slack[5] = LinuxThread.timerSlack();
                }, "slack-test-started");
                started.start();
                try
                {
                    started.join(DEADLINE_NS / 1_000_000);
                }
                catch (final InterruptedException ex)
                {
                    Thread.currentThread().interrupt();
                }
            },
        };
        for (final Runnable run : runs)
        {
            final Thread thread = new Thread(run, "slack-test");
            thread.start();
            thread.join(DEADLINE_NS / 1_000_000);
            assertFalse(thread.isAlive());
        }
        assertEquals(Idle.TIMER_SLACK_NS, slack[0], "a messages() thread after its first park");
        assertEquals(Idle.TIMER_SLACK_NS, slack[2], "a receiving() thread after its first park");
        assertNotEquals(Idle.TIMER_SLACK_NS, slack[3], "a new thread starts with the OS's (inherited, 50 µs by default)");
        assertEquals(slack[3], slack[1], "a worker keeps the OS's");
        assertEquals(Idle.TIMER_SLACK_NS, slack[4], "a thread a message-path thread starts inherits its slack");
        assertEquals(slack[3], slack[5], "and has the process's again after resetTimerSlack");
    }

    /** Idles until the strategy parks once (spins and yields first), then reads this thread's timer slack. */
    private static long parkOnceThenSlack(final org.agrona.concurrent.IdleStrategy strategy)
    {
        strategy.reset();
        for (int i = 0; i < 200; i++)
        {
            strategy.idle(0); // 10-100 spins, 10-20 yields, then parks of at most 1 ms
        }
        return LinuxThread.timerSlack();
    }

    private static void awaitCold()
    {
        Await.until("no heat left from earlier work in this JVM", DEADLINE_S, () -> !Idle.hot());
    }
}
