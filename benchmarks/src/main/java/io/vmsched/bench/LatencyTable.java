package io.vmsched.bench;

import org.HdrHistogram.Histogram;

import java.util.Locale;

/**
 * The latency mains' percentile table: one row a histogram of nanoseconds, a label then the chosen percentiles
 * and the max in µs, one decimal, each column 9 wide, so every main prints its latencies the same way
 * (percentiles, never a mean alone):
 * <pre>
 *                              p50       p90       p99       max
 * aeron ping-pong (48 B)        41.2      55.0     101.9     812.0
 * </pre>
 * {@link #millis} makes the same table in ms, for latencies of a second or so (a live migration's).
 * Instances are immutable.
 */
final class LatencyTable
{
    private final double[] percentiles;
    private final String headerFormat;
    private final String rowFormat;
    private final Object[] header;
    private final double nanosPerUnit;

    /**
     * @param labelWidth  the label column's width: labels are left-aligned and padded to it (at least 1).
     * @param percentiles the percentile columns, in order; the max follows them.
     */
    LatencyTable(final int labelWidth, final double... percentiles)
    {
        this(1e3, labelWidth, percentiles);
    }

    /**
     * The same table with its figures in ms.
     *
     * @param labelWidth  the label column's width (at least 1).
     * @param percentiles the percentile columns, in order; the max follows them.
     * @return the table.
     */
    static LatencyTable millis(final int labelWidth, final double... percentiles)
    {
        return new LatencyTable(1e6, labelWidth, percentiles);
    }

    private LatencyTable(final double nanosPerUnit, final int labelWidth, final double... percentiles)
    {
        this.nanosPerUnit = nanosPerUnit;
        if (labelWidth < 1 || percentiles.length == 0)
        {
            throw new IllegalArgumentException("a latency table needs a label width of at least 1 and a percentile, got " +
                labelWidth + " and " + percentiles.length);
        }
        this.percentiles = percentiles.clone();
        final String label = "%-" + labelWidth + "s";
        headerFormat = label + " %9s".repeat(percentiles.length + 1) + "%n";
        rowFormat = label + " %9.1f".repeat(percentiles.length + 1) + "%n";
        header = new Object[percentiles.length + 2];
        header[0] = "";
        for (int i = 0; i < percentiles.length; i++)
        {
            header[i + 1] = name(percentiles[i]);
        }
        header[percentiles.length + 1] = "max";
    }

    /** Print the header line (a blank label, then {@code p50 … max}) to standard output. */
    void printHeader()
    {
        System.out.printf(Locale.ROOT, headerFormat, header);
    }

    /**
     * Print one row to standard output, in µs (or ms, for a {@link #millis} table).
     *
     * @param label what was measured.
     * @param nanos its latencies, ns.
     */
    void printRow(final String label, final Histogram nanos)
    {
        final Object[] row = new Object[percentiles.length + 2];
        row[0] = label;
        for (int i = 0; i < percentiles.length; i++)
        {
            row[i + 1] = nanos.getValueAtPercentile(percentiles[i]) / nanosPerUnit;
        }
        row[percentiles.length + 1] = nanos.getMaxValue() / nanosPerUnit;
        System.out.printf(Locale.ROOT, rowFormat, row);
    }

    /**
     * @param nanos       latencies, ns.
     * @param percentiles the percentiles wanted, in order.
     * @return each percentile of {@code nanos} in µs, then its max in µs.
     */
    static double[] micros(final Histogram nanos, final double... percentiles)
    {
        final double[] micros = new double[percentiles.length + 1];
        for (int i = 0; i < percentiles.length; i++)
        {
            micros[i] = nanos.getValueAtPercentile(percentiles[i]) / 1e3;
        }
        micros[percentiles.length] = nanos.getMaxValue() / 1e3;
        return micros;
    }

    /** @return a percentile's column name: {@code p50}, {@code p99.9}. */
    private static String name(final double percentile)
    {
        return percentile == Math.rint(percentile) ? "p" + (long)percentile : "p" + percentile;
    }
}
