package io.vmsched.cluster;

import io.vmsched.forecast.CapacityForecast;
import io.vmsched.forecast.CapacityOutlook;
import io.vmsched.forecast.HoltWintersForecaster;
import io.vmsched.journal.ChronicleJournal;
import io.vmsched.journal.LoadSnapshot;
import io.vmsched.journal.RecordType;
import io.vmsched.load.HostCapacity;
import io.vmsched.placement.Constraints;
import io.vmsched.placement.HostLimits;
import io.vmsched.placement.Inventory;
import io.vmsched.placement.Placement;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * The inventory and its forecasts read from a data directory's journals: each host's
 * {@link RecordType#LOAD_SNAPSHOT} records (a host journals one a {@code loadSnapshotPeriodNs}, with the
 * figures of {@link LoadSnapshot}) and the drains of the placement journal. Reads the journals read-only,
 * so it works on a stopped cluster's directory and beside a running one (whose last snapshot is then at
 * most a snapshot period old).
 * <p>
 * The forecasts fit {@link HoltWintersForecaster} (via {@link CapacityForecast}) to each host's and the
 * cluster's required demand of each resource, resampled to steps of a given length (the mean of the
 * snapshots in each step; a step a host journaled nothing in repeats its previous value; the cluster's
 * demand is the sum of its hosts'), with a season only where the history holds two of them.
 * <p>
 * <b>Note:</b> Immutable once read; threadsafe.
 */
public final class JournalInventory
{
    private static final int RESOURCES = 3;
    private static final int FIELDS = 5;
    /** The most steps a history is resampled to: a month of minutes. */
    public static final int MAX_STEPS = 31 * 24 * 60;

    /** One snapshot: when, VMs, the payload's figures by [resource][field], the VM maximum. */
    private record Point(long timeNs, int vms, double[][] figures, int maxVms)
    {
    }

    private final Path dataDir;
    private final int[] hosts;
    private final List<List<Point>> points;
    private final Constraints constraints;

    private JournalInventory(final Path dataDir, final int[] hosts, final List<List<Point>> points,
        final Constraints constraints)
    {
        this.dataDir = dataDir;
        this.hosts = hosts;
        this.points = points;
        this.constraints = constraints;
    }

    /**
     * @param dataDir a cluster's or a node's data directory.
     * @return its load records.
     * @throws IllegalArgumentException if it holds no journal, no load record with inventory figures, or a
     *                                  journal cannot be read.
     */
    public static JournalInventory read(final Path dataDir)
    {
        final Path journals = dataDir.resolve("journal");
        if (!Files.isDirectory(journals))
        {
            throw new IllegalArgumentException(dataDir + " holds no journals (" + journals + "): not a vmsched data directory");
        }
        final List<Integer> ids = new ArrayList<>();
        final List<List<Point>> points = new ArrayList<>();
        final LoadSnapshot snapshot = new LoadSnapshot();
        try (Stream<Path> dirs = Files.list(journals))
        {
            for (final Path dir : dirs.sorted().toList())
            {
                final String name = dir.getFileName().toString();
                if (!name.matches("\\d+"))
                {
                    continue;
                }
                final List<Point> host = new ArrayList<>();
                try (ChronicleJournal journal = ChronicleJournal.openReadOnly(dir, Integer.parseInt(name)))
                {
                    journal.replay((index, record) ->
                    {
                        if (record.type() == RecordType.LOAD_SNAPSHOT && snapshot.wrap(record).present())
                        {
                            final double[][] figures = new double[RESOURCES][FIELDS];
                            for (int r = 0; r < RESOURCES; r++)
                            {
                                for (int f = 0; f < FIELDS; f++)
                                {
                                    figures[r][f] = snapshot.get(r, f);
                                }
                            }
                            host.add(new Point(record.timestampNs(), record.aux(), figures, snapshot.maxVms()));
                        }
                    });
                }
                if (!host.isEmpty())
                {
                    ids.add(Integer.parseInt(name));
                    points.add(host);
                }
            }
        }
        catch (final IOException ex)
        {
            throw new IllegalArgumentException("cannot list " + journals + ": " + ex.getMessage());
        }
        if (ids.isEmpty())
        {
            throw new IllegalArgumentException(dataDir + " holds no load records (LOAD_SNAPSHOT with inventory figures): " +
                "a cluster must run on it for a snapshot period first");
        }
        final Path placementDir = dataDir.resolve(ClusterPlacement.DIR);
        final Constraints constraints = Files.isDirectory(placementDir) ?
            OfflineStatus.placement(placementDir, (index, record) -> { }).constraints() : new Placement().constraints();
        return new JournalInventory(dataDir, ids.stream().mapToInt(Integer::intValue).toArray(), points, constraints);
    }

