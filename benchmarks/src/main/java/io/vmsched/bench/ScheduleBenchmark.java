package io.vmsched.bench;

import io.vmsched.schedule.DispatchCursor;
import io.vmsched.schedule.EntryState;
import io.vmsched.schedule.Schedule;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Group;
import org.openjdk.jmh.annotations.GroupThreads;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;

/**
 * The schedule's hot paths against the standard queues doing the same rotation.
 * <ul>
 *     <li>{@code dispatch}: claim the next runnable slot of a 1,024-entry schedule and release it;</li>
 *     <li>{@code insertDelete}: the host agent inserts one entry and deletes it again;</li>
 *     <li>{@code baselineConcurrentLinkedQueue} / {@code baselineArrayBlockingQueue}: the same
 *     rotation of 1,024 entries as poll + offer;</li>
 *     <li>groups {@code dispatch2} and {@code clq2}: two threads rotating one shared schedule, or
 *     one shared queue.</li>
 * </ul>
 * Run: {@code java -jar benchmarks/target/benchmarks.jar ScheduleBenchmark -prof gc}.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 10, time = 1)
@Fork(2)
public class ScheduleBenchmark
{
    static final int ENTRIES = 1024;

    static Schedule fullSchedule()
    {
        final Schedule schedule = Schedule.allocate(ENTRIES);
        for (int i = 0; i < ENTRIES; i++)
        {
            schedule.insert(i + 1, 1 + (i & 3), EntryState.RUNNABLE, null);
        }
        return schedule;
    }

    /** One thread's own schedule and cursor. */
    @State(Scope.Thread)
    public static class ThreadSchedule
    {
        Schedule schedule;
        DispatchCursor cursor;

        @Setup(Level.Trial)
        public void setup()
        {
            schedule = fullSchedule();
            cursor = new DispatchCursor();
        }
    }

    /** A half-full schedule for the agent's insert and delete. */
    @State(Scope.Thread)
    public static class AgentSchedule
    {
        Schedule schedule;
        long nextId;

        @Setup(Level.Trial)
        public void setup()
        {
            schedule = Schedule.allocate(ENTRIES);
            for (int i = 0; i < ENTRIES / 2; i++)
            {
                schedule.insert(i + 1, 1, EntryState.RUNNABLE, null);
            }
            nextId = 1_000_000;
        }
    }

    /** A schedule shared by a group of threads. */
    @State(Scope.Group)
    public static class SharedSchedule
    {
        Schedule schedule;

        @Setup(Level.Trial)
        public void setup()
        {
            schedule = fullSchedule();
        }
    }

    /** Each thread's own cursor on the shared schedule. */
    @State(Scope.Thread)
    public static class Cursor
    {
        final DispatchCursor cursor = new DispatchCursor();
    }

    /** A queue holding the same 1,024 entries. */
    @State(Scope.Thread)
    public static class Clq
    {
        final ConcurrentLinkedQueue<Integer> queue = new ConcurrentLinkedQueue<>();

        @Setup(Level.Trial)
        public void setup()
        {
            for (int i = 0; i < ENTRIES; i++)
            {
                queue.offer(i); // Integer.valueOf caches only -128..127: these are distinct boxes
            }
        }
    }

    /** A shared queue for the group. */
    @State(Scope.Group)
    public static class SharedClq extends Clq
    {
    }

    /** A bounded array queue holding the same 1,024 entries. */
    @State(Scope.Thread)
    public static class Abq
    {
        final ArrayBlockingQueue<Integer> queue = new ArrayBlockingQueue<>(ENTRIES);

        @Setup(Level.Trial)
        public void setup()
        {
            for (int i = 0; i < ENTRIES; i++)
            {
                queue.offer(i);
            }
        }
    }

    @Benchmark
    public int dispatch(final ThreadSchedule state)
    {
        final int slot = state.schedule.claimNext(state.cursor);
        state.schedule.release(slot, 1, 0, 0);
        return slot;
    }

    @Benchmark
    public int insertDelete(final AgentSchedule state)
    {
        final long id = state.nextId++;
        final int slot = state.schedule.insert(id, 1, EntryState.RUNNABLE, null);
        state.schedule.delete(id);
        return slot;
    }

    @Benchmark
    public Integer baselineConcurrentLinkedQueue(final Clq state)
    {
        final Integer entry = state.queue.poll();
        state.queue.offer(entry);
        return entry;
    }

    @Benchmark
    public Integer baselineArrayBlockingQueue(final Abq state)
    {
        final Integer entry = state.queue.poll();
        state.queue.offer(entry);
        return entry;
    }

    @Benchmark
    @Group("dispatch2")
    @GroupThreads(2)
    public int dispatchShared(final SharedSchedule state, final Cursor cursor)
    {
        final int slot = state.schedule.claimNext(cursor.cursor);
        if (slot != Schedule.NO_SLOT)
        {
            state.schedule.release(slot, 1, 0, 0);
        }
        return slot;
    }

    @Benchmark
    @Group("clq2")
    @GroupThreads(2)
    public Integer clqShared(final SharedClq state)
    {
        final Integer entry = state.queue.poll();
        if (entry != null)
        {
            state.queue.offer(entry);
        }
        return entry;
    }
}
