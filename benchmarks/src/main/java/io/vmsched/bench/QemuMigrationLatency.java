package io.vmsched.bench;

import com.fasterxml.jackson.databind.JsonNode;
import io.vmsched.qemu.QemuVmDriver;
import io.vmsched.vm.MigrationState;
import io.vmsched.vm.MigrationStatus;
import io.vmsched.vm.VmDriverException;
import io.vmsched.vm.VmHandle;
import io.vmsched.vm.VmState;
import org.HdrHistogram.Histogram;

import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * Live migration of real QEMU VMs through {@link QemuVmDriver}, on this machine (source and target on loopback):
 * for each VM size, a VM is started and adopted, then migrated N times back and forth (2N migrations), each to a
 * fresh incoming copy ({@link QemuVmDriver#prepareIncoming}) whose source is then removed, as vmsched's handoff
 * does. QEMU 7.2's default migration parameters (its {@code query-migrate-parameters} are printed: max-bandwidth
 * 128 MiB/s, downtime-limit 300 ms).
 * <p>
 * Rows per size and RAM content, in ms: QEMU's own {@code total-time} and {@code downtime} ({@code query-migrate}
 * once completed), and, measured here, the start of an incoming copy ({@code prepareIncoming}: process start to
 * the port learnt) and the driver's view of a migration ({@code migrate} until {@code migration} says COMPLETED,
 * polled every 5 ms). The RAM is:
 * <ul>
 * <li>{@code zero}: no guest OS touches it, so QEMU sends each page as a zero-page marker of a few bytes;</li>
 * <li>{@code filled}: backed by a private mapping of a file of random bytes ({@code -object memory-backend-file,
 * share=off}), so every page is sent whole, as for a guest that used all its memory (the VM does not dirty it
 * again: one pass).</li>
 * </ul>
 * Prints p50, p90, p99 and max (HdrHistogram, 3 significant digits) and the median of MiB transferred.
 * <p>
 * {@code java -cp benchmarks/target/benchmarks.jar io.vmsched.bench.QemuMigrationLatency [--n N] [--sizes
 * 64,256,1024] [--ram zero,filled]}: defaults 10 round trips, those sizes (MiB), both kinds of RAM. Needs
 * {@code qemu-system-x86_64} on the PATH or in /usr/bin and twice the largest size in memory (plus the file in
 * the temporary directory). Bad arguments or no QEMU: one line on stderr, exit code 2; a failure: exit code 1.
 */
public final class QemuMigrationLatency
{
    private static final String QEMU = "qemu-system-x86_64";
    private static final long MIB = 1 << 20;
    private static final long DEADLINE_NS = TimeUnit.MINUTES.toNanos(5);

    private QemuMigrationLatency()
    {
    }

