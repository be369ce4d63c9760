package io.vmsched.bench;

import io.vmsched.cluster.Cluster;
import io.vmsched.cluster.ClusterConfig;
import io.vmsched.cluster.ClusterListener;
import io.vmsched.journal.AbortReason;
import io.vmsched.metrics.VmDriverTimes;
import io.vmsched.qemu.QemuProcesses;
import io.vmsched.qemu.QemuVmDriver;
import io.vmsched.qemu.QmpClient;
import io.vmsched.vm.MigrationStatus;
import org.HdrHistogram.Histogram;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * What vmsched adds to a QEMU live migration: an embedded 2-host cluster, each host with its own
 * {@link QemuVmDriver}, one tiny VM (no guest OS) adopted on host 0 and moved back and forth by
 * {@link Cluster#migrate}, one migration at a time (the next once the source's copy has quit). Per migration,
 * from {@link ClusterListener#onLiveMigration} and {@link ClusterListener#onMigrated}: QEMU's {@code total-time}
 * and {@code downtime}, and vmsched's overhead, the handoff's duration (MIGRATION_INTENT to COMMITTED at the
 * source) less QEMU's total time. The overhead is split by the driver calls' times ({@link VmDriverTimes}) into:
 * <ol>
 * <li>the intent to the target's {@code prepareIncoming} (journal, the spec's transfer);</li>
 * <li>{@code prepareIncoming}: a spare of the target's taken ({@code migrate-incoming} and the port), or without
 * one the target's incoming copy starting (a QEMU process, its QMP socket, the port);</li>
 * <li>the copy listening to the source's {@code migrate} (the PREPARED message, the source's agent and driver
 * thread);</li>
 * <li>{@code migrate} called to the source's driver seeing the migration COMPLETED, less QEMU's total time (the
 * QMP round trips, QEMU's {@code MIGRATION} event);</li>
 * <li>COMPLETED seen to the target's driver seeing its copy hold the VM, paused (QEMU loading the state it
 * received, its event);</li>
 * <li>the copy seen holding the VM to the commit (ACTIVATED journaled, {@code cont}, the ack, the source's copy
 * quit, COMMITTED).</li>
 * </ol>
 * Two more rows: the overhead less the copy's start, and less its loading too (what is left: vmsched's journal
 * records, messages, agents and polls). And two by QEMU's own clock ({@link QemuVmDriver#migrationEndMicros}, the
 * timestamps of the {@code MIGRATION} events that ended it on each side): how long after the source's QEMU said
 * COMPLETED the target's did, and the overhead less that (the time vmsched adds to QEMU's span from the source's
 * start to the target's end); and, mapping the driver calls' times onto that clock, how long after QEMU's event
 * each side's driver call returned with it (the event read, then the query that confirms it).
 * Prints p50, p90, p99 and max in ms (HdrHistogram, 3 significant digits; {@link LatencyTable#millis}), and the
 * machine's load average before and after.
 * <p>
 * Each host's driver keeps {@code --spares} spare incoming copies of the VM's spec (the driver's default, 1; 0 for
 * none, the copy then starts in {@code prepareIncoming}). A spare handed out is replaced once its copy runs: the
 * next migration waits until no spare is starting on either host, as it would not on two machines (both hosts
 * share this one's cores), and the output says how many preparations took a spare.
 * <p>
 * {@code java @scheduler-core/target/classes/META-INF/vmsched/jvm.options -cp benchmarks/target/benchmarks.jar
 * io.vmsched.bench.QemuHandoffOverhead [--n 20] [--warmup 2] [--memory-mib 64] [--spares 1]}: N recorded migrations
 * after W unrecorded ones. Needs {@code qemu-system-x86_64} on the PATH or in /usr/bin. Bad arguments or no QEMU: one
 * line on stderr, exit code 2; a failure: exit code 1. Every QEMU it started, or a driver started, is killed at the
 * end (found by their sockets under its temporary directory).
 */
public final class QemuHandoffOverhead
{
    private static final long MIGRATION_WAIT_S = 120;

    /** A committed live migration as the listener saw it, or an abort's reason. */
    private record Outcome(MigrationStatus status, long durationNs, long commitNs, String aborted)
    {
    }

    private QemuHandoffOverhead()
    {
    }

    /**
     * @param args the options.
     */
    public static void main(final String[] args)
    {
        int n = 20;
        int warmup = 2;
        int memoryMib = 64;
        int spares = QemuVmDriver.DEFAULT_SPARES_PER_SPEC;
        final Path binary = QemuProcesses.binary();
        try
        {
            for (int i = 0; i < args.length; i += 2)
            {
                if (i + 1 >= args.length)
                {
                    throw new IllegalArgumentException("option " + args[i] + " needs a value");
                }
                switch (args[i])
                {
                    case "--n" -> n = atLeast(args[i], args[i + 1], 1);
                    case "--warmup" -> warmup = atLeast(args[i], args[i + 1], 0);
                    case "--memory-mib" -> memoryMib = atLeast(args[i], args[i + 1], 32);
                    case "--spares" -> spares = atLeast(args[i], args[i + 1], 0);
                    default -> throw new IllegalArgumentException("unknown option " + args[i] +
                        " (expected --n, --warmup, --memory-mib, --spares)");
                }
            }
            if (null == binary)
            {
                throw new IllegalArgumentException(QemuProcesses.missing());
            }
        }
        catch (final IllegalArgumentException ex)
        {
            System.err.println("QemuHandoffOverhead: " + ex.getMessage());
            System.exit(2);
            return;
        }

        Path dir = null;
        int status = 0;
        try
        {
            dir = Files.createTempDirectory("vmsched-qho-");
            run(binary, dir, n, warmup, memoryMib, spares);
        }
        catch (final IOException | RuntimeException ex)
        {
            System.err.println("QemuHandoffOverhead: " + ex.getMessage());
            status = 1;
        }
        finally
        {
            if (null != dir)
            {
                QemuProcesses.killUnder(dir);
                delete(dir);
            }
        }
        System.exit(status);
    }

    private static void run(final Path binary, final Path dir, final int n, final int warmup, final int memoryMib,
        final int spares) throws IOException
    {
        final String loadBefore = loadAverage();
        final VmDriverTimes times = new VmDriverTimes();
        final BlockingQueue<Outcome> outcomes = new LinkedBlockingQueue<>();
        final Map<Long, MigrationStatus> live = new java.util.concurrent.ConcurrentHashMap<>();
        final java.util.List<String> errors = new java.util.concurrent.CopyOnWriteArrayList<>();
        final ClusterConfig config = ClusterConfig.of(2, dir.resolve("data"));
        config.host.balancing = false;
        final QemuVmDriver[] drivers = new QemuVmDriver[2];
        config.host.vmDriver = h -> times.wrap(drivers[h] = new QemuVmDriver(dir.resolve("h" + h),
            QemuVmDriver.DEFAULT_BIND, io.vmsched.qemu.QmpClient.DEFAULT_TIMEOUT, QemuVmDriver.DEFAULT_START_TIMEOUT,
            QemuVmDriver.DEFAULT_QUIT_TIMEOUT, spares, QemuVmDriver.DEFAULT_MAX_SPARES));
        config.listener = new ClusterListener()
        {
            @Override
            public void onLiveMigration(final long vmId, final int source, final int target, final MigrationStatus status)
            {
                live.put(vmId, status);
            }

            @Override
            public void onMigrated(final long vmId, final int source, final int target, final long durationNs)
            {
                outcomes.add(new Outcome(live.remove(vmId), durationNs, System.nanoTime(), null));
            }

            @Override
            public void onAborted(final long vmId, final int source, final int target, final AbortReason code,
                final String reason)
            {
                outcomes.add(new Outcome(null, 0, 0, reason));
            }

            @Override
            public void onError(final int host, final Throwable error)
            {
                errors.add("host " + host + ": " + error.getMessage());
            }
        };

        final Histogram total = new Histogram(3);
        final Histogram downtime = new Histogram(3);
        final Histogram overhead = new Histogram(3);
        final Histogram toPrepare = new Histogram(3);
        final Histogram prepare = new Histogram(3);
        final Histogram toMigrate = new Histogram(3);
        final Histogram toCompleted = new Histogram(3);
        final Histogram toRunning = new Histogram(3);
        final Histogram toCommit = new Histogram(3);
        final Histogram toRetire = new Histogram(3);
        final Histogram retire = new Histogram(3);
        final Histogram retiredToCommit = new Histogram(3);
        final Histogram lessCopy = new Histogram(3);
        final Histogram own = new Histogram(3);
        final Histogram qemuLag = new Histogram(3);
        final Histogram sourceTold = new Histogram(3);
        final Histogram targetTold = new Histogram(3);
        final Histogram lessQemu = new Histogram(3);
        int lagBelowZero = 0;
        int noTimestamps = 0;
        int clamped = 0;
        int tookSpare = 0;

        final Process vm = QemuProcesses.startTiny(binary, dir.resolve("vm.qmp"), dir.resolve("vm.log"), memoryMib,
            Duration.ofSeconds(30));
        try (Cluster cluster = Cluster.start(config))
        {
            cluster.adoptVm(0, 1, "vm", dir.resolve("vm.qmp"), vm.pid());
            await("the VM adopted on host 0", () -> Integer.valueOf(0).equals(cluster.placement().get(1L)), 30);
            int at = 0;
            for (int i = 0; i < warmup + n; i++)
            {
                final int target = 1 - at;
                final int source = at;
                final java.util.List<ProcessHandle> sparesBefore = drivers[target].spares();
                cluster.migrate(1, target);
                final Outcome outcome;
                try
                {
                    outcome = outcomes.poll(MIGRATION_WAIT_S, TimeUnit.SECONDS);
                }
                catch (final InterruptedException ex)
                {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted");
                }
                if (null == outcome)
                {
                    throw new IllegalStateException("migration " + i + " not over within " + MIGRATION_WAIT_S + " s");
                }
                if (null != outcome.aborted() || null == outcome.status())
                {
                    throw new IllegalStateException("migration " + i + " aborted: " + outcome.aborted());
                }
                at = target;
                // the source's copy quits after the commit, and its driver forgets it: then the next migration
                // (a driver still removing the copy refuses a new one of the same name)
                final long migrateStart = times.last("vm").migrateStartNs();
                final int index = i;
                await(() -> "the source's copy removed after migration " + index + " (QEMU processes: " +
                    QemuProcesses.under(dir).size() + ", spares " + drivers[0].spares() + " " + drivers[1].spares() +
                    ", driver times " + times.last("vm") + ", errors " + errors + ")",
                    () -> times.last("vm").removedNs() - migrateStart > 0 && vmProcesses(dir, drivers) == 1 &&
                        // retired and forgotten: its driver has asked for the spare the next migration back takes
                        drivers[0].retiring().isEmpty() && drivers[1].retiring().isEmpty() &&
                        (spares == 0 || drivers[1 - target].spares().size() >= 1) &&
                        drivers[0].sparesStarting() == 0 && drivers[1].sparesStarting() == 0, 30);
                if (i < warmup)
                {
                    continue;
                }
                // a spare there before that is neither a spare now nor dead was handed out: the copy
                final java.util.List<ProcessHandle> sparesAfter = drivers[target].spares();
                if (sparesBefore.stream().anyMatch(p -> p.isAlive() && !sparesAfter.contains(p)))
                {
                    tookSpare++;
                }
                final MigrationStatus s = outcome.status();
                final long totalNs = s.totalTimeMs() * 1_000_000L;
                final VmDriverTimes.Times t = times.last("vm");
                final long intentNs = outcome.commitNs() - outcome.durationNs();
                total.recordValue(totalNs);
                downtime.recordValue(Math.max(0, s.downtimeMs()) * 1_000_000L);
                final long over = outcome.durationNs() - totalNs;
                final long completed = t.completedNs() - t.migrateStartNs() - totalNs;
                if (over < 0 || completed < 0)
                {
                    clamped++;
                }
                overhead.recordValue(Math.max(0, over));
                toPrepare.recordValue(Math.max(0, t.prepareStartNs() - intentNs));
                prepare.recordValue(Math.max(0, t.prepareNs()));
                toMigrate.recordValue(Math.max(0, t.migrateStartNs() - t.prepareEndNs()));
                toCompleted.recordValue(Math.max(0, completed));
                toRunning.recordValue(Math.max(0, t.runningNs() - t.completedNs()));
                toCommit.recordValue(Math.max(0, outcome.commitNs() - Math.max(t.runningNs(), t.completedNs())));
                final long retireStart = times.lastRemoveStartNs("vm");
                toRetire.recordValue(Math.max(0, retireStart - Math.max(t.runningNs(), t.completedNs())));
                retire.recordValue(Math.max(0, t.removedNs() - retireStart));
                retiredToCommit.recordValue(Math.max(0, outcome.commitNs() - t.removedNs()));
                lessCopy.recordValue(Math.max(0, over - t.prepareNs()));
                own.recordValue(Math.max(0, over - t.prepareNs() - Math.max(0, t.runningNs() - t.completedNs())));
                // QEMU's own clock: the target's MIGRATION event (completed) after the source's
                final long sourceEnd = drivers[source].migrationEndMicros("vm");
                final long targetEnd = drivers[target].migrationEndMicros("vm");
                if (sourceEnd > 0 && targetEnd > 0)
                {
                    final long lagNs = (targetEnd - sourceEnd) * 1_000L;
                    // QEMU's clock is this machine's wall clock: map the driver calls' nanoTime onto it
                    final long epochNowUs = ChronoUnit.MICROS.between(Instant.EPOCH, Instant.now());
                    final long nowNs = System.nanoTime();
                    sourceTold.recordValue(Math.max(0, (epochNowUs - (nowNs - t.completedNs()) / 1_000 - sourceEnd) * 1_000));
                    targetTold.recordValue(Math.max(0, (epochNowUs - (nowNs - t.runningNs()) / 1_000 - targetEnd) * 1_000));
                    qemuLag.recordValue(Math.max(0, lagNs));
                    lessQemu.recordValue(Math.max(0, over - Math.max(0, lagNs)));
                    if (lagNs < 0)
                    {
                        lagBelowZero++;
                    }
                }
                else
                {
                    noTimestamps++;
                }
            }
        }
        finally
        {
            vm.destroyForcibly();
        }
        System.out.printf(Locale.ROOT, "vmsched's overhead on a QEMU live migration: an embedded 2-host cluster, a %d MiB " +
            "VM (no guest OS) moved back and forth by Cluster.migrate, %d migrations (after %d unrecorded), %d cores; " +
            "load average %s before, %s after; ms%n", memoryMib, n, warmup, Runtime.getRuntime().availableProcessors(),
            loadBefore, loadAverage());
        final Bare bare = bare(binary, dir.resolve("bare"), n, warmup, memoryMib);
        final LatencyTable table = LatencyTable.millis(62, 50, 90, 99);
        table.printHeader();
        table.printRow("QEMU total-time", total);
        table.printRow("QEMU downtime", downtime);
        table.printRow("vmsched overhead (intent to commit less total-time)", overhead);
        table.printRow("  intent to prepareIncoming (journal, transfer)", toPrepare);
        table.printRow("  prepareIncoming (a spare's migrate-incoming, or a start)", prepare);
        table.printRow("  copy listening to migrate (PREPARED, source)", toMigrate);
        table.printRow("  migrate to COMPLETED seen, less total-time", toCompleted);
        table.printRow("  COMPLETED seen to the target's copy seen holding it", toRunning);
        table.printRow("  seen holding it to the commit (ACTIVATED, cont, ack, quit)", toCommit);
        table.printRow("    seen holding it to the source's retire (ACTIVATED, the ack)", toRetire);
        table.printRow("    the source's retire (QEMU accepts quit)", retire);
        table.printRow("    retired to COMMITTED seen by the listener", retiredToCommit);
        table.printRow("vmsched overhead less the copy's start", lessCopy);
        table.printRow("  and less the copy's loading (journal, messages, polls)", own);
        table.printRow("QEMU: the target's end after the source's (QEMU's events)", qemuLag);
        table.printRow("vmsched overhead less that (after QEMU's whole span)", lessQemu);
        table.printRow("  QEMU's end to the source's driver told (event, query)", sourceTold);
        table.printRow("  QEMU's end to the target's driver told (event, query)", targetTold);
        System.out.printf(Locale.ROOT, "%d of %d preparations took a spare (--spares %d)%n", tookSpare, n, spares);
        System.out.printf(Locale.ROOT, "Baseline, the same run: %d migrations (after %d) of the same VM between two QEMU " +
            "processes driven by bare QMP from one thread, no vmsched (migrate-incoming and query-migrate, migrate, " +
            "QEMU's end events on both sides, query-status, cont, quit sent)%n", n, warmup);
        table.printRow("QEMU total-time", bare.total);
        table.printRow("bare QMP overhead (migrate-incoming to quit sent less total-time)", bare.overhead);
        table.printRow("QEMU: the target's end after the source's (QEMU's events)", bare.lag);
        table.printRow("bare QMP overhead less that", bare.lessLag);
        System.out.printf(Locale.ROOT, "vmsched overhead / bare QMP overhead: p50 %.2f, p99 %.2f%n",
            ratio(overhead, bare.overhead, 50), ratio(overhead, bare.overhead, 99));
        if (lagBelowZero > 0 || noTimestamps > 0)
        {
            System.out.printf(Locale.ROOT, "(QEMU's events: the target's end before the source's in %d migrations, " +
                "counted as 0; no timestamps in %d)%n", lagBelowZero, noTimestamps);
        }
        if (clamped > 0)
        {
            System.out.printf(Locale.ROOT, "(%d migrations had a part below 0 ms, counted as 0: QEMU's total-time is in " +
                "whole ms)%n", clamped);
        }
    }

    /** The baseline's figures, ns. */
    private record Bare(Histogram total, Histogram overhead, Histogram lag, Histogram lessLag)
    {
    }

    private static double ratio(final Histogram a, final Histogram b, final double percentile)
    {
        return (double)a.getValueAtPercentile(percentile) / Math.max(1, b.getValueAtPercentile(percentile));
    }

    /**
     * The baseline: what the least QMP orchestration adds to QEMU's total-time on this machine. Two QEMU processes of
     * the same VM, the target started ahead (untimed, as a spare is) with {@code -S -incoming defer}; timed from
     * {@code migrate-incoming} to the source's {@code quit} sent: the steps vmsched's driver makes between them, from
     * one thread, with nothing else (no journal, no messages, no agents).
     */
    private static Bare bare(final Path binary, final Path dir, final int n, final int warmup, final int memoryMib)
        throws IOException
    {
        Files.createDirectories(dir);
        final Bare bare = new Bare(new Histogram(3), new Histogram(3), new Histogram(3), new Histogram(3));
        final Duration timeout = Duration.ofSeconds(30);
        Path sourceSocket = dir.resolve("s0.qmp");
        Process source = QemuProcesses.startTiny(binary, sourceSocket, dir.resolve("s0.log"), memoryMib, timeout);
        QmpClient sourceClient = QmpClient.connect(sourceSocket, timeout);
        events(sourceClient);
        try
        {
            for (int i = 0; i < warmup + n; i++)
            {
                final Path targetSocket = dir.resolve("s" + ((i + 1) % 2) + ".qmp");
                Files.deleteIfExists(targetSocket);
                final Process target = new ProcessBuilder(binary.toString(), "-M", "q35", "-m",
                    Integer.toString(memoryMib), "-nodefaults", "-nographic", "-display", "none", "-qmp",
                    "unix:" + targetSocket + ",server=on,wait=off", "-S", "-incoming", "defer")
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("target.log").toFile()))
                    .redirectErrorStream(true).start();
                await("the baseline's target QEMU listening on " + targetSocket,
                    () -> Files.exists(targetSocket) && QemuProcesses.accepts(targetSocket), 30);
                final QmpClient targetClient = QmpClient.connect(targetSocket, timeout);
                events(targetClient);

                final long start = System.nanoTime();
                final long incoming = targetClient.send("migrate-incoming", Map.of("uri", "tcp:127.0.0.1:0"));
                final long query = targetClient.send("query-migrate");
                targetClient.awaitReply("migrate-incoming", incoming, timeout);
                final String port = targetClient.awaitReply("query-migrate", query, timeout).path("socket-address")
                    .path(0).path("port").asText("");
                sourceClient.takeEvents();
                sourceClient.execute("migrate", Map.of("uri", "tcp:127.0.0.1:" + port));
                final long sourceEnd = awaitEnd(sourceClient, timeout);
                final long totalMs = sourceClient.execute("query-migrate").path("total-time").asLong(-1);
                final long targetEnd = awaitEnd(targetClient, timeout);
                targetClient.execute("query-status");
                targetClient.execute("cont");
                final long quit = sourceClient.send("quit");
                final long tookNs = System.nanoTime() - start;

                try
                {
                    sourceClient.awaitReply("quit", quit, timeout);
                }
                catch (final IOException ex)
                {
                    // QEMU may close the socket before its answer
                }
                sourceClient.close();
                if (!source.waitFor(30, TimeUnit.SECONDS))
                {
                    source.destroyForcibly();
                }
                source = target;
                sourceClient = targetClient;
                sourceSocket = targetSocket;
                if (i < warmup || totalMs < 0)
                {
                    continue;
                }
                final long overNs = Math.max(0, tookNs - totalMs * 1_000_000L);
                final long lagNs = Math.max(0, (targetEnd - sourceEnd) * 1_000L);
                bare.total.recordValue(totalMs * 1_000_000L);
                bare.overhead.recordValue(overNs);
                bare.lag.recordValue(lagNs);
                bare.lessLag.recordValue(Math.max(0, overNs - lagNs));
            }
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted");
        }
        finally
        {
            sourceClient.close();
            source.destroyForcibly();
        }
        return bare;
    }

    private static void events(final QmpClient client) throws IOException
    {
        client.execute("migrate-set-capabilities", Map.of("capabilities",
            java.util.List.of(Map.of("capability", "events", "state", true))));
    }

    /** @return QEMU's timestamp (µs since the epoch) of the MIGRATION event that says it completed. */
    private static long awaitEnd(final QmpClient client, final Duration timeout) throws IOException
    {
        while (true)
        {
            final com.fasterxml.jackson.databind.JsonNode event = client.awaitEvent("MIGRATION", timeout);
            final String status = event.path("data").path("status").asText("");
            if ("completed".equals(status))
            {
                final com.fasterxml.jackson.databind.JsonNode at = event.path("timestamp");
                return at.path("seconds").asLong() * 1_000_000L + at.path("microseconds").asLong();
            }
            if ("failed".equals(status) || "cancelled".equals(status))
            {
                throw new IllegalStateException("a baseline migration ended " + status);
            }
        }
    }

    /** @return the QEMU processes under the directory that are no driver's spares: the VM's copies. */
    private static long vmProcesses(final Path dir, final QemuVmDriver[] drivers)
    {
        final java.util.List<ProcessHandle> all = QemuProcesses.under(dir);
        final java.util.List<ProcessHandle> spares = new java.util.ArrayList<>(drivers[0].spares());
        spares.addAll(drivers[1].spares()); // after the scan: it misses none forked before
        return all.stream().filter(p -> !spares.contains(p)).count();
    }

    private interface Condition
    {
        boolean holds();
    }

    private static void await(final String what, final Condition condition, final int seconds)
    {
        await(() -> what, condition, seconds);
    }

    private static void await(final java.util.function.Supplier<String> what, final Condition condition,
        final int seconds)
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (!condition.holds())
        {
            if (System.nanoTime() - deadline > 0)
            {
                throw new IllegalStateException("not within " + seconds + " s: " + what.get());
            }
            LockSupport.parkNanos(2_000_000L);
        }
    }

    private static String loadAverage()
    {
        try
        {
            final String[] fields = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
            return fields[0] + "/" + fields[1] + "/" + fields[2];
        }
        catch (final IOException | RuntimeException ex)
        {
            return "unknown";
        }
    }

    private static int atLeast(final String option, final String value, final int min)
    {
        try
        {
            final int v = Integer.parseInt(value.strip());
            if (v >= min)
            {
                return v;
            }
        }
        catch (final NumberFormatException ex)
        {
            // fall through to the one-line error
        }
        throw new IllegalArgumentException(option + " " + value + ": expected an integer of at least " + min);
    }

    private static void delete(final Path dir)
    {
        try (var files = Files.walk(dir))
        {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
        catch (final IOException ex)
        {
            // a temporary directory: nothing left to tell
        }
    }
}
