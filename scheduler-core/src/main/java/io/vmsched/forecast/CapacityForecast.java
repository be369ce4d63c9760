package io.vmsched.forecast;

/**
 * The two capacity questions a demand forecast answers, for the inventory to ask of each host's and
 * the cluster's demand of each resource:
 * <ul>
 *     <li><b>When does it run out at the current trend?</b> {@link #stepsUntilExhausted}: the first
 *     step ahead whose forecast reaches the capacity, or {@link #NEVER} if none does within the
 *     history's reach (as many steps ahead as values observed: a trend is not extrapolated further
 *     than the history it was seen on).</li>
 *     <li><b>How many hosts of size S for the next H steps at target utilisation U?</b>
 *     {@link #hostsNeeded}: {@code ceil(peak / (S · U))}, where {@code peak} is the highest forecast
 *     over steps 1 to H (with a daily season, the coming daily peak counts, not only the trend).</li>
 * </ul>
 * Both take a {@link Forecaster} that has observed the history, or the history itself and a season,
 * fitted by {@link HoltWintersForecaster} with its default grid (Holt's linear trend without a
 * season: the "current trend" is the fitted level and trend, or no trend where a trend fits the
 * history worse than none).
 * <p>
 * Pure: no threads, no clock. The forms taking a history allocate the forecaster; the forms taking a
 * forecaster allocate nothing.
 */
public final class CapacityForecast
{
    /** {@link #stepsUntilExhausted} when the forecast stays below the capacity within the history's reach. */
    public static final int NEVER = -1;

    /** Slack on the host count's division, so 6.0 / (2.0 × 1.0) is 3 hosts, not 4 by a rounding error. */
    private static final double ROUNDING_SLACK = 1e-9;

    private CapacityForecast()
    {
    }

    /**
     * Fit a forecaster to a history.
     *
     * @param history the values, oldest first.
     * @param season  the season in steps (at least 2), or 0 for none.
     * @return a {@link HoltWintersForecaster} that has observed them.
     * @throws IllegalArgumentException if the history holds a value that is not finite, or the season is 1
     *                                  or negative.
     */
    public static HoltWintersForecaster fit(final double[] history, final int season)
    {
        final HoltWintersForecaster forecaster = new HoltWintersForecaster(season);
        for (final double value : history)
        {
            forecaster.observe(value);
        }
        return forecaster;
    }

    /**
     * @param history  the demand, oldest first.
     * @param season   the season in steps (at least 2), or 0 for none.
     * @param capacity what there is of the resource.
     * @return steps until the forecast reaches the capacity (1: the next step, also when the demand is at
     * or above it already), or {@link #NEVER} within as many steps as the history holds.
     * @throws IllegalArgumentException if the history is too short (2 values, or two seasons), or the
     *                                  capacity not a finite number.
     */
    public static int stepsUntilExhausted(final double[] history, final int season, final double capacity)
    {
        return stepsUntilExhausted(fit(history, season), capacity);
    }

    /**
     * @param forecaster a forecaster that has observed the demand.
     * @param capacity   what there is of the resource.
     * @return steps until its forecast reaches the capacity (1: the next step), or {@link #NEVER} within
     * as many steps ahead as it observed values.
     * @throws IllegalArgumentException if the forecaster has too short a history, or the capacity is not
     *                                  a finite number.
     */
    public static int stepsUntilExhausted(final Forecaster forecaster, final double capacity)
    {
        if (!Double.isFinite(capacity))
        {
            throw new IllegalArgumentException("the capacity must be a finite number, got " + capacity);
        }
        final int reach = (int)Math.min(Integer.MAX_VALUE, forecaster.observed());
        for (int h = 1; h <= reach; h++)
        {
            if (forecaster.forecast(h) >= capacity)
            {
                return h;
            }
        }
        if (reach < 1)
        {
            forecaster.forecast(1); // names what is missing
        }
        return NEVER;
    }

    /**
     * @param history           the demand, oldest first.
     * @param season            the season in steps (at least 2), or 0 for none.
     * @param horizon           the steps ahead to provide for, from 1 to the history's length.
     * @param hostSize          what one host has of the resource, above 0.
     * @param targetUtilisation the share of a host the demand may take, in (0, 1].
     * @return hosts needed to hold the highest forecast over the horizon at the target; 0 if it is 0 or less.
     * @throws IllegalArgumentException if the horizon is 0 or beyond the history, the history too short for
     *                                  the season, or the size or utilisation out of range.
     */
    public static int hostsNeeded(final double[] history, final int season, final int horizon, final double hostSize,
        final double targetUtilisation)
    {
        checkHostSize(hostSize, targetUtilisation);
        return hostsNeeded(fit(history, season), horizon, hostSize, targetUtilisation);
    }

    /**
     * @param forecaster        a forecaster that has observed the demand.
     * @param horizon           the steps ahead to provide for, from 1 to the values it observed.
     * @param hostSize          what one host has of the resource, above 0.
     * @param targetUtilisation the share of a host the demand may take, in (0, 1].
     * @return hosts needed to hold the highest forecast over the horizon at the target; 0 if it is 0 or less.
     * @throws IllegalArgumentException if the horizon is 0 or beyond the history, the history too short,
     *                                  or the size or utilisation out of range.
     */
    public static int hostsNeeded(final Forecaster forecaster, final int horizon, final double hostSize,
        final double targetUtilisation)
    {
        checkHostSize(hostSize, targetUtilisation);
        final double peak = peakForecast(forecaster, horizon);
        if (!(peak > 0))
        {
            return 0;
        }
        final double hosts = Math.ceil(peak / (hostSize * targetUtilisation) - ROUNDING_SLACK);
        return hosts >= Integer.MAX_VALUE ? Integer.MAX_VALUE : Math.max(1, (int)hosts);
    }

    /**
     * @param forecaster a forecaster that has observed the demand.
     * @param horizon    the steps ahead, from 1 to the values it observed.
     * @return the highest forecast over steps 1 to {@code horizon}.
     * @throws IllegalArgumentException if the horizon is 0 or beyond the history, or the history too short.
     */
    public static double peakForecast(final Forecaster forecaster, final int horizon)
    {
        double peak = forecaster.forecast(horizon); // checks the horizon first, in one line
        for (int h = 1; h < horizon; h++)
        {
            peak = Math.max(peak, forecaster.forecast(h));
        }
        return peak;
    }

    private static void checkHostSize(final double hostSize, final double targetUtilisation)
    {
        if (!(hostSize > 0) || Double.isInfinite(hostSize))
        {
            throw new IllegalArgumentException("the host size must be a finite number above 0, got " + hostSize);
        }
        if (!(targetUtilisation > 0 && targetUtilisation <= 1))
        {
            throw new IllegalArgumentException("the target utilisation must be in (0, 1], got " + targetUtilisation);
        }
    }
}
