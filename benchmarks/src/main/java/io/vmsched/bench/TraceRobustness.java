package io.vmsched.bench;

import io.vmsched.balance.BalanceConfig;
import io.vmsched.sim.SimulationResult;
import io.vmsched.sim.Simulator;
import io.vmsched.sim.Traces;
import io.vmsched.sim.Workload;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * How well the random-pair trace defaults hold against greedy, day by day: each PlanetLab day given
 * runs greedy and the defaults on several seeds (the initial placement and every random choice), and
 * a row prints the averages and their ratios, meanCv / greedy's (target ≤ 1.1) and migrations /
 * greedy's (target ≤ 1), with the worst single seed's ratios beside them. Only real days: stand-ins
 * built from one day to imitate others would tune the defaults to the stand-ins.
 * <p>
 * {@code java -cp benchmarks/target/benchmarks.jar io.vmsched.bench.TraceRobustness [--seeds N]
 * [--view contacts|gossip|global] [--peer-choices N] [--threshold F] [--min-gain F] [--size-exponent F] DAY_DIR...}: the options
 * change the defaults for a comparison (the table's title says how); {@code --seeds} defaults to 5.
 * At the end it prints on how many days the target held and the mean sum of the two ratios, the
 * figure that compares two settings along their trade-off.
 */
public final class TraceRobustness
{
    private TraceRobustness()
    {
    }

    /** The run's settings, from the command line. */
    static final class Options
    {
        int seeds = 5;
        final List<Path> days = new ArrayList<>();
        final List<String> changes = new ArrayList<>();
        BalanceConfig.PeerView view;
        Integer peerChoices;
        Double threshold;
        Double minGain;
        Double sizeExponent;

        Simulator.Config config(final Simulator.Policy policy)
        {
            final Simulator.Config config = Simulator.Config.traces();
            config.policy = policy;
            if (view != null)
            {
                config.balance.view = view;
            }
            if (peerChoices != null)
            {
                config.balance.peerChoices = peerChoices;
                if (view == null && config.balance.view == BalanceConfig.PeerView.GLOBAL)
                {
                    config.balance.view = BalanceConfig.PeerView.CONTACTS; // peers contacted mean a view with contacts
                }
            }
            if (threshold != null)
            {
                config.balance.thresholdFraction = threshold;
            }
            if (minGain != null)
            {
                config.balance.minGainFraction = minGain;
            }
            if (sizeExponent != null)
            {
                config.balance.sizeExponent = sizeExponent;
            }
            return config;
        }
    }

    /**
     * @param args options, then the PlanetLab days' directories.
     */
    public static void main(final String[] args)
    {
        final Options options;
        final List<Workload> days = new ArrayList<>();
        try
        {
            options = parse(args);
            options.config(Simulator.Policy.RANDOM_PAIR).balance.validate();
            for (final Path day : options.days)
            {
                days.add(Traces.planetLab(day));
            }
        }
        catch (final IllegalArgumentException ex) // a TraceFormatException names the file and line
        {
            System.err.println("TraceRobustness: " + ex.getMessage());
            System.exit(2);
            return;
        }
        System.out.printf(Locale.ROOT, "random-pair trace defaults%s vs greedy, %d seeds a day (averages; worst seed in " +
            "brackets)%n%n", options.changes.isEmpty() ? "" : " with " + String.join(" ", options.changes), options.seeds);
        System.out.printf(Locale.ROOT, "| day | VMs | hosts | greedy meanCv | greedy migrations | defaults meanCv | " +
            "defaults migrations | meanCv ratio | migrations ratio |%n|---|---|---|---|---|---|---|---|---|%n");
        int held = 0;
        double sum = 0;
        for (int d = 0; d < days.size(); d++)
        {
            final Workload day = days.get(d);
            final Row row = row(day, options);
            final boolean holds = row.cvRatio() <= 1.1 && row.migrationRatio() <= 1.0;
            held += holds ? 1 : 0;
            sum += row.cvRatio() + row.migrationRatio();
            System.out.printf(Locale.ROOT, "| %s | %d | %d | %.4f | %,.0f | %.4f | %,.0f | %.3f (%.3f) | %.3f (%.3f)%s |%n",
                options.days.get(d).getFileName(), day.vms(), Traces.defaultHosts(day.vms()), row.greedyCv, row.greedyMigrations,
                row.pairCv, row.pairMigrations, row.cvRatio(), row.worstCvRatio, row.migrationRatio(), row.worstMigrationRatio,
                holds ? "" : " misses");
        }
        System.out.printf(Locale.ROOT, "%ntarget held on %d of %d days; meanCv ratio + migrations ratio, mean over the days: " +
            "%.3f%n", held, days.size(), sum / days.size());
    }

    static Options parse(final String[] args)
    {
        final Options options = new Options();
        for (int i = 0; i < args.length; i++)
        {
            final String arg = args[i];
            if (!arg.startsWith("--"))
            {
                options.days.add(Path.of(arg));
                continue;
            }
            if (i + 1 >= args.length)
            {
                throw new IllegalArgumentException(arg + " needs a value");
            }
            final String value = args[++i];
            switch (arg)
            {
                case "--seeds":
                    options.seeds = (int)number(arg, value, 1, 1000);
                    continue;
                case "--view":
                    options.view = BalanceConfig.PeerView.parse(value);
                    break;
                case "--peer-choices":
                    options.peerChoices = (int)number(arg, value, 1, 100_000);
                    break;
                case "--threshold":
                    options.threshold = fraction(arg, value);
                    break;
                case "--min-gain":
                    options.minGain = fraction(arg, value);
                    break;
                case "--size-exponent":
                    options.sizeExponent = fraction(arg, value);
                    break;
                default:
                    throw new IllegalArgumentException("unknown option " + arg +
                        ": expected --seeds, --view, --peer-choices, --threshold, --min-gain or --size-exponent");
            }
            options.changes.add(arg + " " + value);
        }
        if (options.days.isEmpty())
        {
            throw new IllegalArgumentException("usage: TraceRobustness [--seeds N] [--view contacts|gossip|global] " +
                "[--peer-choices N] [--threshold F] [--min-gain F] [--size-exponent F] PLANETLAB_DAY_DIR...");
        }
        return options;
    }

    private static long number(final String flag, final String text, final long min, final long max)
    {
        try
        {
            final long value = Long.parseLong(text);
            if (value < min || value > max)
            {
                throw new IllegalArgumentException(flag + " must be " + min + " to " + max + ", got " + value);
            }
            return value;
        }
        catch (final NumberFormatException ex)
        {
            throw new IllegalArgumentException(flag + " must be a whole number, got '" + text + "'");
        }
    }

    private static double fraction(final String flag, final String text)
    {
        try
        {
            final double value = Double.parseDouble(text);
            if (!(value >= 0 && value < 10))
            {
                throw new IllegalArgumentException(flag + " must be 0 to 10, got " + text);
            }
            return value;
        }
        catch (final NumberFormatException ex)
        {
            throw new IllegalArgumentException(flag + " must be a number, got '" + text + "'");
        }
    }

    /** One day's averages over the seeds, and the worst seed's ratios. */
    static final class Row
    {
        double greedyCv;
        double greedyMigrations;
        double pairCv;
        double pairMigrations;
        double worstCvRatio;
        double worstMigrationRatio;

        double cvRatio()
        {
            return pairCv / greedyCv;
        }

        double migrationRatio()
        {
            return pairMigrations / greedyMigrations;
        }
    }

    static Row row(final Workload day, final Options options)
    {
        final Row row = new Row();
        for (int seed = 1; seed <= options.seeds; seed++)
        {
            final SimulationResult greedy = run(day, options.config(Simulator.Policy.GREEDY), seed);
            final SimulationResult pair = run(day, options.config(Simulator.Policy.RANDOM_PAIR), seed);
            row.greedyCv += greedy.meanCv() / options.seeds;
            row.greedyMigrations += greedy.migrations() / (double)options.seeds;
            row.pairCv += pair.meanCv() / options.seeds;
            row.pairMigrations += pair.migrations() / (double)options.seeds;
            row.worstCvRatio = Math.max(row.worstCvRatio, pair.meanCv() / greedy.meanCv());
            row.worstMigrationRatio = Math.max(row.worstMigrationRatio, pair.migrations() / (double)greedy.migrations());
        }
        return row;
    }

    private static SimulationResult run(final Workload day, final Simulator.Config config, final int seed)
    {
        config.hosts = Traces.defaultHosts(day.vms());
        config.seed = seed;
        return new Simulator(config, day, Simulator.placement("random", day.vms(), config.hosts, seed)).run(null);
    }
}
