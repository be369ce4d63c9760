package io.vmsched.load;

/**
 * The imbalance figures reported everywhere (the runtime, the simulator, the CLI, the journal
 * report): coefficient of variation, max over mean, and the lower bound on the migrations that can
 * balance a set of host loads.
 * <p>
 * Threading: stateless; allocates nothing.
 */
public final class ClusterStats
{
    private ClusterStats()
    {
    }

    /**
     * Coefficient of variation: population standard deviation over mean (0 for a zero mean).
     *
     * @param values the values.
     * @return stddev / mean.
     */
    public static double cv(final double[] values)
    {
        final double mean = mean(values);
        if (mean <= 0)
        {
            return 0;
        }
        double squares = 0;
        for (final double v : values)
        {
            squares += (v - mean) * (v - mean);
        }
        return Math.sqrt(squares / values.length) / mean;
    }

    /**
     * @param values the values.
     * @return the largest over the mean (0 for a zero sum).
     */
    public static double maxOverMean(final double[] values)
    {
        double sum = 0;
        double max = 0;
        for (final double v : values)
        {
            sum += v;
            max = Math.max(max, v);
        }
        return sum == 0 ? 0 : max / (sum / values.length);
    }

    /**
     * Fewest migrations that can balance the loads: every move changes one source and one target, so
     * at least max(hosts above (1+ε)·mean, hosts below (1−ε)·mean).
     *
     * @param loads   host loads.
     * @param epsilon the tolerance around the mean.
     * @return the bound.
     */
    public static long lowerBound(final double[] loads, final double epsilon)
    {
        final double mean = mean(loads);
        long above = 0;
        long below = 0;
        for (final double v : loads)
        {
            if (v > (1 + epsilon) * mean)
            {
                above++;
            }
            else if (v < (1 - epsilon) * mean)
            {
                below++;
            }
        }
        return Math.max(above, below);
    }

    private static double mean(final double[] values)
    {
        double sum = 0;
        for (final double v : values)
        {
            sum += v;
        }
        return sum / values.length;
    }
}
