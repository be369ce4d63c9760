package io.vmsched.qemu;

import io.vmsched.vm.VmDriverException;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;

/**
 * A {@link QemuVmDriver}'s pool of spare incoming copies: QEMU processes started ahead from a launch spec, with
 * {@code -S -incoming defer} and their QMP socket connected, so that {@link QemuVmDriver#prepareIncoming} of that
 * spec is a {@code migrate-incoming} instead of a process start.
 * <p>
 * <b>Names.</b> A spare's socket and log are {@code RUN_DIR/.spare-TAG-N.qmp} and {@code .log}: TAG is this pool's
 * own (the JVM's pid and a random part, so another driver's, or an earlier one's on the same run directory, are
 * told apart), N counts. No VM's file name starts with a dot ({@link QemuVmDriver#fileName}), so a spare's file
 * is never a VM's. <b>A spare is nobody's copy</b> until the driver hands it out: it links {@code RUN_DIR/NAME.qmp}
 * to the spare's socket before it issues {@code migrate-incoming}, and that link is the only record that the spare
 * is NAME's copy (see {@link QemuVmDriver#copies()}).
 * <p>
 * <b>Bounds.</b> At most {@code perSpec} spares of a spec, ready or starting, and {@code max} in all; a spec that
 * needs one when all are taken evicts a ready spare of the spec used least recently. Spares start one at a time,
 * on the pool's own thread; a start is asked for only by an event (a VM adopted, a copy prepared, a spare handed
 * out), never by a failed start, and a spec whose spare failed to start twice running gets no more.
 * <p>
 * Threading: threadsafe. {@link #take} may block up to the start timeout (it waits for a spare whose process is
 * starting already); everything else returns at once, except {@link #close}, which quits every spare and waits.
 */
final class QemuSpares implements AutoCloseable
{
    /** Starts a spare's QEMU: {@link QemuVmDriver}'s own start of an incoming copy, told the process once it exists. */
    @FunctionalInterface
    interface Launcher
    {
        QemuVmDriver.Launched launch(String name, List<String> args, Path socket, Path log,
            Consumer<ProcessHandle> started) throws VmDriverException;
    }

    /** Quits a spare's QEMU ({@code quit} over its connection, else a signal) and waits, bounded. */
    @FunctionalInterface
    interface Quitter
    {
        void quit(ProcessHandle process, QmpClient client);
    }

    /** A spare: its files, and once started its process and connection. Fields are guarded by the pool's lock. */
    static final class Spare
    {
        final List<String> args;
        final Spec spec;
        final String file;
        final Path socket;
        final Path log;
        final CompletableFuture<Spare> started = new CompletableFuture<>(); // null if the start failed
        ProcessHandle process;
        QmpClient client;
        boolean events;
        boolean launching;
        boolean claimed; // a take waits for it: it goes to the taker, not to the ready ones
        boolean evicted;

        Spare(final List<String> args, final Spec spec, final String file, final Path socket, final Path log)
        {
            this.args = args;
            this.spec = spec;
            this.file = file;
            this.socket = socket;
            this.log = log;
        }
    }

    /** One spec's spares. */
    static final class Spec
    {
        final ArrayDeque<Spare> ready = new ArrayDeque<>();
        final List<Spare> starting = new ArrayList<>();
        int failures; // spare starts that failed in a row
    }

    /** The spare file names' common prefix (never a VM's: see {@link QemuVmDriver#fileName}). */
    static final String PREFIX = ".spare-";
    /** Starts that fail in a row before a spec gets no more spares. */
    static final int MAX_FAILURES = 2;
    /** Specs remembered without a spare, beyond which the least recently used are forgotten. */
    private static final int MAX_SPECS = 64;

    private final Path runDir;
    private final String tag;
    private final int perSpec;
    private final int max;
    private final Duration startTimeout;
    private final Launcher launcher;
    private final Quitter quitter;
    private final LinkedHashMap<List<String>, Spec> specs = new LinkedHashMap<>(16, 0.75f, true); // LRU first
    private final List<ProcessHandle> processes = new ArrayList<>(); // started and not handed out: quit on close
    private final ScheduledThreadPoolExecutor thread;
    // held from before a spare's fork until its process is known: processes() then misses none that exists
    private final java.util.concurrent.locks.ReentrantLock forkLock = new java.util.concurrent.locks.ReentrantLock();
    private int count; // spares ready or starting, all specs
    private long sequence;
    private boolean closed;

