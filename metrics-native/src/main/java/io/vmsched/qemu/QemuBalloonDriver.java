package io.vmsched.qemu;

import com.fasterxml.jackson.databind.JsonNode;
import io.vmsched.balloon.BalloonDriver;
import io.vmsched.balloon.BalloonRequest;
import io.vmsched.balloon.BalloonResult;
import io.vmsched.balloon.BalloonResult.Outcome;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Iterator;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The balloon of a QEMU VM (a {@code virtio-balloon} device), driven over its QMP socket: a memory target is
 * QMP's {@code balloon} {@code {"value": bytes}}, then {@code query-balloon}'s {@code actual} is polled until it
 * reaches the target, stops moving, or the request's deadline passes.
 * <p>
 * How a request ends:
 * <ul>
 * <li>{@link Outcome#MET}: {@code actual} reached the target (within one 4 KiB balloon page).</li>
 * <li>{@link Outcome#SHORT}: the guest moved towards the target, then stopped (no change for the settle time) or
 * the deadline passed; the reason says how far it got.</li>
 * <li>{@link Outcome#REFUSED}: nothing moved within the settle time (e.g. "the guest gave 0 of 32 MiB: no guest
 * balloon driver answering", as with no guest OS: the balloon's target is QEMU's, but only the guest's driver
 * gives pages); a request for processors alone ("a hypervisor's balloon has no processors"); a target of 0 or
 * more than the VM's memory ({@code query-memory-size-summary}).</li>
 * <li>{@link Outcome#NO_BALLOON}: QEMU has no balloon device (its {@code DeviceNotActive} error).</li>
 * <li>{@link Outcome#TIMED_OUT}: the deadline passed before anything moved.</li>
 * <li>{@link Outcome#FAILED}: the socket is not there or closed, QEMU answered with another error, the driver
 * closed.</li>
 * </ul>
 * A request that ends short of its target is withdrawn (the balloon's target is set back to what the guest holds)
 * so that a guest does not go on moving after the host counted its answer. A request for memory and processors
 * changes the memory only; its result's processors are -1 (unknown).
 * <p>
 * The guest's own statistics (free memory, caches, swap...) are read with {@link #guestStats()} once
 * {@link #pollGuestStats} asked QEMU to collect them: {@code qom-set} of {@code guest-stats-polling-interval} and
 * {@code qom-get} of {@code guest-stats} on the balloon device's QOM path. That path is found with {@code qom-list}:
 * {@code -device virtio-balloon-pci,id=ID} is {@code /machine/peripheral/ID}, a device without an id is
 * {@code /machine/peripheral-anon/device[N]}; the properties are there (the PCI device forwards them to its
 * {@code virtio-balloon-device}).
 * <p>
 * Threading: one thread of its own per driver, which holds the QMP connection (opened at the first use, opened
 * again after a failure), or, for a VM a {@link QemuVmDriver} holds ({@link #through}), uses that driver's
 * connection (QEMU serves one QMP client per socket). {@link #request}, {@link #guestStats} and {@link #pollGuestStats} never block: they queue
 * work for that thread, which answers in order, each request exactly once. A request made after {@link #close} is
 * answered {@link Outcome#FAILED} at once on the caller's thread (there is no driver thread any more).
 */
public final class QemuBalloonDriver implements BalloonDriver
{
    /** How often {@code query-balloon} is polled while a request is in progress. */
    public static final Duration DEFAULT_POLL = Duration.ofMillis(20);
    /** How long {@code actual} may stay unchanged before the guest is taken to have stopped. */
    public static final Duration DEFAULT_SETTLE = Duration.ofSeconds(1);

    /** A QEMU balloon moves memory in pages of 4 KiB. */
    static final long PAGE = 4096;
    private static final String NO_PROCESSORS = "a hypervisor's balloon has no processors";
    private static final long MIB = 1 << 20;

    private final Path socket;
    private final Opener opener;
    private final Duration timeout;
    private final long pollNs;
    private final long settleNs;
    private final LinkedBlockingQueue<Task> queue = new LinkedBlockingQueue<>();
    private final Object lock = new Object();
    private final Thread thread;
    private volatile boolean closed;

    // the driver thread's only
    private Qmp client;
    private String balloonPath;

    /**
     * A driver with {@link QmpClient#DEFAULT_TIMEOUT}, {@link #DEFAULT_POLL} and {@link #DEFAULT_SETTLE}; see
     * {@link #QemuBalloonDriver(Path, Duration, Duration, Duration)}.
     *
     * @param socket the VM's QMP socket.
     */
    public QemuBalloonDriver(final Path socket)
    {
        this(socket, QmpClient.DEFAULT_TIMEOUT, DEFAULT_POLL, DEFAULT_SETTLE);
    }

    /**
     * Start the driver's thread. Does not connect: the first request or statistics call does, on that thread.
     *
     * @param socket  the VM's QMP socket ({@code -qmp unix:PATH,server=on,wait=off}).
     * @param timeout the deadline of each QMP command, positive.
     * @param poll    the interval between {@code query-balloon}s while a request is in progress, positive.
     * @param settle  how long {@code actual} may stay unchanged before the guest is taken to have stopped, positive.
     * @throws IllegalArgumentException with a one-line message if a duration is not positive.
     */
    public QemuBalloonDriver(final Path socket, final Duration timeout, final Duration poll, final Duration settle)
    {
        this(Objects.requireNonNull(socket, "socket"), () -> new OwnClient(QmpClient.connect(socket, timeout)), timeout,
            poll, settle);
    }

    /**
     * The balloon of a VM that {@code driver} holds (adopted, or its incoming copy), over the driver's own QMP
     * connection to it: QEMU serves one QMP client per socket, so a second one would wait for a greeting that never
     * comes. Closing this driver leaves that connection to its VM driver. Calls the VM driver on this driver's
     * thread only; the VM driver serialises them with its own.
     *
     * @param driver the VM driver holding the VM.
     * @param vm     its handle.
     * @return the balloon driver, with {@link #DEFAULT_POLL} and {@link #DEFAULT_SETTLE}; connects nothing yet.
     */
    public static QemuBalloonDriver through(final QemuVmDriver driver, final io.vmsched.vm.VmHandle vm)
    {
        Objects.requireNonNull(driver, "driver");
        Objects.requireNonNull(vm, "vm");
        return new QemuBalloonDriver(vm.control(), () -> new DriverConnection(driver, vm), QmpClient.DEFAULT_TIMEOUT,
            DEFAULT_POLL, DEFAULT_SETTLE);
    }

    private QemuBalloonDriver(final Path socket, final Opener opener, final Duration timeout, final Duration poll,
        final Duration settle)
    {
        this.socket = socket;
        this.opener = opener;
        this.timeout = positive("timeout", timeout);
        this.pollNs = positive("poll", poll).toNanos();
        this.settleNs = positive("settle", settle).toNanos();
        this.thread = new Thread(this::run, "qemu-balloon-" + socket.getFileName());
        this.thread.setDaemon(true);
        this.thread.start();
    }

    /** @return the QMP socket this driver talks to. */
    public Path socket()
    {
        return socket;
    }

    /**
     * Ask the balloon for the request's memory target; the answer comes on the driver's thread. Never blocks.
     *
     * @param request the targets.
     * @param done    told the result once, on the driver's thread (on the caller's if the driver is closed).
     */
    @Override
    public void request(final BalloonRequest request, final Consumer<BalloonResult> done)
    {
        final RequestTask task = new RequestTask(request, done);
        if (!enqueue(task))
        {
            task.fail("the driver is closed");
        }
    }

    /**
     * Ask QEMU to collect the guest's statistics every {@code interval} (whole seconds; 0 stops it): QOM property
     * {@code guest-stats-polling-interval} of the balloon device. Never blocks.
     *
     * @param interval how often the guest is asked, at least 0 s, whole seconds.
     * @return completed on the driver's thread when QEMU accepted it; failed with a one-line {@link IOException} if
     *         there is no balloon device, QEMU refused it, the socket failed, or the driver closed.
     */
    public CompletableFuture<Void> pollGuestStats(final Duration interval)
    {
        if (interval.isNegative() || interval.toNanos() % TimeUnit.SECONDS.toNanos(1) != 0)
        {
            return CompletableFuture.failedFuture(new IllegalArgumentException(
                "the guest statistics' polling interval must be whole seconds, at least 0, got " + interval));
        }
        return call(c ->
        {
            c.execute("qom-set", Map.of("path", balloonPath(c), "property", "guest-stats-polling-interval",
                "value", interval.toSeconds()));
            return null;
        });
    }

    /**
     * Read the guest's statistics as QEMU last collected them: QOM property {@code guest-stats} of the balloon
     * device. Never blocks. Without {@link #pollGuestStats} having been set, or without a guest driver answering,
     * {@link GuestStats#lastUpdate()} is 0 and no statistic is reported.
     *
     * @return completed on the driver's thread with the statistics; failed with a one-line {@link IOException} if
     *         there is no balloon device, QEMU refused it, the socket failed, or the driver closed.
     */
    public CompletableFuture<GuestStats> guestStats()
    {
        return call(c -> GuestStats.of(c.execute("qom-get", Map.of("path", balloonPath(c), "property", "guest-stats"))));
    }

    /**
     * Stop the driver's thread and close its QMP connection; a request in progress and the requests queued are
     * answered {@link Outcome#FAILED}, pending statistics calls fail. Waits up to a few seconds for the thread.
     * Idempotent.
     */
    @Override
    public void close()
    {
        synchronized (lock)
        {
            if (closed)
            {
                return;
            }
            closed = true;
        }
        thread.interrupt();
        if (Thread.currentThread() != thread)
        {
            try
            {
                thread.join(timeout.toMillis() + 5_000);
            }
            catch (final InterruptedException ex)
            {
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * The guest's statistics, as QEMU's virtio-balloon reports them. Immutable.
     *
     * @param lastUpdate when the guest last reported them, seconds since the epoch; 0 if it never did.
     * @param stats      each statistic the guest reported (e.g. {@code stat-free-memory}, {@code
     *                   stat-disk-caches}, bytes or counts as QEMU documents), by name; those the guest did not
     *                   report (QEMU's all-ones value) are left out.
     */
    public record GuestStats(long lastUpdate, Map<String, Long> stats)
    {
        /** Copies the map. */
        public GuestStats
        {
            stats = Map.copyOf(stats);
        }

        static GuestStats of(final JsonNode value)
        {
            final Map<String, Long> stats = new TreeMap<>();
            for (final Iterator<Map.Entry<String, JsonNode>> it = value.path("stats").fields(); it.hasNext(); )
            {
                final Map.Entry<String, JsonNode> e = it.next();
                // an unsigned 64-bit all-ones is QEMU's "not reported"; Jackson reads it as a BigInteger
                if (e.getValue().canConvertToLong() && e.getValue().asLong() >= 0)
                {
                    stats.put(e.getKey(), e.getValue().asLong());
                }
            }
            return new GuestStats(value.path("last-update").asLong(), stats);
        }
    }

    // ---------------------------------------------------------------- the driver's thread

    private interface Task
    {
        void run();

        void fail(String reason);
    }

    @FunctionalInterface
    private interface QmpCall<T>
    {
        T apply(Qmp client) throws IOException;
    }

    /** The QMP commands this driver sends, over its own client or a VM driver's connection. */
    private interface Qmp
    {
        JsonNode execute(String command) throws IOException;

        JsonNode execute(String command, Map<String, ?> arguments) throws IOException;

        /** Forget the events read so far (the balloon's BALLOON_CHANGE says what query-balloon says). */
        void takeEvents();

        void close();
    }

    @FunctionalInterface
    private interface Opener
    {
        Qmp open() throws IOException;
    }

    private record OwnClient(QmpClient client) implements Qmp
    {
        @Override
        public JsonNode execute(final String command) throws IOException
        {
            return client.execute(command);
        }

        @Override
        public JsonNode execute(final String command, final Map<String, ?> arguments) throws IOException
        {
            return client.execute(command, arguments);
        }

        @Override
        public void takeEvents()
        {
            client.takeEvents();
        }

        @Override
        public void close()
        {
            client.close();
        }
    }

    /** A VM driver's connection: its events are its own (it keeps a bounded number), and it stays open here. */
    private record DriverConnection(QemuVmDriver driver, io.vmsched.vm.VmHandle vm) implements Qmp
    {
        @Override
        public JsonNode execute(final String command) throws IOException
        {
            return execute(command, null);
        }

        @Override
        public JsonNode execute(final String command, final Map<String, ?> arguments) throws IOException
        {
            try
            {
                return driver.execute(vm, command, arguments);
            }
            catch (final io.vmsched.vm.VmDriverException ex)
            {
                if (ex.getCause() instanceof QmpException refused)
                {
                    throw refused; // QEMU's error reply (e.g. DeviceNotActive): the connection is fine
                }
                throw new IOException(ex.getMessage(), ex);
            }
        }

        @Override
        public void takeEvents()
        {
        }

        @Override
        public void close()
        {
        }
    }

    private boolean enqueue(final Task task)
    {
        synchronized (lock) // so that close's final drain sees every task queued before it
        {
            if (closed)
            {
                return false;
            }
            queue.add(task);
            return true;
        }
    }

    private <T> CompletableFuture<T> call(final QmpCall<T> call)
    {
        final CompletableFuture<T> future = new CompletableFuture<>();
        final Task task = new Task()
        {
            @Override
            public void run()
            {
                try
                {
                    future.complete(call.apply(connected()));
                }
                catch (final IOException ex)
                {
                    dropClientUnlessRefused(ex);
                    future.completeExceptionally(closed ? new IOException("the driver closed", ex) : ex);
                }
            }

            @Override
            public void fail(final String reason)
            {
                future.completeExceptionally(new IOException(reason));
            }
        };
        if (!enqueue(task))
        {
            task.fail("the driver is closed");
        }
        return future;
    }

    private void run()
    {
        try
        {
            while (!closed)
            {
                final Task task;
                try
                {
                    task = queue.take();
                }
                catch (final InterruptedException ex)
                {
                    break; // close
                }
                task.run();
            }
        }
        finally
        {
            Thread.interrupted(); // the close's interrupt may still be set
            for (Task task = queue.poll(); null != task; task = queue.poll())
            {
                task.fail("the driver closed");
            }
            dropClient();
        }
    }

    private Qmp connected() throws IOException
    {
        if (closed)
        {
            throw new IOException("the driver closed");
        }
        if (null == client)
        {
            client = opener.open();
            balloonPath = null;
        }
        return client;
    }

    private void dropClientUnlessRefused(final IOException ex)
    {
        if (!(ex instanceof QmpException)) // an error reply leaves the connection as it was
        {
            dropClient();
        }
    }

    private void dropClient()
    {
        if (null != client)
        {
            client.close();
            client = null;
        }
    }

    private String balloonPath(final Qmp c) throws IOException
    {
        if (null == balloonPath)
        {
            for (final String parent : new String[] {"/machine/peripheral", "/machine/peripheral-anon"})
            {
                for (final JsonNode child : c.execute("qom-list", Map.of("path", parent)))
                {
                    if (child.path("type").asText().startsWith("child<virtio-balloon"))
                    {
                        balloonPath = parent + "/" + child.path("name").asText();
                        return balloonPath;
                    }
                }
            }
            throw new IOException(socket + ": no virtio-balloon device under /machine/peripheral or /machine/peripheral-anon");
        }
        return balloonPath;
    }

    private final class RequestTask implements Task
    {
        private final BalloonRequest request;
        private final Consumer<BalloonResult> done;
        private boolean answered;

        RequestTask(final BalloonRequest request, final Consumer<BalloonResult> done)
        {
            this.request = request;
            this.done = done;
        }

        @Override
        public void run()
        {
            try
            {
                serve();
            }
            catch (final QmpException ex)
            {
                if ("DeviceNotActive".equals(ex.errorClass()))
                {
                    answer(Outcome.NO_BALLOON, -1, "QEMU has no balloon device: " + ex.description());
                }
                else
                {
                    answer(Outcome.FAILED, -1, ex.getMessage());
                }
            }
            catch (final IOException ex)
            {
                dropClient();
                answer(Outcome.FAILED, -1, closed ? "the driver closed" : ex.getMessage());
            }
            catch (final RuntimeException ex)
            {
                dropClient();
                answer(Outcome.FAILED, -1, "the driver failed: " + ex);
            }
        }

        @Override
        public void fail(final String reason)
        {
            answer(Outcome.FAILED, -1, reason);
        }

        private void serve() throws IOException
        {
            final long target = request.memoryBytes();
            if (target == BalloonRequest.UNCHANGED)
            {
                answer(Outcome.REFUSED, -1, NO_PROCESSORS);
                return;
            }
            if (System.nanoTime() - request.deadlineNs() >= 0)
            {
                answer(Outcome.TIMED_OUT, -1, "the deadline passed before the driver got to the request");
                return;
            }
            final Qmp c = connected();
            final long before = actual(c);
            final JsonNode memory = c.execute("query-memory-size-summary");
            final long ram = memory.path("base-memory").asLong() + memory.path("plugged-memory").asLong();
            if (target == 0)
            {
                answer(Outcome.REFUSED, before, "a QEMU balloon cannot take all of a VM's memory (target 0 bytes)");
                return;
            }
            if (target > ram)
            {
                answer(Outcome.REFUSED, before, "target " + mib(target) + " is more than the VM's " + mib(ram) + " of memory");
                return;
            }
            if (Math.abs(before - target) < PAGE)
            {
                answer(Outcome.MET, before, "");
                return;
            }
            c.execute("balloon", Map.of("value", target));
            long last = before;
            long lastChange = System.nanoTime();
            while (true)
            {
                final long now = System.nanoTime();
                final long wait = Math.min(pollNs, request.deadlineNs() - now);
                if (wait > 0)
                {
                    sleep(wait);
                }
                final long actual = actual(c);
                c.takeEvents(); // BALLOON_CHANGE says what query-balloon says: keep the client's list short
                if (Math.abs(actual - target) < PAGE)
                {
                    answer(Outcome.MET, actual, "");
                    return;
                }
                final long at = System.nanoTime();
                if (actual != last)
                {
                    last = actual;
                    lastChange = at;
                }
                final boolean stalled = at - lastChange >= settleNs;
                final boolean late = at - request.deadlineNs() >= 0;
                if (stalled || late)
                {
                    end(c, before, actual, target, stalled);
                    return;
                }
            }
        }

        /** Short of the target: say how far the guest got, and withdraw the rest of the request. */
        private void end(final Qmp c, final long before, final long actual, final long target, final boolean stalled)
            throws IOException
        {
            final boolean inflate = target < before;
            final long asked = Math.abs(before - target);
            final long moved = inflate ? before - actual : actual - before;
            String reason = "the guest " + (inflate ? "gave " : "took back ") + mibNumber(Math.max(0, moved)) + " of " +
                mib(asked) + (stalled ? " and stopped" : " by the deadline");
            final Outcome outcome;
            if (moved > 0)
            {
                outcome = Outcome.SHORT;
            }
            else if (stalled)
            {
                outcome = Outcome.REFUSED;
                reason = "the guest " + (inflate ? "gave " : "took back ") + "0 of " + mib(asked) +
                    " in " + TimeUnit.NANOSECONDS.toMillis(settleNs) + " ms: no guest balloon driver answering";
            }
            else
            {
                outcome = Outcome.TIMED_OUT;
                reason = "no change of the balloon before the deadline (asked " + mib(asked) + ")";
            }
            try
            {
                c.execute("balloon", Map.of("value", actual));
            }
            catch (final QmpException ex)
            {
                reason += "; the rest could not be withdrawn: " + ex.getMessage();
            }
            answer(outcome, actual, reason);
        }

        private void answer(final Outcome outcome, final long memoryBytes, final String reason)
        {
            if (answered)
            {
                return;
            }
            answered = true;
            try
            {
                done.accept(new BalloonResult(request.requestId(), request.vmId(), outcome, memoryBytes, -1, reason));
            }
            catch (final RuntimeException ex)
            {
                // the caller's callback failed: its problem, not the next request's
            }
        }
    }

    private static long actual(final Qmp c) throws IOException
    {
        final JsonNode actual = c.execute("query-balloon").get("actual");
        if (null == actual || !actual.canConvertToLong())
        {
            throw new IOException("query-balloon answered without a number for actual");
        }
        return actual.asLong();
    }

    private void sleep(final long ns) throws IOException
    {
        try
        {
            TimeUnit.NANOSECONDS.sleep(ns);
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
            throw new IOException("the driver closed");
        }
    }

    private static String mib(final long bytes)
    {
        return mibNumber(bytes) + " MiB";
    }

    private static String mibNumber(final long bytes)
    {
        return bytes % MIB == 0 ? Long.toString(bytes / MIB) : String.format(Locale.ROOT, "%.1f", bytes / (double)MIB);
    }

    private static Duration positive(final String what, final Duration d)
    {
        if (d.isNegative() || d.isZero())
        {
            throw new IllegalArgumentException("the balloon driver's " + what + " must be positive, got " + d);
        }
        return d;
    }
}