    /** @return the hosts that journaled load records, ascending. */
    public int[] hosts()
    {
        return hosts.clone();
    }

    /** @return when the last load record was journaled, ns since the epoch. */
    public long lastNs()
    {
        long last = 0;
        for (final List<Point> host : points)
        {
            last = Math.max(last, host.get(host.size() - 1).timeNs());
        }
        return last;
    }

    /** @return the time the load records span, ns (from the first to the last, any host). */
    public long spanNs()
    {
        long first = Long.MAX_VALUE;
        for (final List<Point> host : points)
        {
            first = Math.min(first, host.get(0).timeNs());
        }
        return lastNs() - first;
    }

    /** @return the median time between a host's load records, ns (its snapshot period), at least 1. */
    public long snapshotPeriodNs()
    {
        final List<Long> gaps = new ArrayList<>();
        for (final List<Point> host : points)
        {
            for (int i = 1; i < host.size(); i++)
            {
                gaps.add(host.get(i).timeNs() - host.get(i - 1).timeNs());
            }
        }
        if (gaps.isEmpty())
        {
            return 1;
        }
        gaps.sort(null);
        return Math.max(1, gaps.get(gaps.size() / 2));
    }

    /**
     * The inventory as of each host's last load record.
     *
     * @param vmCpu    the VM size's CPU, reference cores.
     * @param vmIo     its I/O, bytes a second.
     * @param vmMemory its memory, bytes.
     * @return the inventory; the headroom for VMs of that size.
     * @throws IllegalArgumentException if the size is negative, not finite, or all 0.
     */
    public Inventory inventory(final double vmCpu, final double vmIo, final double vmMemory)
    {
        final List<Inventory.Row> rows = new ArrayList<>();
        final List<HostLimits> limits = new ArrayList<>();
        for (int i = 0; i < hosts.length; i++)
        {
            final List<Point> host = points.get(i);
            final Point p = host.get(host.size() - 1);
            final double[][] f = p.figures();
            final HostLimits l = new HostLimits(f[LoadSnapshot.CPU][LoadSnapshot.CEILING], f[LoadSnapshot.IO][LoadSnapshot.CEILING],
                f[LoadSnapshot.MEMORY][LoadSnapshot.CEILING], p.maxVms(), f[LoadSnapshot.CPU][LoadSnapshot.RESERVED],
                f[LoadSnapshot.IO][LoadSnapshot.RESERVED], f[LoadSnapshot.MEMORY][LoadSnapshot.RESERVED]);
            final HostCapacity capacity = new HostCapacity(f[LoadSnapshot.CPU][LoadSnapshot.CAPACITY], 1,
                f[LoadSnapshot.IO][LoadSnapshot.CAPACITY], f[LoadSnapshot.MEMORY][LoadSnapshot.CAPACITY]);
            rows.add(Inventory.row(hosts[i], capacity, l, p.vms(), column(f, LoadSnapshot.USED), column(f, LoadSnapshot.REQUIRED)));
            limits.add(l);
        }
        return Inventory.of(rows, limits, constraints, vmCpu, vmIo, vmMemory);
    }

    private static double[] column(final double[][] figures, final int field)
    {
        return new double[]{ figures[0][field], figures[1][field], figures[2][field] };
    }

