package io.vmsched.bench;

import io.vmsched.cluster.Cluster;
import io.vmsched.cluster.ClusterConfig;
import io.vmsched.guest.IdleGuest;
import io.vmsched.load.ClusterStats;
import org.HdrHistogram.Histogram;
import org.agrona.IoUtil;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.function.BooleanSupplier;

/**
 * How fast empty hosts fill in the runtime, run after run (the scale-out: a balanced cluster of
 * {@code --hosts} hosts with {@code --vms} VMs gets as many empty hosts by {@link Cluster#addHost}).
 * The VMs are admitted round-robin with programmed lognormal loads ({@code 0.002 * exp(0.8 * N(0, 1))}
 * cores, run <i>i</i> seed 5 + <i>i</i>) and idle guests; once the cluster is balanced (CV ≤ 0.10), the
 * hosts are added and the time is taken from the last join until every added host is within 10 % of the
 * mean (the time the additions take is printed apart; the first added hosts fill meanwhile), with the
 * host settings of {@code PileUpTest} (balance period 50 ms). It prints each run's time in balance
 * periods and the migrations, then p50, p90 and max (HdrHistogram).
 * <p>
 * {@code java @scheduler-core/target/classes/META-INF/vmsched/jvm.options -cp benchmarks/target/benchmarks.jar
 * io.vmsched.bench.ScaleOutThroughput [--hosts N] [--vms N] [--runs N]}: defaults 32 hosts, 2,048 VMs, 10
 * runs. Every wait has a 60 s deadline; a run that misses it is reported and makes the exit code 1.
 * Bad arguments: one line on stderr, exit code 2.
 */
public final class ScaleOutThroughput
{
    private static final long PERIOD_NS = 50_000_000L;
    private static final long DEADLINE_NS = 60_000_000_000L;
    private static boolean progress;

    private ScaleOutThroughput()
    {
    }

    /**
     * @param args the options.
     */
    public static void main(final String[] args)
    {
        int hosts = 32;
        int vms = 2048;
        int runs = 10;
        try
        {
            for (int i = 0; i < args.length; i += 2)
            {
                if (args[i].equals("--progress"))
                {
                    progress = true;
                    i--;
                    continue;
                }
                if (i + 1 >= args.length || !(args[i].equals("--hosts") || args[i].equals("--vms") || args[i].equals("--runs")))
                {
                    throw new IllegalArgumentException("unknown or incomplete option " + args[i] +
                        " (options: --hosts N, --vms N, --runs N, --progress)");
                }
                final int n;
                try
                {
                    n = Integer.parseInt(args[i + 1]);
                }
                catch (final NumberFormatException ex)
                {
                    throw new IllegalArgumentException(args[i] + " needs a whole number, got '" + args[i + 1] + "'");
                }
                if (n < 1 || (args[i].equals("--hosts") && (n < 2 || n > 2048)))
                {
                    throw new IllegalArgumentException(args[i] + " out of range: " + n);
                }
                switch (args[i])
                {
                    case "--hosts": hosts = n; break;
                    case "--vms": vms = n; break;
                    default: runs = n; break;
                }
            }
        }
        catch (final IllegalArgumentException ex)
        {
            System.err.println("ScaleOutThroughput: " + ex.getMessage());
            System.exit(2);
            return;
        }
        System.out.printf(Locale.ROOT, "%d VMs on %d balanced hosts get %d empty ones, %d runs; time until every added host " +
            "is within 10 %% of the mean (balance period %d ms)%n", vms, hosts, hosts, runs, PERIOD_NS / 1_000_000);
        final Histogram periods = new Histogram(3); // hundredths of a period
        int missed = 0;
        for (int r = 0; r < runs; r++)
        {
            try
            {
                final String line = run(hosts, vms, 5 + r, periods);
                System.out.printf(Locale.ROOT, "run %2d: %s%n", r, line);
                missed += line.startsWith("MISSED") ? 1 : 0;
            }
            catch (final IOException ex)
            {
                System.err.println("ScaleOutThroughput: run " + r + ": " + ex);
                System.exit(1);
                return;
            }
        }
        if (periods.getTotalCount() > 0)
        {
            System.out.printf(Locale.ROOT, "%n%d of %d runs filled; periods to fill: p50 %.1f  p90 %.1f  max %.1f%n",
                periods.getTotalCount(), runs, periods.getValueAtPercentile(50) / 100.0, periods.getValueAtPercentile(90) / 100.0,
                periods.getMaxValue() / 100.0);
        }
        if (missed > 0)
        {
            System.exit(1);
        }
    }