    /**
     * @param runDir       the driver's run directory.
     * @param perSpec      spares kept per spec, 0 for none (then nothing starts).
     * @param max          spares kept in all.
     * @param startTimeout how long a take waits for a spare that is starting.
     * @param launcher     starts a spare.
     * @param quitter      quits one.
     */
    QemuSpares(final Path runDir, final int perSpec, final int max, final Duration startTimeout,
        final Launcher launcher, final Quitter quitter)
    {
        this.runDir = runDir;
        this.tag = PREFIX + Long.toString(ProcessHandle.current().pid(), 36) +
            Long.toString(ThreadLocalRandom.current().nextLong(36L * 36 * 36 * 36), 36) + "-";
        // a run directory so deep that a spare's socket path would not fit: no spares (a copy's name may be shorter)
        final boolean fits = (runDir + "/" + tag + "999999.qmp").getBytes(StandardCharsets.UTF_8).length <=
            QemuProcesses.MAX_SOCKET_PATH;
        this.perSpec = fits ? perSpec : 0;
        this.max = max;
        this.startTimeout = startTimeout;
        this.launcher = launcher;
        this.quitter = quitter;
        this.thread = new ScheduledThreadPoolExecutor(1, task ->
        {
            final Thread t = new Thread(() ->
            {
                io.vmsched.dispatch.Idle.resetTimerSlack(); // the spares it starts inherit its timer slack
                task.run();
            }, "vmsched-qemu-spares");
            t.setDaemon(true); // a JVM that exits without close leaves spares: recovery quits them as strays
            return t;
        });
        this.thread.setRemoveOnCancelPolicy(true);
    }

    /** @return the prefix of this pool's own spare files ({@code .spare-TAG-}). */
    String tag()
    {
        return tag;
    }

    /** @return whether spares are kept at all. */
    boolean enabled()
    {
        return perSpec > 0 && max > 0;
    }