    /**
     * @param args the options.
     */
    public static void main(final String[] args)
    {
        int n = 10;
        List<Integer> sizes = List.of(64, 256, 1024);
        List<String> rams = List.of("zero", "filled");
        final String binary = qemu();
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
                    case "--n" -> n = positive(args[i], args[i + 1]);
                    case "--sizes" ->
                    {
                        final List<Integer> s = new ArrayList<>();
                        for (final String size : args[i + 1].split(","))
                        {
                            s.add(positive(args[i], size));
                        }
                        sizes = s;
                    }
                    case "--ram" ->
                    {
                        rams = List.of(args[i + 1].split(","));
                        for (final String ram : rams)
                        {
                            if (!"zero".equals(ram) && !"filled".equals(ram))
                            {
                                throw new IllegalArgumentException("--ram " + args[i + 1] + ": expected zero, filled or both");
                            }
                        }
                    }
                    default -> throw new IllegalArgumentException("unknown option " + args[i] + " (expected --n, --sizes, --ram)");
                }
            }
            if (null == binary)
            {
                throw new IllegalArgumentException("no " + QEMU + " on the PATH or in /usr/bin (Debian's package is qemu-system-x86)");
            }
        }
        catch (final IllegalArgumentException ex)
        {
            System.err.println("QemuMigrationLatency: " + ex.getMessage());
            System.exit(2);
            return;
        }

        System.out.printf(Locale.ROOT, "QEMU live migration over loopback, %d round trips (%d migrations) per row, %d cores; ms%n",
            n, 2 * n, Runtime.getRuntime().availableProcessors());
        System.out.printf(Locale.ROOT, "%-44s %9s %9s %9s %9s%n", "", "p50", "p90", "p99", "max");
        Path dir = null;
        try
        {
            dir = Files.createTempDirectory("vmsched-migr-");
            boolean first = true;
            for (final int size : sizes)
            {
                for (final String ram : rams)
                {
                    run(binary, dir, size, ram, n, first);
                    first = false;
                }
            }
        }
        catch (final IOException | VmDriverException | RuntimeException ex)
        {
            System.err.println("QemuMigrationLatency: " + ex.getMessage());
            System.exit(1);
        }
        finally
        {
            delete(dir);
        }
    }

    private static void run(final String binary, final Path dir, final int sizeMib, final String ram, final int n,
        final boolean printParameters) throws IOException, VmDriverException
    {
        final String name = "vm" + sizeMib + ram.charAt(0);
        final Path socket = dir.resolve(name + ".sock");
        final List<String> command = new ArrayList<>(List.of(binary, "-M", "q35", "-m", Integer.toString(sizeMib),
            "-nodefaults", "-nographic", "-display", "none"));
        Path fill = null;
        if ("filled".equals(ram))
        {
            fill = dir.resolve(name + ".ram");
            fill(fill, sizeMib * MIB);
            command.set(2, "q35,memory-backend=ram0");
            command.addAll(List.of("-object", "memory-backend-file,id=ram0,size=" + sizeMib + "M,mem-path=" + fill +
                ",share=off"));
        }
        command.addAll(List.of("-qmp", "unix:" + socket + ",server=on,wait=off"));
        final Process source = new ProcessBuilder(command).redirectErrorStream(true)
            .redirectOutput(dir.resolve(name + ".log").toFile()).start();
        final Histogram total = new Histogram(3);
        final Histogram downtime = new Histogram(3);
        final Histogram prepare = new Histogram(3);
        final Histogram driverView = new Histogram(3);
        final Histogram transferred = new Histogram(3);
        // handles, not pids: a handle kills only the process it was taken from, never a later one with its pid
        final List<ProcessHandle> started = new ArrayList<>(List.of(source.toHandle()));
        // no spares: the prepareIncoming column is a copy's start (QemuHandoffOverhead measures the spares)
        try (QemuVmDriver driver = new QemuVmDriver(dir.resolve("run"), QemuVmDriver.DEFAULT_BIND,
            io.vmsched.qemu.QmpClient.DEFAULT_TIMEOUT, QemuVmDriver.DEFAULT_START_TIMEOUT, QemuVmDriver.DEFAULT_QUIT_TIMEOUT,
            0, 0))
        {
            VmHandle vm = adopt(driver, name, socket, source);
            if (printParameters)
            {
                final JsonNode p = driver.execute(vm, "query-migrate-parameters", null);
                final JsonNode v = driver.execute(vm, "query-version", null).path("qemu");
                System.out.printf(Locale.ROOT, "(QEMU %d.%d.%d, TCG; max-bandwidth %d MiB/s, downtime-limit %d ms)%n",
                    v.path("major").asInt(), v.path("minor").asInt(), v.path("micro").asInt(),
                    p.path("max-bandwidth").asLong() / MIB, p.path("downtime-limit").asLong());
            }
            for (int i = 0; i < 2 * n; i++)
            {
                final long prepareStart = System.nanoTime();
                final VmHandle target = driver.prepareIncoming(name + "-" + i, vm.spec());
                prepare.recordValue(TimeUnit.NANOSECONDS.toMicros(System.nanoTime() - prepareStart));
                ProcessHandle.of(target.pid()).ifPresent(started::add);

                final long start = System.nanoTime();
                driver.migrate(vm, target.incomingUri());
                MigrationStatus status = driver.migration(vm);
                while (!status.state().isFinal())
                {
                    if (System.nanoTime() - start > DEADLINE_NS)
                    {
                        throw new IllegalStateException(name + ": migration " + i + " not over within 5 minutes: " + status);
                    }
                    sleepMillis(5);
                    status = driver.migration(vm);
                }
                final long seen = System.nanoTime() - start;
                if (status.state() != MigrationState.COMPLETED)
                {
                    throw new IllegalStateException(name + ": migration " + i + " ended " + status);
                }
                driverView.recordValue(TimeUnit.NANOSECONDS.toMicros(seen));
                total.recordValue(status.totalTimeMs() * 1000);
                downtime.recordValue(status.downtimeMs() * 1000);
                transferred.recordValue(Math.max(1, status.transferredBytes() / 1024));
                awaitPaused(driver, target);
                driver.resume(target); // an incoming copy waits, paused, to be let run
                driver.remove(vm);
                vm = target;
            }
            driver.remove(vm);
        }
        finally
        {
            started.forEach(ProcessHandle::destroyForcibly);
            if (null != fill)
            {
                Files.deleteIfExists(fill);
            }
        }
        final String row = sizeMib + " MiB " + ram;
        print(row + ": total-time (QEMU)", total);
        print(row + ": downtime (QEMU)", downtime);
        print(row + ": migrate to COMPLETED seen", driverView);
        print(row + ": prepareIncoming", prepare);
        System.out.printf(Locale.ROOT, "%-44s %9.1f MiB transferred (p50)%n", row + ":", transferred.getValueAtPercentile(50) / 1024.0);
    }

    private static VmHandle adopt(final QemuVmDriver driver, final String name, final Path socket, final Process source)
        throws VmDriverException, IOException
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (true)
        {
            if (!source.isAlive())
            {
                throw new IOException("QEMU exited with " + source.exitValue() + " before its QMP socket took a connection");
            }
            if (Files.exists(socket))
            {
                try
                {
                    return driver.adopt(name, socket, source.pid());
                }
                catch (final VmDriverException ex)
                {
                    // bound, not yet listening: look again until the deadline
                    if (System.nanoTime() - deadline > 0)
                    {
                        throw ex;
                    }
                }
            }
            if (System.nanoTime() - deadline > 0)
            {
                throw new IOException("QEMU's QMP socket " + socket + " not there within 30 s");
            }
            sleepMillis(10);
        }
    }

    private static void awaitPaused(final QemuVmDriver driver, final VmHandle vm) throws VmDriverException
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        VmState state = driver.state(vm);
        while (state.kind() != VmState.Kind.PAUSED)
        {
            if (System.nanoTime() - deadline > 0)
            {
                throw new IllegalStateException(vm.name() + " does not hold the VM 30 s after its migration: " + state);
            }
            sleepMillis(5);
            state = driver.state(vm);
        }
    }

    /** A file of random bytes: the pages of a guest that used all its memory. */
    private static void fill(final Path file, final long bytes) throws IOException
    {
        final Random random = new Random(42);
        final byte[] block = new byte[(int)MIB];
        try (OutputStream out = Files.newOutputStream(file))
        {
            for (long written = 0; written < bytes; written += block.length)
            {
                random.nextBytes(block);
                out.write(block);
            }
        }
    }

    private static void sleepMillis(final long ms)
    {
        try
        {
            TimeUnit.MILLISECONDS.sleep(ms);
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted");
        }
    }

    private static String qemu()
    {
        for (final String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator))
        {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, QEMU)))
            {
                return Path.of(dir, QEMU).toString();
            }
        }
        return Files.isExecutable(Path.of("/usr/bin", QEMU)) ? "/usr/bin/" + QEMU : null;
    }

    /** One row, µs recorded, ms printed. */
    private static void print(final String what, final Histogram h)
    {
        System.out.printf(Locale.ROOT, "%-44s %9.1f %9.1f %9.1f %9.1f%n", what, h.getValueAtPercentile(50) / 1e3,
            h.getValueAtPercentile(90) / 1e3, h.getValueAtPercentile(99) / 1e3, h.getMaxValue() / 1e3);
    }

    private static int positive(final String option, final String value)
    {
        try
        {
            final int v = Integer.parseInt(value.strip());
            if (v > 0)
            {
                return v;
            }
        }
        catch (final NumberFormatException ex)
        {
            // fall through to the one-line error
        }
        throw new IllegalArgumentException(option + " " + value + ": expected a positive integer");
    }

    private static void delete(final Path dir)
    {
        if (null == dir)
        {
            return;
        }
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