    private static String run(final int hosts, final int vms, final long seed, final Histogram periods) throws IOException
    {
        final Path dir = Files.createTempDirectory("vmsched-scaleout");
        try
        {
            final ClusterConfig config = ClusterConfig.of(hosts, dir);
            config.maxHosts = 2 * hosts;
            config.host.balancing = true;
            config.host.balancePeriodNs = PERIOD_NS;
            config.host.samplePeriodNs = 20_000_000L;
            config.host.handoffTimeoutNs = 500_000_000L;
            config.host.scheduleCapacity = Math.max(256, Integer.highestOneBit(Math.max(1, 4 * vms / hosts - 1)) << 1);
            final SplittableRandom random = new SplittableRandom(seed);
            try (Cluster cluster = Cluster.start(config))
            {
                double total = 0;
                for (long vm = 0; vm < vms; vm++)
                {
                    final double cores = 0.002 * Math.exp(0.8 * random.nextGaussian());
                    total += cores;
                    cluster.admit((int)(vm % hosts), vm, 1, new IdleGuest());
                    cluster.programLoad(vm, cores, 0, 0);
                }
                final double all = total;
                if (!until(() -> ClusterStats.cv(cluster.loads()) <= 0.10 && sum(cluster.loads()) >= all * (1 - 1e-9) &&
                    cluster.placement().size() == vms)) // cheap checks first: placement() copies a map
                {
                    return "MISSED: the first " + hosts + " hosts did not balance within 60 s (CV " +
                        ClusterStats.cv(cluster.loads()) + ")";
                }
                final long before = cluster.migrationsCommitted();
                final long adding = System.nanoTime();
                for (int h = 0; h < hosts; h++)
                {
                    cluster.addHost();
                }
                final long start = System.nanoTime(); // timed from the last join, as the simulator times it
                final double addMs = (start - adding) / 1e6;
                final long[] next = { start };
                final boolean filled = until(() ->
                {
                    if (progress && System.nanoTime() - next[0] >= 0)
                    {
                        next[0] += 5 * PERIOD_NS;
                        print(cluster, hosts, all, (System.nanoTime() - start) / (double)PERIOD_NS, cluster.migrationsCommitted() - before);
                    }
                    return addedWithinTenPercent(cluster, hosts, all) && cluster.placement().size() == vms;
                });
                final double elapsed = (System.nanoTime() - start) / (double)PERIOD_NS;
                final long migrations = cluster.migrationsCommitted() - before;
                if (!filled)
                {
                    return String.format(Locale.ROOT, "MISSED: the added hosts not within 10 %% after 60 s, CV %.3f",
                        ClusterStats.cv(cluster.loads()));
                }
                periods.recordValue(Math.round(elapsed * 100));
                return String.format(Locale.ROOT, "filled %5.1f periods (%6.0f ms) after the last join (adding took %.0f ms), " +
                    "%d migrations, CV then %.3f", elapsed, elapsed * PERIOD_NS / 1e6, addMs, migrations, ClusterStats.cv(cluster.loads()));
            }
        }
        finally
        {
            IoUtil.delete(dir.toFile(), true);
        }
    }

    /** Loads over the mean: the old hosts' and the added hosts' range, and what is in flight. */
    private static void print(final Cluster cluster, final int from, final double total, final double periods,
        final long migrations)
    {
        final double[] loads = cluster.loads();
        final double mean = total / loads.length;
        double oldMin = Double.MAX_VALUE, oldMax = 0, newMin = Double.MAX_VALUE, newMax = 0;
        for (int h = 0; h < loads.length; h++)
        {
            final double r = loads[h] / mean;
            if (h < from)
            {
                oldMin = Math.min(oldMin, r);
                oldMax = Math.max(oldMax, r);
            }
            else
            {
                newMin = Math.min(newMin, r);
                newMax = Math.max(newMax, r);
            }
        }
        System.out.printf(Locale.ROOT, "    %5.1f periods: old hosts %.2f-%.2f of the mean, added %.2f-%.2f; %d migrations, %d in " +
            "flight; host 0's estimate/in flight %s (true mean %.4f)%n", periods, oldMin, oldMax, newMin, newMax, migrations,
            cluster.migrationsInFlight(), cluster.host(0).balanceState(), mean);
    }

    private static boolean addedWithinTenPercent(final Cluster cluster, final int from, final double total)
    {
        final double[] loads = cluster.loads();
        final double mean = total / loads.length;
        for (int h = from; h < loads.length; h++)
        {
            if (!(Math.abs(loads[h] - mean) <= 0.10 * mean))
            {
                return false;
            }
        }
        return loads.length == 2 * from;
    }

    private static double sum(final double[] values)
    {
        double sum = 0;
        for (final double v : values)
        {
            sum += v;
        }
        return sum;
    }

    private static boolean until(final BooleanSupplier condition)
    {
        return PileUpThroughput.until(DEADLINE_NS, condition); // the one polling wait of the harnesses
    }
}
