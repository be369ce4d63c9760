package io.vmsched.bench;

import io.vmsched.cluster.ClusterConfig;
import io.vmsched.guest.PacedBurnerGuest;
import io.vmsched.journal.ChronicleJournal;
import io.vmsched.journal.JournalRecord;
import io.vmsched.journal.RecordType;
import io.vmsched.tools.History;
import io.vmsched.tools.JournalSet;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * Replay speed of the journal tools, in records per second (one op = one record):
 * <ul>
 *     <li>{@code mergedRead}: read 1,000,000 records from 4 hosts' journals in merged time order
 *     (decode, CRC32C check);</li>
 *     <li>{@code replay}: the same, applying each to a {@link History} (ownership, handoffs, loads:
 *     what replay, verify and stats do);</li>
 *     <li>{@code baselineRawTailer}: the same journals read with plain Chronicle tailers, one host
 *     after the other, no decoding: the floor the tools stand on.</li>
 * </ul>
 * The journals hold realistic traffic: admissions, then handoffs (intent, suspended with a 44-byte
 * state, received, activated, committed) and load snapshots.
 * Run: {@code java -jar benchmarks/target/benchmarks.jar ReplayBenchmark -prof gc}. The fork's heap is fixed
 * and pre-touched: on a VM whose first touch of a page costs a fault, a growing heap made the score
 * mostly a matter of when the heap stopped growing.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 3)
@Measurement(iterations = 5, time = 3)
@Fork(value = 1, jvmArgsAppend = { "-Xms4g", "-Xmx4g", "-XX:+AlwaysPreTouch" }) // a grown heap's first touches otherwise decide the score
public class ReplayBenchmark
{
    static final int RECORDS = 1_000_000;
    static final int HOSTS = 4;

    /** The journals, written once. */
    @State(Scope.Benchmark)
    public static class Journals
    {
        Path dir;

        @Setup(Level.Trial)
        public void write() throws IOException
        {
            dir = Files.createTempDirectory("vmsched-bench-replay");
            final ChronicleJournal[] journals = new ChronicleJournal[HOSTS];
            for (int h = 0; h < HOSTS; h++)
            {
                journals[h] = ChronicleJournal.open(ClusterConfig.of(HOSTS, dir).journalDir(h), h);
            }
            final byte[] kind = PacedBurnerGuest.KIND.getBytes(StandardCharsets.UTF_8);
            final byte[] state = new byte[44];
            final int vms = 64;
            final int[] owner = new int[vms];
            int written = 0;
            for (int vm = 0; vm < vms; vm++)
            {
                owner[vm] = vm % HOSTS;
                journals[owner[vm]].appendGuest(RecordType.ADMITTED, 0, vm, -1, 1, kind, state);
                written++;
            }
            long sequence = 0;
            for (int i = 0; written < RECORDS; i++)
            {
                final int vm = i % vms;
                final int source = owner[vm];
                final int target = (source + 1 + i % (HOSTS - 1)) % HOSTS;
                final long mig = JournalRecord.migrationId(source, ++sequence);
                journals[source].append(RecordType.MIGRATION_INTENT, mig, vm, target, 0, 0.5, 0.4);
                journals[source].appendGuest(RecordType.SUSPENDED, mig, vm, target, 1, kind, state);
                journals[target].appendGuest(RecordType.RECEIVED, mig, vm, source, 1, kind, state);
                journals[target].append(RecordType.ACTIVATED, mig, vm, source, 0, 0, 0);
                journals[source].append(RecordType.COMMITTED, mig, vm, target, 0, 0, 0);
                journals[i % HOSTS].append(RecordType.LOAD_SNAPSHOT, 0, -1, -1, 16, 0.5, 0);
                owner[vm] = target;
                written += 6;
            }
            for (final ChronicleJournal journal : journals)
            {
                journal.close();
            }
        }

        @TearDown(Level.Trial)
        public void delete() throws IOException
        {
            HandoffBenchmark.delete(dir);
        }
    }

    @Benchmark
    @OperationsPerInvocation(RECORDS)
    public long mergedRead(final Journals journals)
    {
        try (JournalSet set = JournalSet.open(journals.dir))
        {
            final long[] sum = { 0 };
            set.forEach((seq, host, index, record) ->
            {
                sum[0] += record.vmId();
                return true;
            });
            return sum[0];
        }
    }

    @Benchmark
    @OperationsPerInvocation(RECORDS)
    public String replay(final Journals journals)
    {
        final History history = new History();
        try (JournalSet set = JournalSet.open(journals.dir))
        {
            set.forEach(history::onRecord);
        }
        return history.finish().summary();
    }

    @Benchmark
    @OperationsPerInvocation(RECORDS)
    public long baselineRawTailer(final Journals journals)
    {
        long bytes = 0;
        for (int h = 0; h < HOSTS; h++)
        {
            try (net.openhft.chronicle.queue.ChronicleQueue queue = net.openhft.chronicle.queue.impl.single
                .SingleChronicleQueueBuilder.binary(ClusterConfig.of(HOSTS, journals.dir).journalDir(h))
                .readOnly(true).build();
                net.openhft.chronicle.queue.ExcerptTailer tailer = queue.createTailer())
            {
                while (true)
                {
                    try (net.openhft.chronicle.wire.DocumentContext dc = tailer.readingDocument())
                    {
                        if (!dc.isPresent())
                        {
                            break;
                        }
                        bytes += dc.wire().bytes().readRemaining();
                    }
                }
            }
        }
        return bytes;
    }
}