    /**
     * A live spare of the spec, taken out of the pool: a ready one (a dead one found on the way is discarded), or
     * else one whose process is starting already, waited for up to the start timeout. The caller owns it then.
     *
     * @param args the spec (stripped).
     * @return the spare, or null if there is none.
     */
    Spare take(final List<String> args)
    {
        Spare waitFor = null;
        final List<Spare> dead = new ArrayList<>();
        try
        {
            synchronized (this)
            {
                final Spec spec = closed ? null : specs.get(args);
                if (null == spec)
                {
                    return null;
                }
                Spare spare;
                while (null != (spare = spec.ready.poll()))
                {
                    count--;
                    if (!QemuVmDriver.exited(spare.process))
                    {
                        processes.remove(spare.process);
                        return spare;
                    }
                    dead.add(spare);
                }
                for (final Spare starting : spec.starting)
                {
                    // only one that is launching: a queued one may wait behind other starts, longer than a fresh start
                    if (starting.launching && !starting.claimed)
                    {
                        starting.claimed = true;
                        waitFor = starting;
                        break;
                    }
                }
            }
        }
        finally
        {
            dead.forEach(this::discard);
        }
        if (null == waitFor)
        {
            return null;
        }
        try
        {
            final Spare spare = waitFor.started.get(startTimeout.toNanos(), TimeUnit.NANOSECONDS);
            if (null != spare && !QemuVmDriver.exited(spare.process))
            {
                return spare;
            }
            if (null != spare)
            {
                discard(spare);
            }
            return null;
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
        catch (final TimeoutException | ExecutionException ex)
        {
            // started too late, or not at all: the caller starts a copy of its own
        }
        // it may still come: then it is no one's, and goes
        waitFor.started.thenAccept(late ->
        {
            if (null != late)
            {
                discard(late);
            }
        });
        return null;
    }

    /**
     * Keep the spec's spares at their number: start the ones missing, on the pool's thread, after a delay.
     *
     * @param args    the spec (stripped).
     * @param delayMs how long to wait before starting (0: at once).
     */
    void replenish(final List<String> args, final long delayMs)
    {
        if (!enabled())
        {
            return;
        }
        synchronized (this)
        {
            if (closed)
            {
                return;
            }
            specs.computeIfAbsent(List.copyOf(args), a -> new Spec()); // seen: remembered, and the most recent
        }
        try
        {
            thread.schedule(() -> fill(args), Math.max(0, delayMs), TimeUnit.MILLISECONDS);
        }
        catch (final RejectedExecutionException ex)
        {
            // closed meanwhile: no more spares
        }
    }

    /** Pool's thread: start the spares the spec lacks, evicting least recently used ones beyond the total. */
    private void fill(final List<String> args)
    {
        final List<Spare> toStart = new ArrayList<>();
        final List<Spare> evicted = new ArrayList<>();
        synchronized (this)
        {
            final Spec spec = specs.get(args);
            if (closed || null == spec || spec.failures >= MAX_FAILURES)
            {
                return;
            }
            int have = spec.ready.size();
            for (final Spare s : spec.starting)
            {
                have += s.claimed ? 0 : 1;
            }
            while (have < perSpec)
            {
                if (count >= max && !evictOne(spec, evicted))
                {
                    break;
                }
                final String file = tag + (++sequence);
                final Spare spare = new Spare(List.copyOf(args), spec, file, runDir.resolve(file + ".qmp"),
                    runDir.resolve(file + ".log"));
                spec.starting.add(spare);
                count++;
                have++;
                toStart.add(spare);
            }
            forgetOld();
        }
        evicted.forEach(this::discard);
        for (final Spare spare : toStart)
        {
            start(spare);
        }
    }

    /** Under the lock: take a ready spare of the least recently used other spec out of the pool. */
    private boolean evictOne(final Spec keep, final List<Spare> evicted)
    {
        for (final Spec spec : specs.values()) // least recently used first
        {
            if (spec != keep && !spec.ready.isEmpty())
            {
                final Spare spare = spec.ready.poll();
                spare.evicted = true;
                processes.remove(spare.process);
                count--;
                evicted.add(spare);
                return true;
            }
        }
        return false;
    }

    /** Under the lock: forget the least recently used specs that have no spare, beyond {@link #MAX_SPECS}. */
    private void forgetOld()
    {
        for (final Iterator<Map.Entry<List<String>, Spec>> it = specs.entrySet().iterator();
            it.hasNext() && specs.size() > MAX_SPECS; )
        {
            final Spec spec = it.next().getValue();
            if (spec.ready.isEmpty() && spec.starting.isEmpty())
            {
                it.remove();
            }
        }
    }

    /** Pool's thread: start one spare; it joins the ready ones, or goes to the take waiting for it. */
    private void start(final Spare spare)
    {
        synchronized (this)
        {
            if (closed)
            {
                dropStarting(spare, false);
                spare.started.complete(null);
                return;
            }
            spare.launching = true;
        }
        QemuVmDriver.Launched launched = null;
        forkLock.lock();
        try
        {
            launched = launcher.launch(spare.file, spare.args, spare.socket, spare.log, process ->
            {
                synchronized (this)
                {
                    spare.process = process;
                    processes.add(process); // close quits it, whatever the start's state
                }
                forkLock.unlock();
            });
        }
        catch (final VmDriverException | RuntimeException ex)
        {
            synchronized (this)
            {
                dropStarting(spare, true);
                if (null != spare.process && QemuVmDriver.exited(spare.process))
                {
                    processes.remove(spare.process); // one killed but not yet gone (interrupted by close) stays for close
                }
            }
            QemuVmDriver.quietDelete(spare.socket);
            QemuVmDriver.quietDelete(spare.log);
            spare.started.complete(null);
            return;
        }
        finally
        {
            if (forkLock.isHeldByCurrentThread())
            {
                forkLock.unlock(); // it failed before its fork
            }
        }
        boolean quit = false;
        synchronized (this)
        {
            final Spec spec = spare.spec;
            spare.client = launched.client();
            spare.events = launched.events();
            spec.starting.remove(spare);
            spec.failures = 0;
            if (closed)
            {
                count--;
                quit = true;
            }
            else if (spare.claimed)
            {
                count--;
                processes.remove(spare.process); // the taker's now
            }
            else
            {
                spec.ready.add(spare);
            }
        }
        if (quit)
        {
            discard(spare);
            spare.started.complete(null);
            return;
        }
        spare.started.complete(spare);
    }

    /** Under the lock: a start that will not give a spare. */
    private void dropStarting(final Spare spare, final boolean failed)
    {
        if (spare.spec.starting.remove(spare))
        {
            count--;
            if (failed)
            {
                spare.spec.failures++;
            }
        }
    }

    /** Quit a spare that no one has, wait for it, delete its files. */
    void discard(final Spare spare)
    {
        synchronized (this)
        {
            if (null != spare.process)
            {
                processes.remove(spare.process);
            }
        }
        if (null != spare.process)
        {
            quitter.quit(spare.process, spare.client);
        }
        else if (null != spare.client)
        {
            spare.client.close();
        }
        QemuVmDriver.quietDelete(spare.socket);
        QemuVmDriver.quietDelete(spare.log);
    }

    /**
     * @return the processes of the spares, ready or starting, not handed out: every one forked before this call
     *         (it waits for a fork in progress), for tests and tools that count QEMU processes.
     */
    List<ProcessHandle> processes()
    {
        forkLock.lock();
        try
        {
            synchronized (this)
            {
                return new ArrayList<>(processes);
            }
        }
        finally
        {
            forkLock.unlock();
        }
    }

    /** @return how many spares are starting (queued or launching). */
    synchronized int starting()
    {
        int starting = 0;
        for (final Spec spec : specs.values())
        {
            starting += spec.starting.size();
        }
        return starting;
    }

    /** @return whether a file name (no extension) is one of this pool's spares. */
    boolean own(final String file)
    {
        return file.startsWith(tag);
    }

    /** Quit every spare, the ones starting included, and wait for each (bounded). Idempotent. */
    @Override
    public void close()
    {
        final List<Spare> ready = new ArrayList<>();
        synchronized (this)
        {
            if (closed)
            {
                return;
            }
            closed = true;
            for (final Spec spec : specs.values())
            {
                ready.addAll(spec.ready);
                spec.ready.clear();
            }
            count = 0;
        }
        thread.shutdownNow(); // a start in progress is interrupted: it kills its process
        try
        {
            thread.awaitTermination(10, TimeUnit.SECONDS);
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
        ready.forEach(this::discard);
        final List<ProcessHandle> left;
        synchronized (this)
        {
            left = new ArrayList<>(processes);
            processes.clear();
        }
        for (final ProcessHandle process : left)
        {
            quitter.quit(process, null); // one whose start was cut short
        }
        // never a glob over this pool's files: a spare handed out is a VM's copy now, its socket in use
    }
}
