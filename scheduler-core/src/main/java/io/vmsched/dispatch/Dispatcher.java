package io.vmsched.dispatch;

import io.vmsched.schedule.Schedule;
import org.agrona.ErrorHandler;
import org.agrona.concurrent.AgentRunner;
import org.agrona.concurrent.IdleStrategy;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * Runs a host's guests: N worker agents, each on its own thread, claim the next RUNNABLE entry of
 * the {@link Schedule}, run one slice of its {@link Guest}, charge the CPU time the thread used,
 * and release it. N is the host's "CPU count": by default the number of processors.
 * <p>
 * A guest that throws is not run again: its entry is taken out of dispatch (SUSPENDED) and the
 * error handler is told, with the vmId; the worker carries on.
 * <p>
 * <b>Note:</b> {@link #start()} and {@link #close()} are for the owner's thread; the counters may be
 * read from any thread.
 */
public final class Dispatcher implements AutoCloseable
{
    private final Schedule schedule;
    private final List<Worker> workers = new ArrayList<>();
    private final List<AgentRunner> runners = new ArrayList<>();
    private boolean started;

    /**
     * A dispatcher with one worker per processor and a backoff idle strategy.
     *
     * @param schedule     the schedule whose entries carry {@link Guest} attachments.
     * @param errorHandler told of guest failures and worker errors.
     */
    public Dispatcher(final Schedule schedule, final ErrorHandler errorHandler)
    {
        this(schedule, Runtime.getRuntime().availableProcessors(), Dispatcher::defaultIdleStrategy, errorHandler);
    }

    /**
     * @param schedule     the schedule whose entries carry {@link Guest} attachments.
     * @param workerCount  number of worker threads, at least 1.
     * @param idleStrategy makes one idle strategy per worker, used when no entry is runnable.
     * @param errorHandler told of guest failures and worker errors.
     */
    public Dispatcher(
        final Schedule schedule,
        final int workerCount,
        final Supplier<IdleStrategy> idleStrategy,
        final ErrorHandler errorHandler)
    {
        if (workerCount < 1)
        {
            throw new IllegalArgumentException("a dispatcher needs at least 1 worker, got " + workerCount);
        }
        this.schedule = Objects.requireNonNull(schedule, "schedule");
        for (int i = 0; i < workerCount; i++)
        {
            final Worker worker = new Worker(schedule, i, errorHandler);
            workers.add(worker);
            runners.add(new AgentRunner(idleStrategy.get(), errorHandler, null, worker));
        }
    }

    /**
     * The idle strategy of a worker with nothing to run: spin briefly, yield, then park up to 1 ms.
     *
     * @return a new idle strategy.
     */
    public static IdleStrategy defaultIdleStrategy()
    {
        return Idle.work();
    }

    /**
     * Start the worker threads. Once only.
     *
     * @return this.
     */
    public Dispatcher start()
    {
        if (started)
        {
            throw new IllegalStateException("dispatcher already started");
        }
        started = true;
        for (final AgentRunner runner : runners)
        {
            AgentRunner.startOnThread(runner);
        }
        return this;
    }

    /** @return the schedule this dispatcher runs. */
    public Schedule schedule()
    {
        return schedule;
    }

    /** @return number of workers. */
    public int workerCount()
    {
        return workers.size();
    }

    /** @return slices run by all workers so far. */
    public long slicesDispatched()
    {
        long total = 0;
        for (final Worker worker : workers)
        {
            total += worker.slices();
        }
        return total;
    }

    /** @return guest slices that threw. */
    public long guestFailures()
    {
        long total = 0;
        for (final Worker worker : workers)
        {
            total += worker.failures();
        }
        return total;
    }

    /**
     * Stop the workers and wait for their threads to end; a running slice finishes first.
     */
    @Override
    public void close()
    {
        for (final AgentRunner runner : runners)
        {
            runner.close();
        }
    }
}
