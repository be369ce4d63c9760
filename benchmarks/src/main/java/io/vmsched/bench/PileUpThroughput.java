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
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

/**
 * How fast the runtime spreads a pile-up, run after run: the scenario of {@code PileUpTest} (an
 * embedded {@link Cluster} with the test's host settings; balancing off while every VM is admitted on
 * host 0 with a programmed lognormal load, {@code 0.002 * exp(0.8 * N(0, 1))} cores; then balancing on)
 * timed from {@code cluster.balancing(true)} until the CV of {@code cluster.loads()} is ≤ 0.10 with
 * every VM placed and the loads summing to the programmed total.
 * <p>
 * Each run, in a fresh temporary directory deleted after it, measures: the time to CV ≤ 0.10; the
 * migrations committed in that interval and their rate (migrations / s); after the handoffs under way
 * have settled, the migrations committed in all, the aborted ones and the VMs displaced (not on host 0).
 * Then it prints p50, p90, p99 and max of the time and of the rate, and their min (HdrHistogram, 3 significant
 * digits; with 20 runs p99 is the max; a rate's low end is its min) and the mean of migrations per displaced VM.
 * <p>
 * Every wait has a deadline (60 s to CV ≤ 0.10, 60 s for the admissions to be measured, 10 s for the
 * handoffs to settle); a run that misses one is reported, left out of the percentiles, and makes the
 * exit code 1. The completion is polled every millisecond, so the times are good to about 1 ms.
 * Run i uses the loads of seed 5 + i (run 0 draws the test's loads), so runs differ, and two
 * invocations draw the same loads.
 * <p>
 * {@code java @scheduler-core/target/classes/META-INF/vmsched/jvm.options -cp benchmarks/target/benchmarks.jar
 * io.vmsched.bench.PileUpThroughput [--hosts N] [--vms N] [--runs N] [--two-hosts] [--progress]}: defaults
 * 16 hosts, 512 VMs, 20 runs; {@code --two-hosts} is 2 hosts (all VMs on host 0 of 2); {@code --progress}
 * prints the CV, the migrations and host 0's VMs every second of a run (it adds to the polling's cost).
 * Bad arguments: one line on stderr, exit code 2.
 */
public final class PileUpThroughput
{
    private static final double CV_TARGET = 0.10;
    private static final long RUN_DEADLINE_NS = 60_000_000_000L;
    private static final long MEASURED_DEADLINE_NS = 60_000_000_000L;
    private static final long SETTLE_DEADLINE_NS = 10_000_000_000L;
    private static final long POLL_NS = 1_000_000L;

    private PileUpThroughput()
    {
    }

    /** The run's settings, from the command line. */
    static final class Options
    {
        int hosts = 16;
        int vms = 512;
        int runs = 20;
        boolean twoHosts;
        boolean hostsGiven;
        boolean progress;
    }

