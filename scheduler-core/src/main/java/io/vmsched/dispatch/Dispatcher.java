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
    private final ErrorHandler errorHandler;
    private int workerNice;
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
        this.errorHandler = errorHandler;
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
     * Run the workers at a lower OS priority than the process's other threads: once they started, their threads
     * get this nice value (Linux, {@code renice}; raising it needs no privilege). The guests then yield a core to
     * the host's agent and transport as soon as a message comes, instead of making it wait for the OS scheduler's
     * slice (docs/performance.md: a busy host's handoff). Before {@link #start()}.
     *
     * @param nice 0 (the default: as the process's) to 19 (the lowest).
     * @return this.
     * @throws IllegalArgumentException if out of 0-19.
     */
    public Dispatcher workerNice(final int nice)
    {
        if (nice < 0 || nice > 19)
        {
            throw new IllegalArgumentException("workers' nice value must be 0-19, got " + nice);
        }
        workerNice = nice;
        return this;
    }

    /**
     * Start the worker threads. Once only. With a {@link #workerNice}, a short-lived thread then renices them
     * (one {@code renice} process for all); a failure is told to the error handler, and the workers run on as
     * they are.
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
        if (workerNice > 0)
        {
            final Thread renice = new Thread(this::renice, "vmsched-renice");
            renice.setDaemon(true);
            renice.start();
        }
        return this;
    }

    /** The workers' threads, once each knows its id, get {@link #workerNice}. */
    private void renice()
    {
        final long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(10);
        final List<String> command = new ArrayList<>(List.of("renice", "-n", Integer.toString(workerNice), "-p"));
        for (final Worker worker : workers)
        {
            long tid;
            while ((tid = worker.threadId()) < 0)
            {
                if (System.nanoTime() - deadline > 0)
                {
                    return; // closed before it started
                }
                java.util.concurrent.locks.LockSupport.parkNanos(1_000_000L);
            }
            if (tid == 0)
            {
                return; // not Linux: nothing to renice
            }
            command.add(Long.toString(tid));
        }
        String failure;
        try
        {
            final Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
            final String output = new String(process.getInputStream().readAllBytes()).trim();
            final int code = process.waitFor();
            failure = code == 0 ? null : "exit " + code + (output.isEmpty() ? "" : ": " + output.lines().findFirst().orElse(""));
        }
        catch (final java.io.IOException ex)
        {
            failure = ex.getMessage();
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
            return;
        }
        if (failure != null && errorHandler != null)
        {
            errorHandler.onError(new IllegalStateException("the dispatcher's workers keep the process's priority: " +
                String.join(" ", command) + " failed (" + failure + ")"));
        }
    }

    /**
     * The OS ids of the worker threads (Linux), for tools that place them (taskset, renice); -1 for a worker not
     * started yet, 0 where there are none.
     *
     * @return one per worker.
     */
    public long[] workerThreadIds()
    {
        final long[] ids = new long[workers.size()];
        for (int i = 0; i < ids.length; i++)
        {
            ids[i] = workers.get(i).threadId();
        }
        return ids;
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
