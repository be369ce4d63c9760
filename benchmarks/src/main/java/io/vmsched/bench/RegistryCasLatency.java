package io.vmsched.bench;

import io.aeron.Aeron;
import io.aeron.Publication;
import io.aeron.Subscription;
import io.aeron.driver.MediaDriver;
import io.aeron.driver.ThreadingMode;
import io.aeron.logbuffer.FragmentHandler;
import io.vmsched.aeron.registry.RegistryClient;
import io.vmsched.aeron.registry.RegistryMember;
import io.vmsched.aeron.registry.RegistryStatus;
import io.vmsched.load.HostCapacity;
import org.HdrHistogram.Histogram;
import org.agrona.CloseHelper;
import org.agrona.IoUtil;
import org.agrona.concurrent.IdleStrategy;
import org.agrona.concurrent.UnsafeBuffer;

import java.io.File;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The registry's owner compare-and-set, round trip from a {@link RegistryClient}: send the CAS, the
 * leader appends it to the log, a majority of members has it (1 of 1, 2 of 3), the service applies it,
 * the reply comes back on the client's egress. Each op is a source's reclaim of one VM, {@code CAS(vm,
 * expect (self, e), set (self, e + 1))}, so every op succeeds and the epoch counts them.
 * <p>
 * In the same run, the baseline: an Aeron ping-pong round trip of a 48-byte message (a CAS's size)
 * between two Aeron clients, each on its own media driver set up as a registry member's (SHARED
 * threading, a backoff idle strategy parking up to 1 ms, 64 KiB terms), over UDP loopback, the echo
 * side idling as the members' agents do. The registry's members run in this JVM (each its own driver,
 * ports and directories), so a 3-member figure includes 3 members' agents sharing the machine's cores.
 * <p>
 * Prints p50, p90, p99 and max in µs (HdrHistogram, 3 significant digits) after a warm-up.
 * <p>
 * {@code java @scheduler-core/target/classes/META-INF/vmsched/jvm.options -cp benchmarks/target/benchmarks.jar
 * io.vmsched.bench.RegistryCasLatency [--members 1|3|1,3] [--ops N] [--warmup N]}: defaults 1,3 members,
 * 10,000 ops, 2,000 warm-up ops. Bad arguments: one line on stderr, exit code 2; a failed CAS or a
 * deadline missed: exit code 1.
 */
public final class RegistryCasLatency
{
    private static final int MESSAGE_LENGTH = 48;
    private static final int PING_STREAM = 1001;
    private static final int PONG_STREAM = 1002;
    private static final long CONNECT_DEADLINE_NS = TimeUnit.SECONDS.toNanos(60);
    private static final long ROUND_TRIP_DEADLINE_NS = TimeUnit.SECONDS.toNanos(10);
    private static final HostCapacity CAPACITY = new HostCapacity(2, 1, 1e8, 4e9);
    private static final LatencyTable TABLE = new LatencyTable(28, 50, 90, 99);

    private RegistryCasLatency()
    {
    }

    /** The run's settings, from the command line. */
    static final class Options
    {
        final List<Integer> members = new ArrayList<>(List.of(1, 3));
        int ops = 10_000;
        int warmup = 2_000;
    }

    /**
     * @param args the options.
     */
    public static void main(final String[] args)
    {
        final Options options;
        try
        {
            options = parse(args);
        }
        catch (final IllegalArgumentException ex)
        {
            System.err.println("RegistryCasLatency: " + ex.getMessage());
            System.exit(2);
            return;
        }
        System.out.printf(Locale.ROOT, "round trips on UDP loopback, %d ops after %d warm-up ops, %d cores; µs%n",
            options.ops, options.warmup, Runtime.getRuntime().availableProcessors());
        TABLE.printHeader();
        try
        {
            TABLE.printRow("aeron ping-pong (48 B)", pingPong(options));
            for (final int members : options.members)
            {
                TABLE.printRow("registry CAS, " + members + (members == 1 ? " member" : " members"), cas(options, members));
            }
        }
        catch (final IllegalStateException | IOException ex)
        {
            System.err.println("RegistryCasLatency: " + ex.getMessage());
            System.exit(1);
        }
    }