    /** One run's figures. */
    record Run(boolean done, String missed, double seconds, long migrationsAtCv, long migrations, long aborted,
        long displaced, double finalCv)
    {
        double migrationsPerSecond()
        {
            return migrationsAtCv / seconds;
        }
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
            System.err.println("PileUpThroughput: " + ex.getMessage());
            System.exit(2);
            return;
        }
        System.out.printf(Locale.ROOT, "pile-up of %d VMs on host 0 of %d, %d runs; time from balancing on to CV <= %.2f%n",
            options.vms, options.hosts, options.runs, CV_TARGET);
        final Histogram millis = new Histogram(3); // microseconds, in fact: the time to CV <= 0.10
        final Histogram rates = new Histogram(3); // migrations per second
        double perDisplaced = 0;
        int done = 0;
        long abortedTotal = 0;
        for (int r = 0; r < options.runs; r++)
        {
            final Run run;
            try
            {
                run = run(options, 5 + r);
            }
            catch (final IOException ex)
            {
                System.err.println("PileUpThroughput: run " + r + ": " + ex);
                System.exit(1);
                return;
            }
            abortedTotal += run.aborted;
            if (!run.done)
            {
                System.out.printf(Locale.ROOT, "run %2d: MISSED %s%n", r, run.missed);
                continue;
            }
            done++;
            millis.recordValue(Math.round(run.seconds * 1e6));
            rates.recordValue(Math.round(run.migrationsPerSecond()));
            final double ratio = run.displaced == 0 ? 0 : (double)run.migrations / run.displaced;
            perDisplaced += ratio;
            System.out.printf(Locale.ROOT, "run %2d: CV <= %.2f after %7.1f ms, %5d migrations then (%,8.0f /s); settled: " +
                    "%5d migrations, %d aborted, %5d displaced VMs (%.2f a displaced VM), CV %.3f%n", r, CV_TARGET,
                run.seconds * 1e3, run.migrationsAtCv, run.migrationsPerSecond(), run.migrations, run.aborted, run.displaced,
                ratio, run.finalCv);
        }
        System.out.println();
        if (done == 0)
        {
            System.out.printf(Locale.ROOT, "no run reached CV <= %.2f within %d s%n", CV_TARGET, RUN_DEADLINE_NS / 1_000_000_000L);
            System.exit(1);
            return;
        }
        System.out.printf(Locale.ROOT, "%d of %d runs reached CV <= %.2f (%d missed the deadline); %d migrations aborted in all%n",
            done, options.runs, CV_TARGET, options.runs - done, abortedTotal);
        System.out.printf(Locale.ROOT, "time to CV <= %.2f, ms:  min %8.1f  p50 %8.1f  p90 %8.1f  p99 %8.1f  max %8.1f%n",
            CV_TARGET, millis.getMinValue() / 1e3, millis.getValueAtPercentile(50) / 1e3, millis.getValueAtPercentile(90) / 1e3,
            millis.getValueAtPercentile(99) / 1e3, millis.getMaxValue() / 1e3);
        System.out.printf(Locale.ROOT, "migrations / s:         min %8d  p50 %8d  p90 %8d  p99 %8d  max %8d%n",
            rates.getMinValue(), rates.getValueAtPercentile(50), rates.getValueAtPercentile(90), rates.getValueAtPercentile(99), rates.getMaxValue());
        System.out.printf(Locale.ROOT, "migrations per displaced VM (settled), mean over runs: %.2f%n", perDisplaced / done);
        if (done < options.runs)
        {
            System.exit(1);
        }
    }

    static Run run(final Options options, final long seed) throws IOException
    {
        final Path dir = Files.createTempDirectory("vmsched-pileup");
        try
        {
            final ClusterConfig config = ClusterConfig.of(options.hosts, dir);
            config.host.balancing = true;
            config.host.balancePeriodNs = 50_000_000L;
            config.host.samplePeriodNs = 20_000_000L;
            config.host.handoffTimeoutNs = 500_000_000L;
            config.host.scheduleCapacity = Math.max(1024, Integer.highestOneBit(options.vms - 1) << 1); // all on one host
            config.host.inboxBytes = 1 << 20;
                        final SplittableRandom random = new SplittableRandom(seed);
            try (Cluster cluster = Cluster.start(config))
            {
                cluster.balancing(false);
                double programmed = 0;
                for (long vm = 0; vm < options.vms; vm++)
                {
                    final double cores = 0.002 * Math.exp(0.8 * random.nextGaussian());
                    programmed += cores;
                    cluster.admit(0, vm, 1, new IdleGuest());
                    cluster.programLoad(vm, cores, 0, 0);
                }
                final double total = programmed;
                final int vms = options.vms;
                if (!until(MEASURED_DEADLINE_NS, () -> cluster.host(0).vmCount() == vms && cluster.load(0) >= total * (1 - 1e-9)))
                {
                    return missed("the pile-up was not measured within 60 s: host 0 has " + cluster.host(0).vmCount() +
                        " VMs, load " + cluster.load(0) + " of " + total);
                }
                final long committedBefore = cluster.migrationsCommitted();
                final long start = System.nanoTime();
                cluster.balancing(true);
                final long[] nextPrint = { start + 1_000_000_000L };
                final boolean spread = until(RUN_DEADLINE_NS, () ->
                {
                    final double[] loads = cluster.loads(); // cheap checks first: placement() copies a map
                    if (options.progress && System.nanoTime() - nextPrint[0] >= 0)
                    {
                        nextPrint[0] += 1_000_000_000L;
                        System.out.printf(Locale.ROOT, "        %5.1f s: CV %.3f, %d committed, %d aborted, %d in flight, host 0 has %d " +
                                "VMs, load sum %.4f of %.4f%n", (System.nanoTime() - start) / 1e9, ClusterStats.cv(loads),
                            cluster.migrationsCommitted() - committedBefore, cluster.migrationsAborted(), cluster.migrationsInFlight(),
                            cluster.host(0).vmCount(), Arrays.stream(loads).sum(), total);
                    }
                    return ClusterStats.cv(loads) <= CV_TARGET && Arrays.stream(loads).sum() >= total * (1 - 1e-9) &&
                        cluster.placement().size() == vms;
                });
                final long end = System.nanoTime();
                final long atCv = cluster.migrationsCommitted() - committedBefore;
                final double[] loads = cluster.loads();
                if (!spread)
                {
                    return missed(String.format(Locale.ROOT, "CV %.3f after 60 s, %d VMs placed, load %.4f of %.4f, %d migrations, " +
                            "%d aborted, %d in flight, host 0 has %d VMs", ClusterStats.cv(loads), cluster.placement().size(),
                        Arrays.stream(loads).sum(), total, atCv, cluster.migrationsAborted(), cluster.migrationsInFlight(),
                        cluster.host(0).vmCount()));
                }
                final boolean settled = until(SETTLE_DEADLINE_NS, () -> cluster.migrationsInFlight() == 0);
                final Map<Long, Integer> placement = cluster.placement();
                final long displaced = placement.values().stream().filter(h -> h != 0).count();
                final long migrations = cluster.migrationsCommitted() - committedBefore;
                if (!settled)
                {
                    return missed("CV <= 0.10 after " + (end - start) / 1_000_000 + " ms, but " + cluster.migrationsInFlight() +
                        " migrations still in flight 10 s later");
                }
                if (placement.size() != vms)
                {
                    return missed(placement.size() + " VMs placed after the handoffs settled, not " + vms);
                }
                return new Run(true, null, (end - start) / 1e9, atCv, migrations, cluster.migrationsAborted(), displaced,
                    ClusterStats.cv(cluster.loads()));
            }
        }
        finally
        {
            IoUtil.delete(dir.toFile(), true);
        }
    }

    private static Run missed(final String why)
    {
        return new Run(false, why, Double.NaN, 0, 0, 0, 0, Double.NaN);
    }

    /** Poll until the condition holds or the deadline passes; true if it held. */
    static boolean until(final long deadlineNs, final BooleanSupplier condition)
    {
        final long deadline = System.nanoTime() + deadlineNs;
        while (!condition.getAsBoolean())
        {
            if (System.nanoTime() - deadline >= 0)
            {
                return false;
            }
            LockSupport.parkNanos(POLL_NS);
        }
        return true;
    }

    static Options parse(final String[] args)
    {
        final Options options = new Options();
        for (int i = 0; i < args.length; i++)
        {
            final String arg = args[i];
            if ("--two-hosts".equals(arg))
            {
                options.twoHosts = true;
                continue;
            }
            if ("--progress".equals(arg))
            {
                options.progress = true;
                continue;
            }
            if (!arg.equals("--hosts") && !arg.equals("--vms") && !arg.equals("--runs"))
            {
                throw new IllegalArgumentException((arg.startsWith("--") ? "unknown option " : "unexpected argument ") + arg +
                    " (options: --hosts N, --vms N, --runs N, --two-hosts, --progress)");
            }
            if (i + 1 >= args.length)
            {
                throw new IllegalArgumentException(arg + " needs a value");
            }
            final String value = args[++i];
            switch (arg)
            {
                case "--hosts":
                    options.hosts = number(arg, value, 2, 4096);
                    options.hostsGiven = true;
                    break;
                case "--vms":
                    options.vms = number(arg, value, 1, 1 << 20);
                    break;
                default:
                    options.runs = number(arg, value, 1, 100_000);
                    break;
            }
        }
        if (options.twoHosts)
        {
            if (options.hostsGiven && options.hosts != 2)
            {
                throw new IllegalArgumentException("--two-hosts conflicts with --hosts " + options.hosts);
            }
            options.hosts = 2;
        }
        return options;
    }

    private static int number(final String option, final String value, final int min, final int max)
    {
        final int n;
        try
        {
            n = Integer.parseInt(value);
        }
        catch (final NumberFormatException ex)
        {
            throw new IllegalArgumentException(option + " needs a whole number, got '" + value + "'");
        }
        if (n < min || n > max)
        {
            throw new IllegalArgumentException(option + " must be in [" + min + ", " + max + "], got " + n);
        }
        return n;
    }
}
