package io.vmsched.cli;

import io.vmsched.cluster.Cluster;
import io.vmsched.cluster.ClusterConfig;
import io.vmsched.cluster.ClusterListener;
import io.vmsched.guest.PacedBurnerGuest;
import io.vmsched.metrics.CountersFile;
import io.vmsched.metrics.MetricsAgent;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;

/**
 * {@code vmsched demo}: an embedded cluster whose guests start piled on two hosts, with skewed loads
 * that swing as waves; the hosts balance by random-peer exchanges and journaled handoffs, one status
 * line a second, and a summary with where the journals are.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
    description = "Run an embedded cluster that balances skewed, changing guests by journaled migrations.")
final class DemoCommand implements Runnable
{
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Option(names = "--hosts", defaultValue = "4", description = "Hosts, 2-64 (default: ${DEFAULT-VALUE}).")
    int hosts;

    @Option(names = "--vms", defaultValue = "32", description = "Guests, 2-4096 (default: ${DEFAULT-VALUE}).")
    int vms;

    @Option(names = "--demand", description = "The guests' mean demand in all, in cores (default: a quarter core a host).")
    Double demand;

    @Option(names = "--constraints", description = "A constraints file (services and placement rules, naming the " +
        "guests 0 .. vms-1), applied once the guests are admitted; the status of each service is shown as it changes.")
    Path constraints;

    @Mixin
    final Mixins.Run run = new Mixins.Run(20);

    @Mixin
    final Mixins.MetricsEndpoint metricsEndpoint = new Mixins.MetricsEndpoint();

    @Override
    public void run()
    {
        Flags.within("--hosts", hosts, 2, 64);
        Flags.within("--vms", vms, 2, 4096);
        if (demand != null)
        {
            Flags.within("--demand", demand, 0.001, 1024);
        }
        final int durationSeconds = run.duration.seconds();
        final io.vmsched.placement.RulesText.Statements rules =
            constraints == null ? null : io.vmsched.placement.RulesText.read(constraints); // a mistake: before anything runs
        final Metrics endpoint = metricsEndpoint.start(); // a taken port: refused before the run's folder is made
        try
        {
            runCluster(durationSeconds, rules, endpoint);
        }
        finally
        {
            if (endpoint != null)
            {
                endpoint.close();
            }
        }
    }

    private void runCluster(final int durationSeconds, final io.vmsched.placement.RulesText.Statements rules,
        final Metrics endpoint)
    {
        final Path runDir = run.data.newRun("run-");

        final PrintWriter out = spec.commandLine().getOut();
        final ConcurrentLinkedQueue<String> errors = new ConcurrentLinkedQueue<>();
        final ClusterConfig config = ClusterConfig.of(hosts, runDir);
        config.host.seed = run.seed.value();
        config.host.balancePeriodNs = TimeUnit.MILLISECONDS.toNanos(400);
        config.host.samplePeriodNs = TimeUnit.MILLISECONDS.toNanos(100);
        config.host.scheduleCapacity = Integer.highestOneBit(Math.max(8, vms) * 2 - 1) * 2;
        // a guest's usage over 2 s: many small guests burn in bursts, so a shorter window measures the bursts
        config.host.smoothingWindow = 20;
        config.host.balance.thresholdFraction = 0.15;
        config.host.balance.minGainFraction = 0.03;
        final ClusterListener log = new ClusterListener()
        {
            @Override
            public void onError(final int host, final Throwable error)
            {
                errors.add("host " + host + ": " + error.getMessage());
            }

            @Override
            public void onServiceStatus(final io.vmsched.placement.ServiceStatus status)
            {
                out.println(status); // the operator's log line
                out.flush();
            }
        };
        config.listener = endpoint == null ? log : endpoint.listener(log);

        // Skewed demand: lognormal means summing to a quarter of a core per host, each swinging as a wave.
        final Random random = new Random(run.seed.value());
        final double[] rates = new double[vms];
        double sum = 0;
        for (int i = 0; i < vms; i++)
        {
            rates[i] = Math.exp(0.9 * random.nextGaussian());
            sum += rates[i];
        }
        final double total = demand != null ? demand : 0.25 * hosts;
        try (Cluster cluster = Cluster.start(config);
            CountersFile counters = CountersFile.create(runDir, 64 + 8 * hosts, 1000);
            MetricsAgent metrics = new MetricsAgent(cluster, counters, 1000, List.of(),
                line -> errors.add(line)).start())
        {
            if (endpoint != null)
            {
                endpoint.watch(cluster, java.util.stream.IntStream.range(0, hosts).toArray());
            }
            final double[] placedDemand = new double[hosts]; // each host's mean demand as admitted, in cores
            for (int i = 0; i < vms; i++)
            {
                final double rate = Math.min(0.2, rates[i] * total / sum);
                rates[i] = rate;
                placedDemand[i < vms * 3 / 4 ? 0 : 1] += rate;
                final PacedBurnerGuest guest = new PacedBurnerGuest(rate, 0.5, 4_000 + random.nextInt(8_000),
                    random.nextDouble() * 2 * Math.PI);
                cluster.admit(i < vms * 3 / 4 ? 0 : 1, i, 1, guest); // piled on two hosts
            }
            if (rules != null)
            {
                cluster.applyConstraints(rules);
            }
            out.printf(Locale.ROOT, "vmsched demo: %d hosts (1 dispatcher worker each), %d guests wanting %.2f cores " +
                "in all (this machine has %d), swinging ±50%%; all start on hosts 0 and 1%n", hosts, vms, total,
                Runtime.getRuntime().availableProcessors());
            out.printf(Locale.ROOT, "journals: %s%nlive figures: vmsched stat --data %s%s%n%n",
                runDir.resolve("journal").toAbsolutePath(), runDir.toAbsolutePath(),
                endpoint == null ? "" : "; Prometheus metrics " + endpoint.url());

            double initialCv = Double.NaN;
            double lateCvSum = 0;
            int lateCvCount = 0;
            final long start = System.nanoTime();
            for (int second = 1; second <= durationSeconds; second++)
            {
                Clock.sleepUntil(start + TimeUnit.SECONDS.toNanos(second));
                final double[] loads = cluster.loads();
                final double cv = io.vmsched.load.ClusterStats.cv(loads);
                if (second == 1)
                {
                    initialCv = cv;
                }
                if (second > durationSeconds - Math.max(1, durationSeconds / 4))
                {
                    lateCvSum += cv;
                    lateCvCount++;
                }
                final StringBuilder line = new StringBuilder();
                for (int h = 0; h < hosts; h++)
                {
                    line.append(String.format(Locale.ROOT, " %.2f(%d)", loads[h], cluster.host(h).vmCount()));
                }
                out.printf(Locale.ROOT, "t=%2ds  loads(vms)%s  cv %.2f  migrations %d / aborted %d%n", second, line, cv,
                    cluster.migrationsCommitted(), cluster.migrationsAborted());
                out.flush();
                if (rules != null)
                {
                    StatusFiles.write(runDir, cluster.status()); // what vmsched status --data shows while it runs
                }
            }
            final double finalCv = cluster.cv();
            final Map<Long, Integer> placement = cluster.placement();
            final int[] perHost = new int[hosts];
            placement.values().forEach(h -> perHost[h]++);
            final double[] demandNow = new double[hosts]; // each host's mean demand where the guests are now
            placement.forEach((vm, h) -> demandNow[h] += rates[(int)(long)vm]);
            out.printf(Locale.ROOT, "%nSummary: %d migrations committed, %d aborted; %d of %d VMs placed, per host %s%n",
                cluster.migrationsCommitted(), cluster.migrationsAborted(), placement.size(), vms,
                java.util.Arrays.toString(perHost));
            out.printf(Locale.ROOT, "CV of host loads: as placed %.2f (the guests' mean demand), first second %.2f, " +
                "last %d s on average %.2f, final %.2f; of the guests' mean demand where they are now %.2f%n",
                io.vmsched.load.ClusterStats.cv(placedDemand), initialCv, lateCvCount, lateCvSum / Math.max(1, lateCvCount),
                finalCv, io.vmsched.load.ClusterStats.cv(demandNow));
            if (rules != null)
            {
                out.printf(Locale.ROOT, "%nServices and rules (vmsched status --data %s):%n%s", runDir.toAbsolutePath(),
                    cluster.status().toText());
            }
            out.printf(Locale.ROOT, "Every step of every handoff is journaled under %s (one Chronicle Queue per host).%n",
                runDir.resolve("journal").toAbsolutePath());
        }
        for (final String error : errors)
        {
            out.println("error: " + error);
        }
        out.flush();
    }
}
