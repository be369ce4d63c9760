package io.vmsched.forecast;

import java.util.List;
import java.util.Locale;

/**
 * What the demand forecasts say of each host and of the cluster, for each resource (CPU in reference
 * cores, I/O in bytes a second, memory in bytes, in that order): the demand now, the highest forecast
 * over the horizon, when the demand reaches the limit at the current trend, and for the cluster how many
 * hosts of today's mean size hold the forecast peak at the target utilisation ({@link CapacityForecast}).
 * A snapshot: immutable.
 *
 * @param stepNs            the step the history was resampled to, ns.
 * @param historySteps      the steps the history holds (no forecast reaches further).
 * @param horizonSteps      the steps ahead provided for.
 * @param season            the season used, steps; 0 for none (the history held fewer than two).
 * @param targetUtilisation the share of a host the demand may take.
 * @param hosts             one row per host.
 * @param cluster           the cluster's row (host -1).
 */
public record CapacityOutlook(long stepNs, int historySteps, int horizonSteps, int season, double targetUtilisation, List<Row> hosts,
    Row cluster)
{
    /** The resources' names, in the rows' order. */
    public static final List<String> RESOURCES = List.of("cpu", "io", "memory");

    /**
     * One resource's outlook.
     *
     * @param now         the demand at the last step.
     * @param peak        the highest forecast over the horizon.
     * @param limit       what the demand may take: ceiling x capacity - reserved (for the cluster, the sum).
     * @param stepsToFull steps until the forecast reaches the limit (1: the next), or {@link CapacityForecast#NEVER}
     *                    within as many steps as the history holds (a host's own, at most historySteps).
     * @param hostsNeeded for the cluster, hosts of today's mean size that hold the peak at the target; -1 for a host.
     */
    public record Resource(double now, double peak, double limit, int stepsToFull, int hostsNeeded)
    {
    }

    /**
     * @param host      the host, -1 for the cluster.
     * @param resources by resource, in {@link #RESOURCES} order.
     */
    public record Row(int host, Resource[] resources)
    {
    }

    /** @return hosts of today's size the cluster needs over the horizon: the most any resource needs. */
    public int hostsNeeded()
    {
        int most = 0;
        for (final Resource r : cluster.resources())
        {
            most = Math.max(most, r.hostsNeeded());
        }
        return most;
    }

    /** @return the outlook as a terminal shows it: a line per host and resource, then the cluster's. */
    public String toText()
    {
        final StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "forecast: %s ahead in steps of %s (%s), target utilisation %.0f %%%n",
            duration(horizonSteps * stepNs), duration(stepNs), season > 0 ? "season " + duration(season * stepNs) :
                "no season: the history holds fewer than two", targetUtilisation * 100));
        for (final Row row : hosts)
        {
            line(sb, row);
        }
        line(sb, cluster);
        sb.append(String.format(Locale.ROOT, "hosts of today's size needed over the next %s: %d%n",
            duration(horizonSteps * stepNs), hostsNeeded()));
        return sb.toString();
    }

    private void line(final StringBuilder sb, final Row row)
    {
        sb.append(String.format(Locale.ROOT, "%-8s", row.host() < 0 ? "cluster" : "host " + row.host()));
        for (int r = 0; r < RESOURCES.size(); r++)
        {
            final Resource x = row.resources()[r];
            final double scale = r == 0 ? 1 : r == 1 ? 1e6 : 1024.0 * 1024 * 1024;
            final String unit = r == 0 ? "" : r == 1 ? " MB/s" : " GiB";
            sb.append(String.format(Locale.ROOT, "  %s %.2f->%.2f/%.2f%s full %s", RESOURCES.get(r), x.now() / scale,
                x.peak() / scale, x.limit() / scale, unit, x.stepsToFull() == CapacityForecast.NEVER ? "not within " + duration(historySteps * stepNs) :
                    "in " + duration(x.stepsToFull() * stepNs)));
        }
        sb.append('\n');
    }

    private static String duration(final long ns)
    {
        final double s = ns / 1e9;
        return s >= 3600 ? String.format(Locale.ROOT, "%.1f h", s / 3600) : s >= 60 ?
            String.format(Locale.ROOT, "%.1f min", s / 60) : String.format(Locale.ROOT, "%.0f s", s);
    }
}
