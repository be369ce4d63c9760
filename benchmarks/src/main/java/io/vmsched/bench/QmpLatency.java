package io.vmsched.bench;

import com.fasterxml.jackson.databind.JsonNode;
import io.vmsched.balloon.BalloonRequest;
import io.vmsched.balloon.BalloonResult;
import io.vmsched.qemu.QemuBalloonDriver;
import io.vmsched.qemu.QmpClient;
import org.HdrHistogram.Histogram;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * QMP round trips to a real QEMU ({@code qemu-system-x86_64 -M q35 -m 64 -nodefaults -nographic -display none
 * -device virtio-balloon-pci}, no guest OS, TCG), through {@link QmpClient} and {@link QemuBalloonDriver}:
 * <ul>
 * <li>baseline 1: a 40-byte line echoed over a plain Unix socket by a thread of this JVM (blocking channels);</li>
 * <li>baseline 2: {@link QmpClient#execute} against a QMP stand-in in this JVM that answers each command at once
 * (the client's own cost: Jackson, ids, the selector);</li>
 * <li>{@code query-balloon} and {@code balloon} (alternately 32 and 64 MiB) to QEMU: QEMU's main loop takes the
 * command, runs it, answers;</li>
 * <li>a {@link QemuBalloonDriver} request whose target the VM already holds, from {@code request} to the result on
 * the caller's side: the handoff to the driver's thread, {@code query-balloon}, {@code query-memory-size-summary},
 * and the handoff back (a target that moves ends when the guest has moved or stopped, which without a guest OS
 * is the driver's settle time, not a latency).</li>
 * </ul>
 * Prints p50, p90, p99, p99.9 and max in µs (HdrHistogram, 3 significant digits) after a warm-up.
 * <p>
 * {@code java -cp benchmarks/target/benchmarks.jar io.vmsched.bench.QmpLatency [--ops N] [--warmup N]}: defaults
 * 10,000 ops, 2,000 warm-up ops. Without a {@code qemu-system-x86_64} on the PATH or in /usr/bin the baselines run
 * and the QEMU rows say why they are missing. Bad arguments: one line on stderr, exit code 2; a failure: exit code 1.
 */
public final class QmpLatency
{
    private static final String QEMU = "qemu-system-x86_64";
    private static final long MIB = 1 << 20;
    private static final LatencyTable TABLE = new LatencyTable(44, 50, 90, 99, 99.9);

    private QmpLatency()
    {
    }

    /**
     * @param args the options.
     */
    public static void main(final String[] args)
    {
        int ops = 10_000;
        int warmup = 2_000;
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
                    case "--ops" -> ops = positive(args[i], args[i + 1]);
                    case "--warmup" -> warmup = positive(args[i], args[i + 1]);
                    default -> throw new IllegalArgumentException("unknown option " + args[i] + " (expected --ops, --warmup)");
                }
            }
        }
        catch (final IllegalArgumentException ex)
        {
            System.err.println("QmpLatency: " + ex.getMessage());
            System.exit(2);
            return;
        }
        System.out.printf(Locale.ROOT, "QMP round trips over Unix sockets, %d ops after %d warm-up ops, %d cores; µs%n",
            ops, warmup, Runtime.getRuntime().availableProcessors());
        TABLE.printHeader();
        Path dir = null;
        Process qemu = null;
        try
        {
            dir = Files.createTempDirectory("vmsched-qmp-bench-");
            TABLE.printRow("unix socket echo (40 B line)", echo(dir.resolve("echo.sock"), warmup, ops));
            TABLE.printRow("QmpClient.execute, in-JVM stand-in", standIn(dir.resolve("standin.sock"), warmup, ops));
            final String binary = qemu();
            if (null == binary)
            {
                System.out.println("(no " + QEMU + " on the PATH or in /usr/bin: the QEMU rows are skipped; " +
                    "Debian's package is qemu-system-x86)");
                return;
            }
            final Path socket = dir.resolve("qemu.sock");
            qemu = new ProcessBuilder(binary, "-M", "q35", "-m", "64", "-nodefaults", "-nographic", "-display", "none",
                "-device", "virtio-balloon-pci,id=balloon0", "-qmp", "unix:" + socket + ",server=on,wait=off")
                .redirectErrorStream(true).redirectOutput(dir.resolve("qemu.log").toFile()).start();
            awaitSocket(qemu, socket);
            try (QmpClient qmp = QmpClient.connect(socket))
            {
                System.out.println("(QEMU " + qmp.qemuVersion() + ")");
                TABLE.printRow("QEMU query-balloon", qmpRoundTrips(qmp, warmup, ops, i -> qmp.execute("query-balloon")));
                TABLE.printRow("QEMU balloon (32/64 MiB)", qmpRoundTrips(qmp, warmup, ops,
                    i -> qmp.execute("balloon", Map.of("value", (i & 1) == 0 ? 32 * MIB : 64 * MIB))));
                qmp.execute("balloon", Map.of("value", 64 * MIB));
            }
            try (QemuBalloonDriver driver = new QemuBalloonDriver(socket))
            {
                TABLE.printRow("QemuBalloonDriver request, target held", driverRoundTrips(driver, warmup, ops));
            }
        }
        catch (final IOException | RuntimeException ex)
        {
            System.err.println("QmpLatency: " + ex.getMessage());
            System.exit(1);
        }
        finally
        {
            if (null != qemu)
            {
                qemu.destroyForcibly();
                try
                {
                    qemu.waitFor(10, TimeUnit.SECONDS);
                }
                catch (final InterruptedException ex)
                {
                    Thread.currentThread().interrupt();
                }
            }
            delete(dir);
        }
    }

    @FunctionalInterface
    private interface Call
    {
        JsonNode run(int i) throws IOException;
    }

    private static Histogram qmpRoundTrips(final QmpClient qmp, final int warmup, final int ops, final Call call) throws IOException
    {
        final Histogram histogram = new Histogram(3);
        for (int i = 0; i < warmup + ops; i++)
        {
            final long start = System.nanoTime();
            call.run(i);
            final long took = System.nanoTime() - start;
            if (i >= warmup)
            {
                histogram.recordValue(took);
            }
        }
        return histogram;
    }

    private static Histogram driverRoundTrips(final QemuBalloonDriver driver, final int warmup, final int ops)
    {
        final Histogram histogram = new Histogram(3);
        for (int i = 0; i < warmup + ops; i++)
        {
            final CompletableFuture<BalloonResult> done = new CompletableFuture<>();
            final long start = System.nanoTime();
            driver.request(new BalloonRequest(i, 1, 64 * MIB, BalloonRequest.UNCHANGED, start + TimeUnit.SECONDS.toNanos(10)),
                done::complete);
            final BalloonResult result = done.join();
            final long took = System.nanoTime() - start;
            if (result.outcome() != BalloonResult.Outcome.MET)
            {
                throw new IllegalStateException("driver request " + i + ": " + result);
            }
            if (i >= warmup)
            {
                histogram.recordValue(took);
            }
        }
        return histogram;
    }

    /** Baseline 1: a line echoed by a thread of this JVM over a plain Unix socket. */
    private static Histogram echo(final Path path, final int warmup, final int ops) throws IOException
    {
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX))
        {
            server.bind(UnixDomainSocketAddress.of(path));
            final Thread echo = serve(server, (in, out) ->
            {
                for (String line = in.readLine(); null != line; line = in.readLine())
                {
                    out.write((line + "\n").getBytes(StandardCharsets.UTF_8));
                    out.flush();
                }
            });
            try (SocketChannel client = SocketChannel.open(UnixDomainSocketAddress.of(path)))
            {
                final ByteBuffer message = ByteBuffer.wrap("{\"execute\":\"query-balloon\",\"id\":123456}\n"
                    .getBytes(StandardCharsets.US_ASCII));
                final ByteBuffer reply = ByteBuffer.allocate(message.capacity());
                final Histogram histogram = new Histogram(3);
                for (int i = 0; i < warmup + ops; i++)
                {
                    final long start = System.nanoTime();
                    message.clear();
                    while (message.hasRemaining())
                    {
                        client.write(message);
                    }
                    reply.clear();
                    while (reply.hasRemaining())
                    {
                        if (client.read(reply) < 0)
                        {
                            throw new IOException("the echo closed");
                        }
                    }
                    final long took = System.nanoTime() - start;
                    if (i >= warmup)
                    {
                        histogram.recordValue(took);
                    }
                }
                return histogram;
            }
            finally
            {
                join(echo);
            }
        }
    }

    /** Baseline 2: {@link QmpClient} against a stand-in that greets like QEMU and answers every command at once. */
    private static Histogram standIn(final Path path, final int warmup, final int ops) throws IOException
    {
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX))
        {
            server.bind(UnixDomainSocketAddress.of(path));
            final Thread standIn = serve(server, (in, out) ->
            {
                out.write(("{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, \"minor\": 0, \"major\": 0}, \"package\": \"\"}, " +
                    "\"capabilities\": []}}\n").getBytes(StandardCharsets.UTF_8));
                out.flush();
                for (String line = in.readLine(); null != line; line = in.readLine())
                {
                    final int at = line.indexOf("\"id\":");
                    final String id = line.substring(at + 5, line.indexOf('}', at));
                    out.write(("{\"return\": {\"actual\": 67108864}, \"id\": " + id + "}\n").getBytes(StandardCharsets.UTF_8));
                    out.flush();
                }
            });
            try (QmpClient qmp = QmpClient.connect(path))
            {
                return qmpRoundTrips(qmp, warmup, ops, i -> qmp.execute("query-balloon"));
            }
            finally
            {
                join(standIn);
            }
        }
    }

    @FunctionalInterface
    private interface Script
    {
        void run(BufferedReader in, OutputStream out) throws IOException;
    }

    private static Thread serve(final ServerSocketChannel server, final Script script)
    {
        final Thread thread = new Thread(() ->
        {
            try (SocketChannel c = server.accept())
            {
                script.run(new BufferedReader(new InputStreamReader(Channels.newInputStream(c), StandardCharsets.UTF_8)),
                    Channels.newOutputStream(c));
            }
            catch (final IOException ex)
            {
                // the client closed: the run is over
            }
        }, "qmp-bench-server");
        thread.setDaemon(true);
        thread.start();
        return thread;
    }

    private static void join(final Thread thread)
    {
        try
        {
            thread.join(10_000);
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
    }


    private static void awaitSocket(final Process qemu, final Path socket) throws IOException
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!Files.exists(socket) || !io.vmsched.qemu.QemuProcesses.accepts(socket)) // QEMU binds a moment before it listens
        {
            if (!qemu.isAlive())
            {
                throw new IOException("QEMU exited with " + qemu.exitValue() + " before its QMP socket was there");
            }
            if (System.nanoTime() - deadline > 0)
            {
                throw new IOException("QEMU's QMP socket " + socket + " takes no connection within 30 s");
            }
            try
            {
                qemu.waitFor(10, TimeUnit.MILLISECONDS);
            }
            catch (final InterruptedException ex)
            {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted", ex);
            }
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

    private static int positive(final String option, final String value)
    {
        try
        {
            final int n = Integer.parseInt(value);
            if (n > 0)
            {
                return n;
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
        final File[] files = dir.toFile().listFiles();
        for (final File f : null == files ? new File[0] : files)
        {
            f.delete();
        }
        dir.toFile().delete();
    }
}
