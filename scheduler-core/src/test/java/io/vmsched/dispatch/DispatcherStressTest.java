package io.vmsched.dispatch;

import io.vmsched.schedule.EntryState;
import io.vmsched.schedule.Schedule;
import org.agrona.collections.Long2ObjectHashMap;
import org.agrona.concurrent.BusySpinIdleStrategy;
import org.agrona.concurrent.YieldingIdleStrategy;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Workers dispatch while the agent (this test's thread) inserts, deletes, suspends and resumes
 * entries at random; counters inside the guests catch any slot run on two threads at once, any
 * entry run after its delete or suspend completed, and any live entry that stopped running.
 */
class DispatcherStressTest
{
    private static final int WORKERS = 4;
    private static final int OPERATIONS = Integer.getInteger("vmsched.stress.operations", 1_000_000);

    static final AtomicLong OVERLAPS = new AtomicLong();
    static final AtomicLong RAN_WHILE_STOPPED = new AtomicLong();

    static final class CountingGuest implements Guest
    {
        final AtomicInteger inSlice = new AtomicInteger();
        final AtomicLong slices = new AtomicLong();
        volatile boolean stopped; // set by the agent once a delete or suspend has completed

        @Override
        public void runSlice(final SliceContext context)
        {
            if (inSlice.incrementAndGet() != 1)
            {
                OVERLAPS.incrementAndGet();
            }
            if (stopped)
            {
                RAN_WHILE_STOPPED.incrementAndGet();
            }
            for (int i = 0; i < 20; i++)
            {
                Thread.onSpinWait();
            }
            slices.incrementAndGet();
            inSlice.decrementAndGet();
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
    }

    @Test
    void millionRandomStructuralChangesUnderFourWorkers()
    {
        final int capacity = 256;
        final Schedule schedule = Schedule.allocate(capacity, 2_000, 16);
        final ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
        final SplittableRandom random = new SplittableRandom(42);
        final Long2ObjectHashMap<CountingGuest> live = new Long2ObjectHashMap<>();
        final List<Long> liveIds = new ArrayList<>();
        final List<CountingGuest> pendingStop = new ArrayList<>();
        final List<Long> pendingIds = new ArrayList<>();
        final Long2ObjectHashMap<CountingGuest> suspended = new Long2ObjectHashMap<>();
        long nextId = 1;
        long inserts = 0;
        long deletes = 0;
        long deferred = 0;
        long suspends = 0;

        OVERLAPS.set(0);
        RAN_WHILE_STOPPED.set(0);
        try (Dispatcher dispatcher = new Dispatcher(schedule, WORKERS,
            () -> random.nextBoolean() ? new BusySpinIdleStrategy() : new YieldingIdleStrategy(), errors::add).start())
        {
            for (int op = 0; op < OPERATIONS; op++)
            {
                final int size = liveIds.size();
                final int dice = random.nextInt(100);
                if (size < 8 || (dice < 45 && size < capacity - 16))
                {
                    final CountingGuest guest = new CountingGuest();
                    final long id = nextId++;
                    schedule.insert(id, 1 + random.nextInt(4), EntryState.RUNNABLE, guest);
                    live.put(id, guest);
                    liveIds.add(id);
                    inserts++;
                }
                else if (dice < 90)
                {
                    final int index = random.nextInt(size);
                    final long id = liveIds.get(index);
                    liveIds.set(index, liveIds.get(size - 1));
                    liveIds.remove(size - 1);
                    if (!delete(schedule, id, live.remove(id), pendingStop, pendingIds))
                    {
                        deferred++;
                    }
                    deletes++;
                }
                else if (dice < 95 && suspended.isEmpty())
                {
                    final int index = random.nextInt(size);
                    final long id = liveIds.get(index);
                    if (!schedule.isPending(id))
                    {
                        liveIds.set(index, liveIds.get(size - 1));
                        liveIds.remove(size - 1);
                        schedule.suspend(id);
                        suspended.put(id, live.remove(id));
                        suspends++;
                    }
                }
                else if (!suspended.isEmpty())
                {
                    schedule.reclaim();
                    final long id = suspended.keySet().iterator().nextLong();
                    if (schedule.isPending(id) && random.nextInt(4) == 0)
                    {
                        // delete while the suspend still waits for its slice: the delete takes over
                        if (!delete(schedule, id, suspended.remove(id), pendingStop, pendingIds))
                        {
                            deferred++;
                        }
                        deletes++;
                    }
                    else if (!schedule.isPending(id) && random.nextInt(3) == 0)
                    {
                        // a suspend completed by the worker, then a delete before any reclaim() of it
                        final CountingGuest guest = suspended.remove(id);
                        assertEquals(Schedule.Transition.DONE, schedule.delete(id));
                        guest.stopped = true;
                        deletes++;
                    }
                    else if (!schedule.isPending(id))
                    {
                        assertEquals(EntryState.SUSPENDED, schedule.stateOf(id));
                        final CountingGuest guest = suspended.remove(id);
                        guest.stopped = true;
                        final long before = guest.slices.get();
                        // a suspended entry must not run while the others do
                        final long others = dispatcher.slicesDispatched();
                        Await.until("other slices while vm " + id + " is suspended", 30,
                            () -> dispatcher.slicesDispatched() > others + WORKERS * 4L);
                        assertEquals(before, guest.slices.get(), "vm " + id + " ran while suspended");
                        guest.stopped = false;
                        schedule.resume(id);
                        live.put(id, guest);
                        liveIds.add(id);
                    }
                }

                if ((op & 63) == 0)
                {
                    schedule.reclaim();
                    completePending(schedule, pendingStop, pendingIds);
                }
            }

            schedule.reclaim();
            completePending(schedule, pendingStop, pendingIds);
            Await.until("every deferred delete to complete", 30, () ->
            {
                schedule.reclaim();
                completePending(schedule, pendingStop, pendingIds);
                return pendingIds.isEmpty();
            });
            for (final long id : suspended.keySet())
            {
                Await.until("vm " + id + " to be suspended", 30, () ->
                {
                    schedule.reclaim();
                    return !schedule.isPending(id);
                });
                schedule.resume(id);
                live.put(id, suspended.get(id));
                liveIds.add(id);
            }
            suspended.clear();

            // Every live entry keeps running.
            final long[] before = new long[liveIds.size()];
            for (int i = 0; i < liveIds.size(); i++)
            {
                before[i] = live.get(liveIds.get(i)).slices.get();
            }
            for (int i = 0; i < liveIds.size(); i++)
            {
                final CountingGuest guest = live.get(liveIds.get(i));
                final long from = before[i];
                final long id = liveIds.get(i);
                Await.until("live vm " + id + " to run again", 60, () -> guest.slices.get() > from);
            }
            System.out.printf("stress: %,d operations (%,d inserts, %,d deletes of which %,d deferred, %,d suspends), " +
                "%,d slices, %d live at the end%n", OPERATIONS, inserts, deletes, deferred, suspends,
                dispatcher.slicesDispatched(), liveIds.size());
            assertTrue(dispatcher.slicesDispatched() > 10_000, "the workers ran");
            assertTrue(deferred > 0, "some deletes raced a running slice");
        }

        assertEquals(0, OVERLAPS.get(), "a slot ran on two threads at once");
        assertEquals(0, RAN_WHILE_STOPPED.get(), "an entry ran after its delete or suspend completed");
        assertTrue(errors.isEmpty(), () -> "errors: " + errors);
        assertEquals(liveIds.size(), schedule.size());
    }

    /**
     * Delete an entry; mark its guest stopped if the delete completed, else track it until it does.
     *
     * @return true if the delete completed at once.
     */
    private static boolean delete(final Schedule schedule, final long id, final CountingGuest guest,
        final List<CountingGuest> pendingStop, final List<Long> pendingIds)
    {
        if (schedule.delete(id) == Schedule.Transition.DONE)
        {
            guest.stopped = true;
            return true;
        }
        pendingStop.add(guest);
        pendingIds.add(id);
        return false;
    }

    private static void completePending(
        final Schedule schedule, final List<CountingGuest> pendingStop, final List<Long> pendingIds)
    {
        for (int i = pendingIds.size() - 1; i >= 0; i--)
        {
            if (!schedule.contains(pendingIds.get(i)))
            {
                pendingStop.get(i).stopped = true;
                pendingStop.remove(i);
                pendingIds.remove(i);
            }
        }
    }
}
