package io.vmsched.bench;

import io.vmsched.cluster.Cluster;
import io.vmsched.cluster.ClusterConfig;
import io.vmsched.dispatch.Guest;
import io.vmsched.dispatch.SliceContext;
import io.vmsched.journal.ChronicleJournal;
import io.vmsched.journal.RecordType;
import org.agrona.IoUtil;
import org.agrona.concurrent.YieldingIdleStrategy;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * The handoff's costs, as JMH sample-time distributions (median and p99 in the output):
 * <ul>
 *     <li>{@code journalAppend}: append one handoff record (MIGRATION_INTENT, 64 bytes) to a host's
 *     Chronicle Queue journal; {@code baselineFileChannelWrite}: the same 64 bytes appended to a plain
 *     file through a {@code FileChannel}, the standard way without a queue;</li>
 *     <li>{@code handoff}: one whole in-JVM migration between two hosts, from the request to the
 *     source's COMMITTED (intent, stop, snapshot, transfer, received, insert, activated, ack,
 *     committed: five journal records), with an empty and with a 1 MiB guest state. Its inverse is
 *     the migrations per second one pair of hosts sustains.</li>
 * </ul>
 * The host agents yield when idle (instead of the default 1 ms back-off) so the measurement is the
 * protocol's, not a parked thread's wake-up.
 * Run: {@code java -jar benchmarks/target/benchmarks.jar HandoffBenchmark -prof gc}.
 */
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class HandoffBenchmark
{
    /** A journal in a temporary directory. */
    @State(Scope.Thread)
    public static class JournalState
    {
        Path dir;
        ChronicleJournal journal;
        long migrationId;

        @Setup(Level.Trial)
        public void open() throws IOException
        {
            dir = Files.createTempDirectory("vmsched-bench-journal");
            journal = ChronicleJournal.open(dir, 0);
        }

        @TearDown(Level.Trial)
        public void close() throws IOException
        {
            journal.close();
            delete(dir);
        }
    }

    /** The baseline: the same 64 bytes written to a plain file with a FileChannel (no index, no CRC). */
    @State(Scope.Thread)
    public static class FileState
    {
        Path dir;
        java.nio.channels.FileChannel channel;
        final java.nio.ByteBuffer record = java.nio.ByteBuffer.allocateDirect(64);

        @Setup(Level.Trial)
        public void open() throws IOException
        {
            dir = Files.createTempDirectory("vmsched-bench-file");
            channel = java.nio.channels.FileChannel.open(dir.resolve("log"), java.nio.file.StandardOpenOption.CREATE,
                java.nio.file.StandardOpenOption.WRITE, java.nio.file.StandardOpenOption.APPEND);
        }

        @TearDown(Level.Trial)
        public void close() throws IOException
        {
            channel.close();
            delete(dir);
        }
    }

    /** A guest whose state is a fixed number of bytes. */
    public static final class StateGuest implements Guest
    {
        private byte[] state = new byte[0];

        /** For the registry. */
        public StateGuest()
        {
        }

        StateGuest(final int bytes)
        {
            state = new byte[bytes];
        }

        @Override
        public void runSlice(final SliceContext context)
        {
            context.idle();
        }

        @Override
        public byte[] snapshot()
        {
            return state;
        }

        @Override
        public void restore(final byte[] state)
        {
            this.state = state;
        }
    }

    /** Two hosts and one VM that goes back and forth. */
    @State(Scope.Thread)
    public static class Pair
    {
        @Param({ "0", "1048576" })
        int stateBytes;

        Path dir;
        Cluster cluster;
        int at;

        @Setup(Level.Trial)
        public void start() throws IOException
        {
            dir = Files.createTempDirectory("vmsched-bench-handoff");
            final ClusterConfig config = ClusterConfig.of(2, dir);
            config.host.balancing = false;
            config.host.inboxBytes = 16 << 20; // room for a 1 MiB state (a message may take an eighth)
            config.host.agentIdleStrategy = YieldingIdleStrategy::new;
            config.host.workers = 1;
            config.guests.register(StateGuest.class.getName(), StateGuest::new); // no reflection in the handoff
            cluster = Cluster.start(config);
            cluster.admit(0, 1, 1, new StateGuest(stateBytes));
            while (cluster.host(0).vmCount() != 1)
            {
                LockSupport.parkNanos(100_000);
            }
            at = 0;
        }

        @TearDown(Level.Trial)
        public void stop() throws IOException
        {
            cluster.close();
            delete(dir);
        }
    }

    @Benchmark
    public long journalAppend(final JournalState state)
    {
        return state.journal.append(RecordType.MIGRATION_INTENT, ++state.migrationId, 42, 1, 0, 0.5, 0.25);
    }

    @Benchmark
    public int baselineFileChannelWrite(final FileState state) throws IOException
    {
        state.record.clear();
        return state.channel.write(state.record);
    }

    @Benchmark
    public long handoff(final Pair pair)
    {
        final long before = pair.cluster.migrationsCommitted();
        final int target = 1 - pair.at;
        pair.cluster.migrate(1, target);
        while (pair.cluster.migrationsCommitted() == before || pair.cluster.migrationsInFlight() != 0)
        {
            if (pair.cluster.migrationsAborted() > 0)
            {
                throw new IllegalStateException("a benchmark handoff aborted");
            }
            Thread.onSpinWait();
        }
        pair.at = target;
        return before;
    }

    static void delete(final Path dir)
    {
        IoUtil.delete(dir.toFile(), false);
    }
}