    static Options parse(final String[] args)
    {
        final Options options = new Options();
        for (int i = 0; i < args.length; i++)
        {
            final String arg = args[i];
            if (i + 1 >= args.length)
            {
                throw new IllegalArgumentException("option " + arg + " needs a value");
            }
            final String value = args[++i];
            switch (arg)
            {
                case "--members":
                    options.members.clear();
                    for (final String m : value.split(","))
                    {
                        if (!m.equals("1") && !m.equals("3"))
                        {
                            throw new IllegalArgumentException("--members " + value + ": expected 1, 3 or 1,3");
                        }
                        options.members.add(Integer.parseInt(m));
                    }
                    break;
                case "--ops":
                    options.ops = positive(arg, value);
                    break;
                case "--warmup":
                    options.warmup = positive(arg, value);
                    break;
                default:
                    throw new IllegalArgumentException("unknown option " + arg + " (expected --members, --ops, --warmup)");
            }
        }
        return options;
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

    private static IdleStrategy idle()
    {
        return io.vmsched.dispatch.Idle.messages(); // as the registry's agents and client
    }

    private static MediaDriver driver(final String name)
    {
        return MediaDriver.launch(new MediaDriver.Context()
            .aeronDirectoryName(io.aeron.CommonContext.getAeronDirectoryName() + "-vmsched-bench-" + name + "-" + UUID.randomUUID())
            .dirDeleteOnStart(true)
            .dirDeleteOnShutdown(true)
            .threadingMode(ThreadingMode.SHARED)
            .sharedIdleStrategy(idle())
            .termBufferSparseFile(true)
            .publicationTermBufferLength(64 * 1024)
            .ipcTermBufferLength(64 * 1024)
            .printConfigurationOnStart(false));
    }

    static Histogram pingPong(final Options options) throws IOException
    {
        return pingPong(options.warmup, options.ops);
    }

    /**
     * The baseline: Aeron ping-pong round trips of a 48-byte message between two clients, each on its own
     * media driver set up as a registry member's, over UDP loopback.
     *
     * @param warmup round trips not recorded first.
     * @param ops    round trips recorded.
     * @return their latencies, ns.
     * @throws IOException if no free port is found.
     * @throws IllegalStateException if a round trip misses its deadline.
     */
    static Histogram pingPong(final int warmup, final int ops) throws IOException
    {
        final String ping = "aeron:udp?endpoint=127.0.0.1:" + io.vmsched.aeron.LoopbackPorts.freeUdpPort() + "|term-length=64k";
        final String pong = "aeron:udp?endpoint=127.0.0.1:" + io.vmsched.aeron.LoopbackPorts.freeUdpPort() + "|term-length=64k";
        final Histogram histogram = new Histogram(3);
        final AtomicBoolean running = new AtomicBoolean(true);
        MediaDriver pingDriver = null;
        MediaDriver pongDriver = null;
        Aeron pingAeron = null;
        Aeron pongAeron = null;
        Thread echo = null;
        try
        {
            pingDriver = driver("ping");
            pongDriver = driver("pong");
            pingAeron = Aeron.connect(new Aeron.Context().aeronDirectoryName(pingDriver.aeronDirectoryName()));
            pongAeron = Aeron.connect(new Aeron.Context().aeronDirectoryName(pongDriver.aeronDirectoryName()));
            final Subscription echoIn = pongAeron.addSubscription(ping, PING_STREAM);
            final Publication echoOut = pongAeron.addExclusivePublication(pong, PONG_STREAM);
            final Publication pingOut = pingAeron.addExclusivePublication(ping, PING_STREAM);
            final Subscription pongIn = pingAeron.addSubscription(pong, PONG_STREAM);
            echo = new Thread(() -> echo(echoIn, echoOut, running), "echo");
            echo.start();
            final long connectDeadline = System.nanoTime() + CONNECT_DEADLINE_NS;
            while (!pingOut.isConnected() || !echoOut.isConnected() || !pongIn.isConnected())
            {
                deadline(connectDeadline, "ping-pong: not connected");
                sleep();
            }
            final UnsafeBuffer message = new UnsafeBuffer(ByteBuffer.allocateDirect(MESSAGE_LENGTH));
            final long[] received = {0};
            final FragmentHandler onPong = (buffer, offset, length, header) -> received[0] = buffer.getLong(offset);
            final IdleStrategy idle = idle();
            for (int i = 0; i < warmup + ops; i++)
            {
                message.putLong(0, i);
                final long start = System.nanoTime();
                final long deadline = start + ROUND_TRIP_DEADLINE_NS;
                idle.reset();
                while (pingOut.offer(message, 0, MESSAGE_LENGTH) < 0)
                {
                    deadline(deadline, "ping-pong: ping " + i + " not sent");
                    idle.idle();
                }
                idle.reset();
                while (received[0] != i)
                {
                    final int fragments = pongIn.poll(onPong, 1);
                    if (0 == fragments)
                    {
                        deadline(deadline, "ping-pong: no pong for ping " + i);
                    }
                    idle.idle(fragments);
                }
                if (i >= warmup)
                {
                    histogram.recordValue(System.nanoTime() - start);
                }
            }
            return histogram;
        }
        finally
        {
            running.set(false);
            if (null != echo)
            {
                try
                {
                    echo.join(10_000);
                }
                catch (final InterruptedException ex)
                {
                    Thread.currentThread().interrupt();
                }
            }
            CloseHelper.quietCloseAll(pingAeron, pongAeron, pingDriver, pongDriver);
        }
    }

    private static void echo(final Subscription in, final Publication out, final AtomicBoolean running)
    {
        final IdleStrategy idle = idle();
        final FragmentHandler handler = (buffer, offset, length, header) ->
        {
            // the pinger waits for this one: retry until it is taken, while the run goes on
            while (out.offer(buffer, offset, length) < 0 && running.get())
            {
                Thread.onSpinWait();
            }
        };
        while (running.get())
        {
            idle.idle(in.poll(handler, 16));
        }
    }

    static Histogram cas(final Options options, final int memberCount) throws IOException
    {
        final File dataDir = Files.createTempDirectory("vmsched-registry-bench-").toFile();
        final List<RegistryMember> members = new ArrayList<>();
        RegistryClient client = null;
        try
        {
            final int base = io.vmsched.aeron.LoopbackPorts.freeUdpPorts(memberCount * RegistryMember.PORTS_PER_MEMBER);
            final StringBuilder list = new StringBuilder();
            for (int id = 0; id < memberCount; id++)
            {
                list.append(id == 0 ? "" : ",").append(id).append("=127.0.0.1:").append(base + id * RegistryMember.PORTS_PER_MEMBER);
            }
            final byte[] secret = new byte[32]; // authenticated as a deployment is (the handshake only: the CAS is not)
            new java.security.SecureRandom().nextBytes(secret);
            for (int id = 0; id < memberCount; id++)
            {
                members.add(RegistryMember.launch(new RegistryMember.Context()
                    .secret(secret)
                    .memberId(id)
                    .members(list.toString())
                    .dataDir(new File(dataDir, "member-" + id))
                    .log(line -> quiet(line))));
            }
            client = RegistryClient.connect(new RegistryClient.Context()
                .secret(secret)
                .members(members.get(0).ingressEndpoints())
                .connectTimeout(60, TimeUnit.SECONDS)
                .callTimeout(30, TimeUnit.SECONDS)
                .log(line -> System.err.println("RegistryCasLatency: " + line)));
            return casRoundTrips(client, "bench", 1, options.warmup, options.ops);
        }
        finally
        {
            CloseHelper.quietClose(client);
            for (int i = members.size() - 1; i >= 0; i--)
            {
                CloseHelper.quietClose(members.get(i));
            }
            IoUtil.delete(dataDir, true);
        }
    }

    /**
     * Owner compare-and-set round trips from a connected client: it registers under a name, admits a VM,
     * then reclaims it {@code warmup + ops} times, {@code CAS(vm, (self, e) -> (self, e + 1))}.
     *
     * @param client a connected client of a running registry (its own, or another process's).
     * @param name   the name it registers under (a node of that name appears in the registry's directory).
     * @param vm     a VM id no one else uses.
     * @param warmup CAS not recorded first.
     * @param ops    CAS recorded.
     * @return their latencies, ns.
     * @throws IllegalStateException if a CAS fails or the epochs do not count them.
     */
    static Histogram casRoundTrips(final RegistryClient client, final String name, final long vm, final int warmup, final int ops)
    {
        return casRoundTrips(client, name, vm, warmup, ops, 0);
    }

    /**
     * As {@link #casRoundTrips(RegistryClient, String, long, int, int)}, {@code pauseMs} apart: with a pause the
     * registry's threads back off between them as they do between handoffs, while this process is heated
     * ({@link io.vmsched.dispatch.Idle#heat}) from each CAS's start, as a target node with a handoff in flight is.
     *
     * @param pauseMs the pause before each CAS, ms (0: back to back).
     */
    static Histogram casRoundTrips(final RegistryClient client, final String name, final long vm, final int warmup, final int ops,
        final long pauseMs)
    {
        final int self = client.register(name, "127.0.0.1:1", CAPACITY, "");
        expect(client.admit(vm), RegistryStatus.OK, "ADMIT");
        final Histogram histogram = new Histogram(3);
        long epoch = 1;
        for (int i = 0; i < warmup + ops; i++)
        {
            if (pauseMs > 0)
            {
                java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(pauseMs));
                io.vmsched.dispatch.Idle.heat(TimeUnit.MILLISECONDS.toNanos(2));
            }
            final long start = System.nanoTime();
            final RegistryClient.Ownership after = client.compareAndSet(vm, self, epoch, i + 1);
            final long took = System.nanoTime() - start;
            expect(after, RegistryStatus.OK, "CAS " + i);
            epoch = after.epoch();
            if (i >= warmup)
            {
                histogram.recordValue(took);
            }
        }
        if (epoch != 1L + warmup + ops)
        {
            throw new IllegalStateException("registry CAS: epoch " + epoch + " after " + (warmup + ops) + " CAS");
        }
        return histogram;
    }

    private static void quiet(final String line)
    {
        if (!line.contains(" is down (session ")) // the bench's own client closing at the end
        {
            System.err.println("RegistryCasLatency: " + line);
        }
    }

    private static void expect(final RegistryClient.Ownership ownership, final RegistryStatus status, final String what)
    {
        if (ownership.status() != status)
        {
            throw new IllegalStateException("registry " + what + ": " + ownership + ", expected " + status);
        }
    }

    private static void deadline(final long deadline, final String what)
    {
        if (System.nanoTime() - deadline > 0)
        {
            throw new IllegalStateException(what + " before the deadline");
        }
    }

    private static void sleep()
    {
        try
        {
            Thread.sleep(1);
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", ex);
        }
    }


}
