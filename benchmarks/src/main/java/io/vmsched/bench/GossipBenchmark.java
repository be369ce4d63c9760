package io.vmsched.bench;

import io.vmsched.balance.LoadTable;
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
import org.openjdk.jmh.annotations.Warmup;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * The gossip view's per-turn costs (BalanceConfig.PeerView.GOSSIP), on a table of every host's load:
 * <ul>
 *     <li>{@code match}: an active turn's aim, {@link LoadTable#match} (a rank count and a quickselect
 *     over the table);</li>
 *     <li>{@code merge}: a quiet turn's push-pull with one contact in one process, {@link LoadTable#exchange};</li>
 *     <li>{@code baselineSum}: one pass summing the table's loads, the floor of anything that reads
 *     every figure once.</li>
 * </ul>
 * Run: {@code java -jar benchmarks/target/benchmarks.jar GossipBenchmark -prof gc}.
 */
@Fork(2)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 10, time = 1)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class GossipBenchmark
{
    /** Two hosts' tables of a cluster. */
    @State(Scope.Thread)
    public static class Tables
    {
        @Param({ "128", "1000" })
        int hosts;

        LoadTable table;
        LoadTable other;
        double[] loads;
        int self;
        long time;

        @Setup(Level.Trial)
        public void setup()
        {
            final SplittableRandom random = new SplittableRandom(5);
            table = new LoadTable();
            other = new LoadTable();
            loads = new double[hosts];
            for (int h = 0; h < hosts; h++)
            {
                loads[h] = 0.5 + 0.3 * random.nextDouble();
                table.put(h, loads[h], 10);
                other.put(h, loads[h], 10);
            }
            self = 0;
            for (int h = 1; h < hosts; h++)
            {
                self = loads[h] > loads[self] ? h : self; // the heaviest: it aims
            }
            time = 10;
        }
    }

    @Benchmark
    public int match(final Tables tables)
    {
        return tables.table.match(tables.self, 0);
    }

    @Benchmark
    public int merge(final Tables tables)
    {
        // one side has a newer figure each time, so every merge copies one figure each way
        final long t = ++tables.time;
        tables.table.put(1, 0.6, t);
        tables.other.put(2, 0.7, t);
        tables.table.exchange(tables.other);
        return tables.table.size();
    }

    @Benchmark
    public double baselineSum(final Tables tables)
    {
        double sum = 0;
        final double[] loads = tables.loads;
        for (int h = 0; h < loads.length; h++)
        {
            sum += loads[h];
        }
        return sum;
    }
}