    /**
     * Forecast each host's and the cluster's demand.
     *
     * @param stepNs            the step the history is resampled to, at least 1 ns.
     * @param horizonSteps      steps ahead to provide for, from 1 to the steps the history holds.
     * @param seasonSteps       a season in steps (a day's), used where the history holds two; 0 for none.
     * @param targetUtilisation the share of a host the demand may take, in (0, 1].
     * @return the forecasts.
     * @throws IllegalArgumentException if the horizon is 0 or beyond the history, or the history holds fewer
     *                                  than 2 steps.
     */
    public CapacityOutlook forecast(final long stepNs, final int horizonSteps, final int seasonSteps,
        final double targetUtilisation)
    {
        if (stepNs < 1)
        {
            throw new IllegalArgumentException("the step must be at least 1 ns, got " + stepNs);
        }
        if (!(targetUtilisation > 0 && targetUtilisation <= 1))
        {
            throw new IllegalArgumentException("the target utilisation must be in (0, 1], got " + targetUtilisation);
        }
        long first = Long.MAX_VALUE;
        for (final List<Point> host : points)
        {
            first = Math.min(first, host.get(0).timeNs());
        }
        final long span = (lastNs() - first) / stepNs + 1;
        if (span > MAX_STEPS)
        {
            throw new IllegalArgumentException("a step of " + stepNs / 1e9 + " s cuts the " + (lastNs() - first) / 1e9 +
                " s of load records into " + span + " steps: at most " + MAX_STEPS + ", take a longer step");
        }
        final int steps = (int)span;
        if (steps < 2)
        {
            throw new IllegalArgumentException("the load records of " + dataDir + " span " + steps + " step of " +
                stepNs / 1e9 + " s: a forecast needs at least 2");
        }
        if (horizonSteps < 1 || horizonSteps > steps)
        {
            throw new IllegalArgumentException("a horizon of " + horizonSteps + " steps of " + stepNs / 1e9 + " s is " +
                (horizonSteps < 1 ? "none" : "beyond the history of " + dataDir + " (" + steps + " steps): a trend is not " +
                    "extrapolated further than the history it was seen on"));
        }
        final int season = seasonSteps >= 2 && steps >= 2 * seasonSteps ? seasonSteps : 0;
        final double[][] cluster = new double[RESOURCES][steps];
        final double[] size = new double[RESOURCES];
        final List<CapacityOutlook.Row> rows = new ArrayList<>();
        for (int i = 0; i < hosts.length; i++)
        {
            final List<Point> host = points.get(i);
            final int from = (int)((host.get(0).timeNs() - first) / stepNs);
            final double[][] series = new double[RESOURCES][steps - from];
            final double[] sum = new double[RESOURCES];
            int count = 0;
            int at = 0;
            int step = from;
            for (int p = 0; p <= host.size(); p++)
            {
                final int pointStep = p < host.size() ? (int)((host.get(p).timeNs() - first) / stepNs) : steps;
                if (pointStep != step && count > 0)
                {
                    // the step ends: its mean, then repeated over the steps with no record until this one
                    for (int r = 0; r < RESOURCES; r++)
                    {
                        final double mean = sum[r] / count;
                        for (int s = step; s < pointStep; s++)
                        {
                            series[r][s - from] = mean;
                        }
                        sum[r] = 0;
                    }
                    count = 0;
                    step = pointStep;
                }
                if (p < host.size())
                {
                    final double[][] f = host.get(p).figures();
                    for (int r = 0; r < RESOURCES; r++)
                    {
                        sum[r] += f[r][LoadSnapshot.REQUIRED];
                    }
                    count++;
                    at = p;
                }
            }
            final double[][] last = host.get(at).figures();
            final CapacityOutlook.Resource[] resources = new CapacityOutlook.Resource[RESOURCES];
            for (int r = 0; r < RESOURCES; r++)
            {
                for (int s = 0; s < series[r].length; s++)
                {
                    cluster[r][from + s] += series[r][s];
                }
                final double limit = Math.max(0, last[r][LoadSnapshot.CEILING] * last[r][LoadSnapshot.CAPACITY] -
                    last[r][LoadSnapshot.RESERVED]);
                size[r] += limit;
                resources[r] = outlook(series[r], season, horizonSteps, limit, 0, targetUtilisation);
            }
            rows.add(new CapacityOutlook.Row(hosts[i], resources));
        }
        final CapacityOutlook.Resource[] total = new CapacityOutlook.Resource[RESOURCES];
        for (int r = 0; r < RESOURCES; r++)
        {
            total[r] = outlook(cluster[r], season, horizonSteps, size[r], size[r] / hosts.length, targetUtilisation);
        }
        return new CapacityOutlook(stepNs, steps, horizonSteps, season, targetUtilisation, List.copyOf(rows),
            new CapacityOutlook.Row(-1, total));
    }

    private static CapacityOutlook.Resource outlook(final double[] history, final int season, final int horizon,
        final double limit, final double hostSize, final double targetUtilisation)
    {
        final int usedSeason = history.length >= 2 * season ? season : 0;
        final int reach = Math.min(horizon, history.length);
        if (history.length < 2)
        {
            // a host that joined in the last step: no history to fit
            final double now = history.length == 0 ? 0 : history[history.length - 1];
            return new CapacityOutlook.Resource(now, now, limit, now >= limit ? 1 : CapacityForecast.NEVER, -1);
        }
        final HoltWintersForecaster forecaster = CapacityForecast.fit(history, usedSeason);
        final double peak = CapacityForecast.peakForecast(forecaster, reach);
        return new CapacityOutlook.Resource(history[history.length - 1], peak, limit,
            CapacityForecast.stepsUntilExhausted(forecaster, limit),
            hostSize > 0 ? CapacityForecast.hostsNeeded(forecaster, reach, hostSize, targetUtilisation) : -1);
    }
}
